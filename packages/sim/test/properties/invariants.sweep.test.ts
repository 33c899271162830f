// The long sweep of the invariant properties (`npm run test:sweep`): the properties of
// invariants.test.ts over thousands of runs, larger guests (up to 4 vCPUs, 100 ms, 1024 pages) and
// longer hint lists. RWPSIM_SWEEP_RUNS sets the number of runs per property (default 1000: 4250
// in all, prompt_wake a quarter as many as it reads traces); FC_SEED picks fast-check's seed; a
// failure writes its file as in the default set.
import { describe, it } from "vitest"
import { assertRunProperty } from "./harness.ts"
import { promptWake } from "./prompt-wake.ts"
import { arbScriptCase, arbWorkloadCase, NO_THP } from "./runs.ts"

const runs = Number(process.env.RWPSIM_SWEEP_RUNS ?? 1000)
const testFile = import.meta.filename
const timeout = 3_600_000

describe(`invariant properties, swept (${runs} runs each)`, () => {
  it("hot-scan: all six invariants hold", { timeout }, () => {
    assertRunProperty({
      name: "the six invariants hold [rwp hot-scan, sweep]",
      arb: arbWorkloadCase({ ...NO_THP, trackers: ["rwp"], strategies: ["hot-scan"] }, 48),
      numRuns: runs,
      testFile
    })
  })

  it("cold-scan: every invariant but the race's holds", { timeout }, () => {
    assertRunProperty({
      name: "four invariants hold [rwp cold-scan, sweep]",
      arb: arbWorkloadCase({ ...NO_THP, trackers: ["rwp"], strategies: ["cold-scan"] }, 48),
      numRuns: runs,
      testFile
    })
  })

  it("fallback trackers: all six hold", { timeout }, () => {
    assertRunProperty({
      name: "the six invariants hold [fallback trackers, sweep]",
      arb: arbWorkloadCase({ ...NO_THP, trackers: ["uffd-wp", "idle-page", "none"] }, 48),
      numRuns: runs,
      testFile
    })
  })

  it("prompt_wake holds over rwp runs", { timeout }, () => {
    assertRunProperty({
      name: "prompt wake [rwp, sweep]",
      arb: arbWorkloadCase({ ...NO_THP, trackers: ["rwp"] }, 48),
      check: (run) => promptWake(run.lines!),
      trace: true,
      numRuns: Math.ceil(runs / 4),
      testFile
    })
  })

  it("generated step scripts pass under any interleaving", { timeout }, () => {
    assertRunProperty({ name: "a generated script passes [sweep]", arb: arbScriptCase(), numRuns: runs, testFile })
  })
})
