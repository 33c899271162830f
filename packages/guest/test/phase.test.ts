import { describe, expect, it } from "vitest"
import {
  AssertionError,
  HotColdPattern,
  makePattern,
  nextPhaseBoundary,
  PHASE_DEFAULTS,
  phaseIndexAt,
  phaseSpan,
  resolvePhases,
  SequentialPattern,
  UniformPattern,
  workloadPhases,
  ZipfPattern
} from "../src/index.ts"

const S = 1_000_000_000

describe("phases", () => {
  it("lay end to end from t = 0; a last phase without duration runs to the end", () => {
    const ph = resolvePhases([{ duration: 30 * S }, { duration: 10 * S }, { pattern: "zipf" }], 1000)
    expect(ph.map((p) => [p.start_ns, p.end_ns])).toEqual([
      [0, 30 * S],
      [30 * S, 40 * S],
      [40 * S, Number.POSITIVE_INFINITY]
    ])
    expect(phaseIndexAt(ph, 0)).toBe(0)
    expect(phaseIndexAt(ph, 30 * S - 1)).toBe(0)
    expect(phaseIndexAt(ph, 30 * S)).toBe(1)
    expect(phaseIndexAt(ph, 1000 * S)).toBe(2)
    expect(nextPhaseBoundary(ph, 5)).toBe(30 * S)
    expect(nextPhaseBoundary(ph, 35 * S)).toBe(40 * S)
    expect(nextPhaseBoundary(ph, 41 * S)).toBe(Number.POSITIVE_INFINITY)
  })

  it("when every phase has a duration the vCPU idles after the last (index -1)", () => {
    const ph = resolvePhases([{ duration: 100 }, { duration: 50 }], 10)
    expect(phaseIndexAt(ph, 149)).toBe(1)
    expect(phaseIndexAt(ph, 150)).toBe(-1)
    expect(nextPhaseBoundary(ph, 150)).toBe(Number.POSITIVE_INFINITY)
  })

  it("a zero-length phase is skipped", () => {
    const ph = resolvePhases([{ duration: 0, pattern: "zipf" }, { pattern: "sequential" }], 10)
    expect(phaseIndexAt(ph, 0)).toBe(1)
  })

  it("only the last phase may omit its duration", () => {
    expect(() => resolvePhases([{}, { duration: 5 }], 10)).toThrow(AssertionError)
  })

  it("fields left out take the spec's defaults", () => {
    const [p] = resolvePhases([{}], 1000)
    expect(p.pattern).toBe(PHASE_DEFAULTS.pattern)
    expect(p.hot_set).toBe(0.1)
    expect(p.hot_share).toBe(0.9)
    expect(p.hot_shift).toBeNull()
    expect(p.skew).toBe(0.99)
    expect(p.writes).toBe(0.3)
    expect(p.access_ns).toBe(1000)
    expect([p.span_first, p.span_count]).toEqual([0, 1000])
  })

  it("hot_shift: none and a { every, by } object both resolve", () => {
    const [a, b] = resolvePhases([{ duration: 1, hot_shift: "none" }, { hot_shift: { every: 3 * S, by: 0.1 } }], 10)
    expect(a.hot_shift).toBeNull()
    expect(b.hot_shift).toEqual({ every_ns: 3 * S, by: 0.1 })
  })

  it("spans are shares of guest memory, rounded down, clamped to it, at least one page", () => {
    expect(phaseSpan(0, 1, 1000)).toEqual({ first: 0, count: 1000 })
    expect(phaseSpan(0.25, 0.5, 1000)).toEqual({ first: 250, count: 500 })
    expect(phaseSpan(0.1, 0.1, 32_768)).toEqual({ first: 3276, count: 3276 })
    expect(phaseSpan(0.9, 0.5, 1000)).toEqual({ first: 900, count: 100 })
    expect(phaseSpan(0, 0.0001, 100)).toEqual({ first: 0, count: 1 })
    expect(() => phaseSpan(0, 0, 100)).toThrow(AssertionError)
  })

  it("per_vcpu overrides phases for the vCPUs it lists", () => {
    const shared = [{ pattern: "uniform" as const }]
    const own = [{ pattern: "zipf" as const }]
    expect(workloadPhases({ phases: shared }, 3)).toBe(shared)
    expect(workloadPhases({ phases: shared, per_vcpu: [own] }, 0)).toBe(own)
    expect(workloadPhases({ phases: shared, per_vcpu: [own] }, 1)).toBe(shared)
  })

  it("makePattern builds the phase's pattern over its span", () => {
    const ph = resolvePhases(
      [
        { duration: 1, pattern: "sequential", span: { start: 0.5, len: 0.5 } },
        { duration: 1, pattern: "uniform" },
        { duration: 1, pattern: "zipf", skew: 1.2 },
        { pattern: "hot_cold", hot_set: 0.2 }
      ],
      100
    )
    const pats = ph.map(makePattern)
    expect(pats[0]).toBeInstanceOf(SequentialPattern)
    expect((pats[0] as SequentialPattern).first).toBe(50)
    expect(pats[1]).toBeInstanceOf(UniformPattern)
    expect(pats[2]).toBeInstanceOf(ZipfPattern)
    expect((pats[2] as ZipfPattern).skew).toBe(1.2)
    expect(pats[3]).toBeInstanceOf(HotColdPattern)
    expect((pats[3] as HotColdPattern).hot_count).toBe(20)
  })
})
