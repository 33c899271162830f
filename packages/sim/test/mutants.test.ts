// The mutant counterexamples in scenarios/mutants/ (written by `npm run mutants`): each passes on the
// correct kernel and fails with its mutant switched on, so a change that breaks either is caught.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { KERNEL_MUTANTS, type KernelMutant } from "@rwpsim/kernel"
import { parseScenario } from "@rwpsim/scenario"
import { runScenario } from "@rwpsim/sim"
import { describe, expect, it } from "vitest"

const dir = join(import.meta.dirname, "..", "..", "..", "scenarios", "mutants")

describe("scenarios/mutants", () => {
  it.each(Object.keys(KERNEL_MUTANTS) as KernelMutant[])(
    "%s: passes on the correct kernel, fails with the mutant",
    (m) => {
      const file = join(dir, `${m}.yaml`)
      const parsed = parseScenario(readFileSync(file, "utf8"), file)
      if (!parsed.ok) throw new Error(`${file} is invalid`)
      const good = runScenario(parsed.scenario)
      expect(good.failures, "without the mutant").toEqual([])
      const bad = runScenario(parsed.scenario, { mutants: [m] })
      expect(bad.ok, "with the mutant").toBe(false)
    }
  )
})
