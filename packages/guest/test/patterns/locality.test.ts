// `locality` (an rwpsim extension of a phase): with probability p an access touches the vCPU's
// previous page again; the first access of a phase always draws; p = 0 leaves the pattern and its
// draws exactly as they were.
import { describe, expect, it } from "vitest"
import { LocalityPattern, makePattern, resolvePhases, UniformPattern, withLocality } from "../../src/index.ts"
import { TestRng } from "../support/rng.ts"

describe("LocalityPattern", () => {
  it("re-touches the previous page with probability p (87.5%, as W2), else draws from the inner pattern", () => {
    const p = new LocalityPattern(new UniformPattern(0, 1 << 20), 0.875)
    const rng = new TestRng(3)
    let prev = -1
    let repeats = 0
    const n = 200_000
    for (let i = 0; i < n; i++) {
      const page = p.next(rng, 0)
      if (page === prev) repeats++
      prev = page
    }
    // a fresh draw repeats by chance with probability 2^-20: the share is p within 4 sigma
    const sigma = Math.sqrt((0.875 * 0.125) / n)
    expect(Math.abs(repeats / n - 0.875)).toBeLessThan(4 * sigma)
  })

  it("draws the first page of a phase from the inner pattern, with the inner pattern's draws", () => {
    const a = new TestRng(9)
    const b = new TestRng(9)
    const first = new LocalityPattern(new UniformPattern(100, 50), 0.99).next(a, 0)
    expect(first).toBe(new UniformPattern(100, 50).next(b, 0))
  })

  it("locality 0 is the pattern itself: the same pages from the same stream", () => {
    const [phase] = resolvePhases([{ pattern: "hot_cold", hot_set: 0.1, hot_share: 0.9 }], 4096)
    expect(phase!.locality).toBe(0)
    const plain = makePattern(phase!)
    expect(plain).not.toBeInstanceOf(LocalityPattern)
    const inner = new UniformPattern(0, 10)
    expect(withLocality(inner, 0)).toBe(inner)
    const [local] = resolvePhases([{ pattern: "uniform", locality: 0.5 }], 4096)
    expect(makePattern(local!)).toBeInstanceOf(LocalityPattern)
  })

  it("a locality of 1 or more is refused (no access would ever move on)", () => {
    expect(() => resolvePhases([{ locality: 1 }], 16)).toThrow(/locality/)
  })
})
