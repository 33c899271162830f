import fc from "fast-check"
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

  it("the percentiles and the total are those of a sort of every episode, however they arrive", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 12_000 }),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }),
        (lengths, ps) => {
          const s = new StallEpisodes()
          for (const v of lengths) s.record(v * 1000)
          const sorted = lengths.map((v) => v * 1000).sort((a, b) => a - b)
          const n = sorted.length
          const want = ps.map((p) => (n === 0 ? 0 : sorted[Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1]!))
          expect(s.percentiles(ps)).toEqual(want)
          expect(s.total()).toBe(sorted.reduce((a, b) => a + b, 0))
          expect(s.count).toBe(n)
        }
      ),
      { numRuns: 60 }
    )
  })

  it("keeps the distinct lengths, not every episode: a million episodes of 300 lengths hold a few KiB", () => {
    const s = new StallEpisodes()
    const all = new Float64Array(1_000_000)
    for (let i = 0; i < all.length; i++) {
      all[i] = ((i * 7919) % 300) * 100
      s.record(all[i]!)
    }
    all.sort()
    expect(s.percentiles([50, 99, 100])).toEqual([all[499_999], all[989_999], 29_900])
    expect(s.bytes()).toBeLessThan(64 * 1024) // a Float64 per episode was 8 MB
  })
})
