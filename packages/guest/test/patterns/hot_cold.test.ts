import { describe, expect, it } from "vitest"
import { HotColdPattern, LocalityPattern, UniformPattern } from "../../src/index.ts"
import { TestRng } from "../support/rng.ts"

/** Offset of `page` from the window start, mod the span. */
function inWindow(page: number, first: number, count: number, start: number, len: number): boolean {
  const off = (page - first - (start - first) + count) % count
  return off < len
}

describe("HotColdPattern", () => {
  it("hot_share of the accesses land in the hot set (100k draws, 90% +- 0.5%)", () => {
    const p = new HotColdPattern(1000, 10_000, 0.1, 0.9, null)
    expect(p.hot_count).toBe(1000)
    const rng = new TestRng(123)
    let hot = 0
    let outside = 0
    for (let i = 0; i < 100_000; i++) {
      const page = p.next(rng, 0)
      if (page < 1000 || page >= 11_000) outside++
      if (page >= 1000 && page < 2000) hot++
    }
    expect(outside).toBe(0)
    expect(Math.abs(hot / 100_000 - 0.9)).toBeLessThan(0.005)
  })

  it("hot and cold parts are each uniform", () => {
    const p = new HotColdPattern(0, 100, 0.2, 0.5, null)
    const rng = new TestRng(4)
    const counts = new Array<number>(100).fill(0)
    for (let i = 0; i < 100_000; i++) counts[p.next(rng, 0)]++
    // hot pages: 0.5 / 20 = 2.5% each; cold pages: 0.5 / 80 = 0.625% each
    for (let i = 0; i < 20; i++) expect(Math.abs(counts[i] - 2500)).toBeLessThan(4 * Math.sqrt(2500))
    for (let i = 20; i < 100; i++) expect(Math.abs(counts[i] - 625)).toBeLessThan(4 * Math.sqrt(625))
  })

  it("hot_shift: the window moves by `by` of the span exactly at each `every`", () => {
    const every = 10_000_000_000 // 10 s
    const p = new HotColdPattern(100, 1000, 0.1, 1, { every_ns: every, by: 0.05 })
    expect(p.hotStart(0)).toBe(100)
    expect(p.hotStart(every - 1)).toBe(100)
    expect(p.hotStart(every)).toBe(150)
    expect(p.hotStart(2 * every + 5)).toBe(200)
    expect(p.hotStart(19 * every)).toBe(100 + 950)
    expect(p.hotStart(20 * every)).toBe(100) // 20 * 5% = the whole span: wrapped
    expect(p.hotStart(every)).toBe(150) // asking for an earlier time recomputes
  })

  it("hot_shift: draws follow the window, which wraps across the span's end", () => {
    const every = 1000
    const p = new HotColdPattern(0, 100, 0.1, 1, { every_ns: every, by: 0.3 })
    const rng = new TestRng(9)
    for (const [t, start] of [
      [0, 0],
      [1000, 30],
      [3500, 90]
    ] as const) {
      let misses = 0
      const seen = new Set<number>()
      for (let i = 0; i < 2000; i++) {
        const page = p.next(rng, t)
        seen.add(page)
        if (!inWindow(page, 0, 100, start, 10)) misses++
      }
      expect(misses).toBe(0)
      expect(seen.size).toBe(10)
    }
    // a 20-page window starting at 90 (t = 2000: 2 * 45% of 100) covers 90..99 and wraps to 0..9
    const wrap = new HotColdPattern(0, 100, 0.2, 1, { every_ns: every, by: 0.45 })
    const seen = new Set<number>()
    for (let i = 0; i < 5000; i++) seen.add(wrap.next(rng, 2000))
    expect([...seen].sort((a, b) => a - b)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i),
      90,
      91,
      92,
      93,
      94,
      95,
      96,
      97,
      98,
      99
    ])
  })

  it("hot_share 0 sends everything to the cold part; hot_set 100% sends everything to the hot set", () => {
    const rng = new TestRng(5)
    const cold = new HotColdPattern(0, 100, 0.1, 0, null)
    for (let i = 0; i < 1000; i++) expect(cold.next(rng, 0)).toBeGreaterThanOrEqual(10)
    const all = new HotColdPattern(0, 10, 1, 0.3, null)
    expect(all.hot_count).toBe(10)
    for (let i = 0; i < 100; i++) expect(all.next(rng, 0)).toBeLessThan(10)
  })

  it("a tiny hot_set still has one hot page", () => {
    expect(new HotColdPattern(0, 10, 0.001, 0.9, null).hot_count).toBe(1)
    expect(new HotColdPattern(0, 10, 0, 0.9, null).hot_count).toBe(0)
  })

  it("is deterministic: the same seed gives the same pages", () => {
    const run = () => {
      const p = new HotColdPattern(0, 1 << 20, 0.15, 0.95, { every_ns: 3000, by: 0.1 })
      const rng = new TestRng(31)
      return Array.from({ length: 2000 }, (_, i) => p.next(rng, i * 7))
    }
    expect(run()).toEqual(run())
  })
})

describe("HotColdPattern, seek and draw (the burst loop's protocol)", () => {
  it("seeking when the phase time reaches seek_at_ns, then drawing, gives what next(rng, t) gives", () => {
    const a = new LocalityPattern(new HotColdPattern(0, 1000, 0.1, 0.9, { every_ns: 50, by: 0.25 }), 0.5)
    const b = new LocalityPattern(new HotColdPattern(0, 1000, 0.1, 0.9, { every_ns: 50, by: 0.25 }), 0.5)
    const ra = new TestRng(11)
    const rb = new TestRng(11)
    let seeks = 0
    for (let t = 0; t < 1000; t += 3) {
      if (t >= a.seek_at_ns) {
        a.seek(t)
        seeks++
      }
      expect(a.draw(ra)).toBe(b.next(rb, t))
    }
    // one seek per window of 50 ns after the first
    expect(seeks).toBe(19)
    expect(new UniformPattern(0, 10).seek_at_ns).toBe(Number.POSITIVE_INFINITY)
  })
})
