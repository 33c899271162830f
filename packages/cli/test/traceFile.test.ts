import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fc, test } from "@fast-check/vitest"
import { afterAll, describe, expect, it } from "vitest"
import { TraceFile } from "../src/traceFile.ts"

const dir = mkdtempSync(join(tmpdir(), "rwpsim-tracefile-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex")

// lines of every size around the chunk (64 KiB), with characters of 1 to 4 UTF-8 bytes
const line = fc
  .tuple(
    fc.oneof(fc.nat({ max: 200 }), fc.integer({ min: 20_000, max: 70_000 })),
    fc.constantFrom("a", "\u00e9", "\u20ac", "\ud83d\ude00", "\ud800", '"')
  )
  .map(([n, c]) => `{"x":"${c.repeat(n)}"}\n`)

describe("TraceFile", () => {
  test.prop([fc.array(line, { maxLength: 24 })], { numRuns: 30 })(
    "the hash and the file are those of the lines, one after the other",
    (lines) => {
      const path = join(dir, "t.jsonl")
      const seen: string[] = []
      const f = new TraceFile(path, (s) => void seen.push(s))
      for (const l of lines) f.write(l)
      const all = lines.join("")
      expect(f.close()).toBe(sha256(all))
      // (Buffer.equals and ===: toEqual on megabytes takes seconds)
      expect(readFileSync(path).equals(Buffer.from(all, "utf8"))).toBe(true)
      expect(seen.length === lines.length && seen.every((l, i) => l === lines[i])).toBe(true)
      // close is idempotent
      expect(f.close()).toBe(sha256(all))
    }
  )

  it("hashes without a file too", () => {
    const f = new TraceFile(undefined)
    for (let i = 0; i < 5000; i++) f.write(`{"t":${i},"seq":${i},"ev":"e"}\n`)
    let all = ""
    for (let i = 0; i < 5000; i++) all += `{"t":${i},"seq":${i},"ev":"e"}\n`
    expect(f.close()).toBe(sha256(all))
    expect(new TraceFile(undefined).close()).toBe(sha256(""))
  })

  it("flush puts every line written so far in the file (the exit and SIGINT paths)", () => {
    const path = join(dir, "flush.jsonl")
    const f = new TraceFile(path)
    f.write('{"a":1}\n')
    f.write('{"b":2}\n')
    expect(readFileSync(path, "utf8")).toBe("")
    f.flush()
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n{"b":2}\n')
    f.flush()
    f.write('{"c":3}\n')
    expect(f.close()).toBe(sha256('{"a":1}\n{"b":2}\n{"c":3}\n'))
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n{"b":2}\n{"c":3}\n')
  })
})
