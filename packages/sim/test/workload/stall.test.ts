import { describe, expect, it } from "vitest"
import { StallEpisodes } from "../../src/workload/stall.ts"

describe("StallEpisodes", () => {
  it("no episode: every percentile is 0", () => {
    expect(new StallEpisodes().percentiles([50, 99, 100])).toEqual([0, 0, 0])
  })

  it("nearest rank: p50 of 1..10 is 5, p99 is 10, max is 10", () => {
    const s = new StallEpisodes()
    for (const v of [7, 3, 10, 1, 5, 2, 9, 4, 8, 6]) s.record(v)
    expect(s.percentiles([50, 99, 100])).toEqual([5, 10, 10])
    expect(s.total()).toBe(55)
  })

  it("grows past its first buffer", () => {
    const s = new StallEpisodes()
    for (let i = 0; i < 5000; i++) s.record(i)
    expect(s.count).toBe(5000)
    expect(s.percentiles([100])).toEqual([4999])
    expect(s.percentiles([1])).toEqual([49])
  })
})
