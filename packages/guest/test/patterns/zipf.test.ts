import { describe, expect, it } from "vitest"
import { ZipfPattern } from "../../src/index.ts"
import { TestRng } from "../support/rng.ts"

/** Exact Zipf probabilities of ranks 1..n for skew s. */
function zipfPmf(n: number, s: number): number[] {
  const w = Array.from({ length: n }, (_, i) => (i + 1) ** -s)
  const total = w.reduce((a, b) => a + b, 0)
  return w.map((x) => x / total)
}

function rankCounts(p: ZipfPattern, draws: number, seed: number): number[] {
  const rng = new TestRng(seed)
  const counts = new Array<number>(p.count).fill(0)
  for (let i = 0; i < draws; i++) counts[p.next(rng, 0) - p.first]++
  return counts
}

describe("ZipfPattern", () => {
  it.each([0.5, 0.99, 1, 1.5])("skew %f: the top ranks follow k^-skew (100k draws, within 4 sigma)", (s) => {
    const n = 1000
    const draws = 100_000
    const counts = rankCounts(new ZipfPattern(0, n, s), draws, 11)
    const pmf = zipfPmf(n, s)
    for (let k = 0; k < 10; k++) {
      const mean = pmf[k] * draws
      const sigma = Math.sqrt(draws * pmf[k] * (1 - pmf[k]))
      expect(Math.abs(counts[k] - mean)).toBeLessThan(4 * sigma)
    }
  })

  it("the log-log rank-frequency slope over ranks 1..64 is -skew", () => {
    const s = 0.99
    const counts = rankCounts(new ZipfPattern(0, 4096, s), 200_000, 5)
    const xs: number[] = []
    const ys: number[] = []
    for (let k = 1; k <= 64; k++) {
      xs.push(Math.log(k))
      ys.push(Math.log(counts[k - 1]))
    }
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length
    const my = ys.reduce((a, b) => a + b, 0) / ys.length
    let sxy = 0
    let sxx = 0
    for (let i = 0; i < xs.length; i++) {
      sxy += (xs[i] - mx) * (ys[i] - my)
      sxx += (xs[i] - mx) ** 2
    }
    expect(sxy / sxx).toBeCloseTo(-s, 1)
  })

  it("skew 0 is uniform over the span", () => {
    const counts = rankCounts(new ZipfPattern(0, 50, 0), 50_000, 3)
    const chi2 = counts.reduce((a, c) => a + (c - 1000) ** 2 / 1000, 0)
    expect(chi2).toBeLessThan(85.35) // p = 0.001 at 49 degrees of freedom
  })

  it("rank 1 is the span's first page and draws stay in the span", () => {
    const p = new ZipfPattern(4000, 100, 1.2)
    const rng = new TestRng(8)
    let lo = Number.POSITIVE_INFINITY
    let hi = -1
    let first = 0
    for (let i = 0; i < 20_000; i++) {
      const page = p.next(rng, 0)
      lo = Math.min(lo, page)
      hi = Math.max(hi, page)
      if (page === 4000) first++
    }
    expect(lo).toBe(4000)
    expect(hi).toBeLessThan(4100)
    expect(first / 20_000).toBeCloseTo(zipfPmf(100, 1.2)[0], 1)
  })

  it("a 16M-page span needs no table and draws from its whole range", () => {
    const n = 1 << 24
    const p = new ZipfPattern(0, n, 0.99)
    const rng = new TestRng(21)
    let deep = 0
    for (let i = 0; i < 10_000; i++) {
      const page = p.next(rng, 0)
      expect(page < n).toBe(true)
      if (page >= n / 2) deep++
    }
    // P(rank > n/2) = (H(n) - H(n/2)) / H(n) is about 4% at skew 0.99: the tail is reached
    expect(deep).toBeGreaterThan(200)
    expect(deep).toBeLessThan(800)
  })

  it("is deterministic: the same seed gives the same pages", () => {
    const a = rankCounts(new ZipfPattern(0, 300, 0.8), 5000, 77)
    const b = rankCounts(new ZipfPattern(0, 300, 0.8), 5000, 77)
    expect(a).toEqual(b)
  })

  it("a one-page span always returns that page", () => {
    const p = new ZipfPattern(12, 1, 0.99)
    const rng = new TestRng(2)
    for (let i = 0; i < 100; i++) expect(p.next(rng, 0)).toBe(12)
  })
})
