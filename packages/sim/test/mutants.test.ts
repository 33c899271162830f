// The mutant counterexamples in scenarios/mutants/ (written by `npm run mutants`): each passes on the
// correct kernel and VMM and fails with its mutant switched on, as `rwpsim run FILE --mutant NAME`
// runs it, so a change that breaks either is caught. Every named mutant has one.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parseScenario, VMM_BUGS } from "@rwpsim/scenario"
import { applyMutants, MUTANT_NAMES, runScenario } from "@rwpsim/sim"
import { describe, expect, it } from "vitest"

const dir = join(import.meta.dirname, "..", "..", "..", "scenarios", "mutants")

function load(m: string) {
  const file = join(dir, `${m}.yaml`)
  const parsed = parseScenario(readFileSync(file, "utf8"), file)
  if (!parsed.ok) throw new Error(`${file} is invalid`)
  return parsed.scenario
}

describe("scenarios/mutants", () => {
  it("at least ten mutants, kernel and VMM", () => {
    expect(MUTANT_NAMES.length).toBeGreaterThanOrEqual(10)
    expect(VMM_BUGS).toContain("handler-copy-wrong-offset")
    expect(VMM_BUGS).toContain("tracker-evicts-async")
  })

  it.each(MUTANT_NAMES)("%s: passes on the correct model, fails with the mutant", (m) => {
    const scenario = load(m)
    const good = runScenario(scenario)
    expect(good.failures, "without the mutant").toEqual([])
    const mutated = applyMutants(scenario, [m])
    if (!mutated.ok) throw new Error(mutated.message)
    const bad = runScenario(mutated.scenario, { mutants: mutated.kernel })
    expect(bad.ok, "with the mutant").toBe(false)
    // a VMM counterexample is the correct VMM's scenario: the bug comes from --mutant only
    expect(scenario.workload?.vmm.bug).toBeUndefined()
  })
})
