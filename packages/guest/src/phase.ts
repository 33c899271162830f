// Workload phases (scenario-format.md, "Workload runs"): every vCPU runs `phases` in order, or its own
// list from `per_vcpu`. Values arrive parsed (durations in integer ns, percentages as numbers 0..1);
// fields the scenario left out take the spec's defaults here. Only the last phase may omit its
// duration (it runs to the end); when every phase has one, the vCPU idles after the last.
import { assert } from "./assert.ts"
import { HotColdPattern } from "./patterns/hot_cold.ts"
import { withLocality } from "./patterns/locality.ts"
import type { PagePattern } from "./patterns/pattern.ts"
import { SequentialPattern } from "./patterns/sequential.ts"
import { UniformPattern } from "./patterns/uniform.ts"
import { ZipfPattern } from "./patterns/zipf.ts"

/** The access patterns of a phase. */
export type PatternName = "sequential" | "uniform" | "zipf" | "hot_cold"

/** One phase as the scenario gives it (parsed); omitted fields take the spec's defaults. */
export interface PhaseSpec {
  /** ns; only the last phase may omit it. */
  readonly duration?: number | undefined
  readonly pattern?: PatternName | undefined
  readonly hot_set?: number | undefined
  readonly hot_share?: number | undefined
  /** `every` in ns, `by` a share of the span; "none" (or absent) keeps the hot set still. */
  readonly hot_shift?: { readonly every: number; readonly by: number } | "none" | null | undefined
  readonly skew?: number | undefined
  readonly writes?: number | undefined
  /** rwpsim extension: share of accesses that touch the vCPU's previous page again (0..1). */
  readonly locality?: number | undefined
  readonly access_ns?: number | undefined
  /** Shares of guest memory: the span starts at start * pages and covers len * pages. */
  readonly span?: { readonly start?: number | undefined; readonly len?: number | undefined } | undefined
}

/** `workload.guest` as parsed: phases for every vCPU, optionally overridden per vCPU. */
export interface GuestSpec {
  readonly phases: readonly PhaseSpec[]
  readonly per_vcpu?: readonly (readonly PhaseSpec[])[] | undefined
}

/** A phase with every default applied and its span resolved to pages. */
export interface Phase {
  readonly start_ns: number
  /** Exclusive; +Infinity for a last phase without a duration. */
  readonly end_ns: number
  readonly pattern: PatternName
  readonly hot_set: number
  readonly hot_share: number
  readonly hot_shift: { readonly every_ns: number; readonly by: number } | null
  readonly skew: number
  readonly writes: number
  readonly locality: number
  readonly access_ns: number
  readonly span_first: number
  readonly span_count: number
}

/** The spec's defaults for a phase's fields. */
export const PHASE_DEFAULTS = {
  pattern: "uniform",
  hot_set: 0.1,
  hot_share: 0.9,
  skew: 0.99,
  writes: 0.3,
  locality: 0,
  access_ns: 1000,
  span_start: 0,
  span_len: 1
} as const

/** The phase list of vCPU `vcpu`: its `per_vcpu` entry when there is one, else `phases`. */
export function workloadPhases(guest: GuestSpec, vcpu: number): readonly PhaseSpec[] {
  assert(Number.isInteger(vcpu) && vcpu >= 0, `vcpu ${vcpu} is not an index`)
  const own = guest.per_vcpu?.[vcpu]
  return own ?? guest.phases
}

/** The span of a phase in pages of a guest of `guest_pages`: [first, first + count), at least one page. */
export function phaseSpan(start: number, len: number, guest_pages: number): { first: number; count: number } {
  assert(Number.isInteger(guest_pages) && guest_pages >= 1, `guest of ${guest_pages} pages`)
  assert(start >= 0 && start < 1 && len > 0 && len <= 1, `span { start: ${start}, len: ${len} } is not a share`)
  const first = Math.min(guest_pages - 1, Math.floor(start * guest_pages))
  const count = Math.max(1, Math.min(guest_pages - first, Math.floor(len * guest_pages)))
  return { first, count }
}

/** Applies defaults, lays the phases end to end from t = 0 and resolves spans against the guest size. */
export function resolvePhases(specs: readonly PhaseSpec[], guest_pages: number): Phase[] {
  const phases: Phase[] = []
  let start_ns = 0
  specs.forEach((s, i) => {
    const last = i === specs.length - 1
    assert(s.duration !== undefined || last, `phase ${i} has no duration but is not the last`)
    assert(s.duration === undefined || (Number.isInteger(s.duration) && s.duration >= 0), `phase ${i} duration`)
    const end_ns = s.duration === undefined ? Number.POSITIVE_INFINITY : start_ns + s.duration
    const access_ns = s.access_ns ?? PHASE_DEFAULTS.access_ns
    assert(Number.isInteger(access_ns) && access_ns >= 1, `phase ${i} access_ns ${access_ns} is not >= 1 ns`)
    const writes = s.writes ?? PHASE_DEFAULTS.writes
    assert(writes >= 0 && writes <= 1, `phase ${i} writes ${writes} is not in [0, 1]`)
    const locality = s.locality ?? PHASE_DEFAULTS.locality
    assert(locality >= 0 && locality < 1, `phase ${i} locality ${locality} is not in [0, 1)`)
    const shift = s.hot_shift
    const span = phaseSpan(
      s.span?.start ?? PHASE_DEFAULTS.span_start,
      s.span?.len ?? PHASE_DEFAULTS.span_len,
      guest_pages
    )
    phases.push({
      start_ns,
      end_ns,
      pattern: s.pattern ?? PHASE_DEFAULTS.pattern,
      hot_set: s.hot_set ?? PHASE_DEFAULTS.hot_set,
      hot_share: s.hot_share ?? PHASE_DEFAULTS.hot_share,
      hot_shift:
        shift === undefined || shift === null || shift === "none" ? null : { every_ns: shift.every, by: shift.by },
      skew: s.skew ?? PHASE_DEFAULTS.skew,
      writes,
      locality,
      access_ns,
      span_first: span.first,
      span_count: span.count
    })
    start_ns = end_ns
  })
  return phases
}

/** The index of the phase active at t_ns, or -1 once every phase has ended (the vCPU idles). */
export function phaseIndexAt(phases: readonly Phase[], t_ns: number): number {
  assert(t_ns >= 0, `time ${t_ns} is negative`)
  for (let i = 0; i < phases.length; i++) if (t_ns < phases[i].end_ns) return i
  return -1
}

/** The next phase boundary after t_ns (the end of the active phase), or +Infinity when none is left. */
export function nextPhaseBoundary(phases: readonly Phase[], t_ns: number): number {
  const i = phaseIndexAt(phases, t_ns)
  return i < 0 ? Number.POSITIVE_INFINITY : phases[i].end_ns
}

/** A fresh page generator for a phase, with its locality (allocates: call at set-up, not per access). */
export function makePattern(phase: Phase): PagePattern {
  return withLocality(makeBasePattern(phase), phase.locality)
}

function makeBasePattern(phase: Phase): PagePattern {
  const first = phase.span_first
  const count = phase.span_count
  switch (phase.pattern) {
    case "sequential":
      return new SequentialPattern(first, count)
    case "uniform":
      return new UniformPattern(first, count)
    case "zipf":
      return new ZipfPattern(first, count, phase.skew)
    case "hot_cold":
      return new HotColdPattern(first, count, phase.hot_set, phase.hot_share, phase.hot_shift)
  }
}
