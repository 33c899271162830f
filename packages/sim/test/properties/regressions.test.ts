// Counterexamples the properties found, kept once the bug they showed was fixed: each file is what
// the harness wrote (the shrunk run, its scheduler choices pinned), and must now pass. known/ holds
// those of bugs still open: each must still fail (when one passes, move it to regressions/ and let
// the properties draw what it covers again).
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runText } from "./harness.ts"

const dir = join(import.meta.dirname, "regressions")
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"))

describe("properties' regressions", () => {
  it.each(files)("%s passes", (f) => {
    const { result } = runText(readFileSync(join(dir, f), "utf8"))
    expect(result.failures).toEqual([])
  })
})
