// The access bench's fixture (npm run bench, W1 and W2) through the real packages: its counts over
// the first two tracker cycles equal the C reference's (bench/ref.c: `./ref 2000000` and
// `./ref 2000000 loc`), and the checker that runs along finds nothing.
import { describe, expect, it } from "vitest"
import { ACCESS_BENCH_DEFAULTS, prepareAccessBench } from "../../src/index.ts"

describe("prepareAccessBench", () => {
  it("W1: the C reference's counts after 2M accesses", () => {
    const r = prepareAccessBench({ ...ACCESS_BENCH_DEFAULTS, workload: "W1", accesses: 2_000_000 }).run()
    expect(r).toMatchObject({
      accesses: 2_000_000,
      bursts: 2000,
      rwp_faults: 114365,
      missing_faults: 284460,
      tlb_hits: 975,
      tlb_misses: 1999025,
      cold_per_cycle: [0, 85035],
      violations: 0,
      data_loss: 0
    })
  })

  it("W2: the C reference's counts after 2M accesses", () => {
    const r = prepareAccessBench({ ...ACCESS_BENCH_DEFAULTS, workload: "W2", accesses: 2_000_000 }).run()
    expect(r).toMatchObject({
      rwp_faults: 46021,
      missing_faults: 117394,
      tlb_hits: 1748848,
      tlb_misses: 251152,
      cold_per_cycle: [0, 35768],
      violations: 0,
      data_loss: 0
    })
  })

  it("refuses a schedule that does not fall on burst boundaries", () => {
    expect(() => prepareAccessBench({ ...ACCESS_BENCH_DEFAULTS, workload: "W1", accesses: 1500 })).toThrow(/multiples/)
  })
})
