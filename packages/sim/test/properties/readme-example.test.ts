// The README's example of the arbitraries in a user's own vitest suite ("Property testing"), kept
// here so that it runs: if it stops working, so does this test.
import { it } from "@fast-check/vitest"
import { parseScenario } from "@rwpsim/scenario"
import { arbWorkloadScenario } from "@rwpsim/scenario/testing"
import { runScenario } from "@rwpsim/sim"
import { describe, expect } from "vitest"
import { stringify } from "yaml"

describe("my tracker on shmem", () => {
  const workloads = arbWorkloadScenario({
    backings: ["shmem"],
    trackers: ["rwp"],
    strategies: ["hot-scan"],
    thp: false
  })

  it.prop([workloads], { numRuns: 10 })("hot-scan keeps every invariant", (input) => {
    const parsed = parseScenario(stringify(input), "generated.yaml")
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    expect(runScenario(parsed.scenario).failures).toEqual([])
  })
})
