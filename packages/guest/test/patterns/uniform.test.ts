import { describe, expect, it } from "vitest"
import { UniformPattern } from "../../src/index.ts"
import { TestRng } from "../support/rng.ts"

describe("UniformPattern", () => {
  it("stays inside its span and fills it evenly (100k draws over 100 pages)", () => {
    const p = new UniformPattern(500, 100)
    const rng = new TestRng(7)
    const counts = new Array<number>(100).fill(0)
    let outside = 0
    for (let i = 0; i < 100_000; i++) {
      const page = p.next(rng, 0)
      if (page < 500 || page >= 600) outside++
      else counts[page - 500]++
    }
    expect(outside).toBe(0)
    const chi2 = counts.reduce((s, c) => s + (c - 1000) ** 2 / 1000, 0)
    expect(chi2).toBeLessThan(148.2) // p = 0.001 at 99 degrees of freedom
  })

  it("is deterministic: the same seed gives the same pages", () => {
    const a = new UniformPattern(0, 1 << 24)
    const b = new UniformPattern(0, 1 << 24)
    const ra = new TestRng(99)
    const rb = new TestRng(99)
    const sa = Array.from({ length: 1000 }, () => a.next(ra, 0))
    const sb = Array.from({ length: 1000 }, () => b.next(rb, 0))
    expect(sa).toEqual(sb)
    expect(new Set(sa).size).toBeGreaterThan(990)
  })

  it("a one-page span always returns that page", () => {
    const p = new UniformPattern(9, 1)
    const rng = new TestRng(3)
    for (let i = 0; i < 10; i++) expect(p.next(rng, 0)).toBe(9)
  })
})
