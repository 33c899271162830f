import { describe, expect, it } from "vitest"
import { AssertionError, drawBelow, drawUnit, int31AcceptMax, u32Threshold } from "../src/index.ts"
import { ScriptedRng, TestRng } from "./support/rng.ts"

describe("random", () => {
  it("int31AcceptMax rejects the partial last bucket of 2^31", () => {
    expect(int31AcceptMax(1)).toBe(0x7fffffff)
    expect(int31AcceptMax(1 << 20)).toBe(0x7fffffff) // a power of two divides 2^31: nothing rejected
    expect(int31AcceptMax(3)).toBe(0x7fffffff - 2) // 2^31 mod 3 = 2
    expect((int31AcceptMax(1000) + 1) % 1000).toBe(0)
  })

  it("drawBelow redraws a word above accept_max instead of folding it (unbiased)", () => {
    // 0xffffffff >>> 1 = 2^31 - 1 lies in the partial bucket for 3 and is rejected; 5 >>> 1 = 2 is taken
    const rng = new ScriptedRng([0xffffffff, 5])
    expect(drawBelow(rng, 3, int31AcceptMax(3))).toBe(2)
    expect(rng.used).toBe(2)
  })

  it("drawBelow covers [0, count) evenly (chi-square, 7 buckets, 70k draws)", () => {
    const rng = new TestRng(42)
    const counts = new Array<number>(7).fill(0)
    const accept = int31AcceptMax(7)
    for (let i = 0; i < 70_000; i++) counts[drawBelow(rng, 7, accept)]++
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0)
    expect(chi2).toBeLessThan(22.46) // p = 0.001 at 6 degrees of freedom
  })

  it("u32Threshold maps 0 to never and 1 to always", () => {
    expect(u32Threshold(0)).toBe(0)
    expect(u32Threshold(1)).toBe(2 ** 32)
    expect(0xffffffff < u32Threshold(1)).toBe(true)
    expect(0 < u32Threshold(0)).toBe(false)
    expect(u32Threshold(0.5)).toBe(2 ** 31)
    expect(() => u32Threshold(1.5)).toThrow(AssertionError)
  })

  it("drawUnit stays in [0, 1)", () => {
    expect(drawUnit(new ScriptedRng([0]))).toBe(0)
    const top = drawUnit(new ScriptedRng([0xffffffff]))
    expect(top).toBeLessThan(1)
    expect(top).toBeGreaterThan(0.999999999)
  })
})
