// The bounded, fast set of invariant properties (`npm test`): over random seeds, arches, page
// sizes, backings, trackers, strategies, guest patterns and interleavings (the scheduler's choices,
// shrunk as part of the case), every run keeps the six invariants of the spec; cold-scan runs keep
// the four its race does not touch. A failure names the fast-check seed and path, writes the
// shrunk run to .rwpsim-failures/ with its choices pinned, and prints the command that replays it.
// The long version is invariants.sweep.test.ts (`npm run test:sweep`).
import { describe, it } from "vitest"
import { assertRunProperty } from "./harness.ts"
import { promptWake } from "./prompt-wake.ts"
import { arbScriptCase, arbWorkloadCase, invariantsProperty, SMALL } from "./runs.ts"

const testFile = import.meta.filename

describe("invariant properties over whole runs", () => {
  it("hot-scan: all six invariants hold", { timeout: 60_000 }, () => {
    assertRunProperty(
      invariantsProperty(
        "the six invariants hold [rwp hot-scan]",
        { ...SMALL, trackers: ["rwp"], strategies: ["hot-scan"] },
        40,
        { testFile }
      )
    )
  })

  it("cold-scan: every invariant but the race's (no_data_loss, accounting) holds", { timeout: 60_000 }, () => {
    assertRunProperty(
      invariantsProperty(
        "four invariants hold [rwp cold-scan]",
        { ...SMALL, trackers: ["rwp"], strategies: ["cold-scan"] },
        25,
        { testFile }
      )
    )
  })

  it("fallback trackers (uffd-wp, idle-page, none): all six hold", { timeout: 60_000 }, () => {
    assertRunProperty(
      invariantsProperty(
        "the six invariants hold [fallback trackers]",
        { ...SMALL, trackers: ["uffd-wp", "idle-page", "none"] },
        20,
        { testFile }
      )
    )
  })

  it("prompt_wake: a vCPU blocked on a page under eviction is released by its range's UFFDIO_WAKE", {
    timeout: 60_000
  }, () => {
    assertRunProperty({
      name: "prompt wake [rwp]",
      arb: arbWorkloadCase({ ...SMALL, trackers: ["rwp"] }),
      check: (run) => promptWake(run.lines!),
      trace: true,
      numRuns: 15,
      testFile
    })
  })

  it("generated step scripts pass under any interleaving of woken vCPUs", { timeout: 60_000 }, () => {
    assertRunProperty({ name: "a generated script passes", arb: arbScriptCase(), numRuns: 60, testFile })
  })
})
