import { describe, expect, it } from "vitest"
import { AssertionError, SequentialPattern } from "../../src/index.ts"
import { CountingRng, TestRng } from "../support/rng.ts"

describe("SequentialPattern", () => {
  it("walks the span in order and wraps to its first page", () => {
    const p = new SequentialPattern(10, 3)
    const rng = new TestRng(1)
    expect(Array.from({ length: 7 }, () => p.next(rng, 0))).toEqual([10, 11, 12, 10, 11, 12, 10])
  })

  it("starts at a given offset and still wraps inside the span", () => {
    const p = new SequentialPattern(100, 4, 3)
    const rng = new TestRng(1)
    expect(Array.from({ length: 5 }, () => p.next(rng, 0))).toEqual([103, 100, 101, 102, 103])
  })

  it("draws nothing from the PRNG", () => {
    const rng = new CountingRng(new TestRng(1))
    const p = new SequentialPattern(0, 5)
    for (let i = 0; i < 20; i++) p.next(rng, i)
    expect(rng.draws).toBe(0)
  })

  it("rejects an empty span", () => {
    expect(() => new SequentialPattern(0, 0)).toThrow(AssertionError)
  })
})
