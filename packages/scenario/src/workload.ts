/**
 * The `workload` section (spec "Workload runs"): guest memory, the guest's access phases, the VMM's
 * tracker and the storage tier, each with the spec's defaults; only `duration` and `memory.size`
 * are required.
 */
import * as z from "zod"
import { expected } from "./messages.ts"
import { ONLY_VALID, strict } from "./strict.ts"
import { bandwidth, duration, percentage, size } from "./values.ts"

export const BACKINGS = ["anon", "shmem", "hugetlb"] as const
export const PATTERNS = ["sequential", "uniform", "zipf", "hot_cold"] as const
export const TRACKERS = ["rwp", "uffd-wp", "idle-page", "none"] as const
export const STRATEGIES = ["hot-scan", "cold-scan"] as const
/**
 * Deliberate VMM bugs (`workload.vmm.bug`, an rwpsim extension): each breaks one thing a correct
 * VMM does, so that a scenario can show the invariant that catches it (scenarios/mutants/).
 */
export const VMM_BUGS = [
  "handler-ignores-missing",
  "handler-resolves-evicting",
  "tracker-forgets-wake",
  "tracker-skips-punch",
  "tracker-stale-scan",
  "handler-copy-wrong-offset",
  "tracker-evicts-async"
] as const
export type Backing = (typeof BACKINGS)[number]
export type Pattern = (typeof PATTERNS)[number]
export type Tracker = (typeof TRACKERS)[number]
export type Strategy = (typeof STRATEGIES)[number]
export type VmmBug = (typeof VMM_BUGS)[number]

/** The spec's defaults for everything in `workload` but `duration` and `memory.size` (canonical units). */
export const DEFAULT_WORKLOAD = {
  memory: { backing: "shmem", hugepage_size: 2 << 20, thp: false },
  /** one phase; its `duration` has no default (the last phase runs to the end) */
  phase: {
    pattern: "uniform",
    hot_set: 0.1,
    hot_share: 0.9,
    hot_shift: null,
    skew: 0.99,
    writes: 0.3,
    /** rwpsim extension: share of accesses that touch the vCPU's previous page again */
    locality: 0,
    access_ns: 1000,
    span: { start: 0, len: 1 }
  },
  vmm: {
    tracker: "rwp",
    fallback: ["uffd-wp", "idle-page", "none"],
    strategy: "hot-scan",
    interval: 1_000_000_000,
    cold_age: 1
  },
  storage: { latency: 50_000, bandwidth: 2 * (1 << 30), queue_depth: 16 },
  /** rwpsim extension: the longest a vCPU runs ahead of the others between two VMM events (ns) */
  quantum: 1_000_000
} as const

const enumOf = <const T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, { error: expected(`${what}: ${values.join(", ")}`) })
const positive = (what: string) => z.int({ error: expected(what) }).min(1, { error: expected(what) })
const positiveDuration = (what: string) =>
  duration.superRefine((_, ctx) => {
    if (ctx.value === 0) ctx.issues.push({ code: "custom", input: 0, message: `expected ${what} above 0, got 0` })
  }, ONLY_VALID)

const memory = strict(
  {
    backing: enumOf(BACKINGS, "a backing")
      .default(DEFAULT_WORKLOAD.memory.backing)
      .meta({ description: "anon, shmem or hugetlb. Default: shmem." }),
    size: size.meta({ description: "Guest memory size (a multiple of the page or huge page size). Required." }),
    hugepage_size: size.optional().meta({ description: 'hugetlb only: "2MiB" or "1GiB". Default: 2MiB.' }),
    thp: z
      .boolean({ error: expected("true or false") })
      .optional()
      .meta({ description: "anon only: transparent huge pages where aligned. Default: false." })
  },
  "a memory mapping like { backing: shmem, size: 1GiB }"
)
  .superRefine((_, ctx) => {
    const { backing, hugepage_size, thp } = ctx.value
    const issue = (path: string, message: string) =>
      ctx.issues.push({ code: "custom", input: ctx.value, path: [path], message })
    if (hugepage_size !== undefined && backing !== "hugetlb")
      issue("hugepage_size", `hugepage_size is for backing hugetlb only, not ${backing}`)
    if (hugepage_size !== undefined && hugepage_size !== 2 << 20 && hugepage_size !== 1 << 30) {
      issue("hugepage_size", `expected "2MiB" or "1GiB", got ${hugepage_size}`)
    }
    if (thp !== undefined && backing !== "anon") issue("thp", `thp is for backing anon only, not ${backing}`)
    if (ctx.value.size === 0) issue("size", "expected a memory size above 0, got 0")
  }, ONLY_VALID)
  .transform((m) => ({
    backing: m.backing,
    size: m.size,
    hugepage_size: m.hugepage_size ?? DEFAULT_WORKLOAD.memory.hugepage_size,
    thp: m.thp ?? DEFAULT_WORKLOAD.memory.thp
  }))

const hotShift = z
  .union(
    [
      z.literal("none"),
      strict(
        {
          every: positiveDuration("a shift period").meta({ description: "How often the hot set moves. Required." }),
          by: percentage.meta({ description: "How far it moves, as a share of the span. Required." })
        },
        "a shift like { every: 10s, by: 5% }"
      )
    ],
    { error: expected("none or a shift like { every: 10s, by: 5% }") }
  )
  .transform((s) => (s === "none" ? null : s))

const D = DEFAULT_WORKLOAD.phase

const span = strict(
  {
    start: percentage
      .prefault("0%")
      .meta({ description: "Where the span starts, as a share of guest memory. Default: 0%." }),
    len: percentage
      .prefault("100%")
      .meta({ description: "The span's length, as a share of guest memory. Default: 100%." })
  },
  "a span like { start: 0%, len: 100% }"
).superRefine((_, ctx) => {
  if (ctx.value.start + ctx.value.len > 1 + 1e-12) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      path: ["len"],
      message: "expected start + len to be at most 100%"
    })
  }
  if (ctx.value.len === 0)
    ctx.issues.push({ code: "custom", input: 0, path: ["len"], message: "expected a span above 0%" })
}, ONLY_VALID)

const phase = strict(
  {
    duration: positiveDuration("a phase duration").optional().meta({
      description: "How long the phase runs; the last phase may omit it and runs to the end. Default: to the end."
    }),
    pattern: enumOf(PATTERNS, "a pattern")
      .default(D.pattern)
      .meta({ description: "sequential, uniform, zipf or hot_cold. Default: uniform." }),
    hot_set: percentage.prefault("10%").meta({ description: "hot_cold: share of the span that is hot. Default: 10%." }),
    hot_share: percentage
      .prefault("90%")
      .meta({ description: "hot_cold: share of accesses that go to the hot set. Default: 90%." }),
    hot_shift: hotShift
      .prefault("none")
      .meta({ description: "hot_cold: none, or { every, by } to slide the hot set through the span. Default: none." }),
    skew: z
      .number({ error: expected("a zipf skew (a number >= 0)") })
      .min(0, { error: expected("a zipf skew (a number >= 0)") })
      .default(D.skew)
      .meta({ description: "zipf: the skew exponent. Default: 0.99." }),
    writes: percentage.prefault("30%").meta({ description: "Share of accesses that are writes. Default: 30%." }),
    locality: percentage
      .prefault("0%")
      .refine((v) => v < 1, { error: expected("a locality below 100% (some access must move on)") })
      .meta({
        description:
          "rwpsim extension, any pattern: share of accesses that touch the vCPU's previous page again " +
          "(temporal locality, as the bench's W2; the first access of a phase always draws). Default: 0%."
      }),
    access_ns: positiveDuration("an access time")
      .prefault(D.access_ns)
      .meta({ description: "Virtual time from one access to the next on a vCPU (TLB hit). Default: 1000 (ns)." }),
    span: span
      .prefault({})
      .meta({ description: "The part of guest memory the phase touches. Default: { start: 0%, len: 100% }." })
  },
  "a phase like { pattern: uniform, writes: 30% }"
)

export type Phase = z.output<typeof phase>

/** Every phase but the last needs a duration. */
function phasesWithEnds(what: string) {
  return z
    .array(phase, { error: expected(what) })
    .min(1, { error: expected(`${what} (at least one)`) })
    .superRefine((_, ctx) => {
      ctx.value.forEach((p, i) => {
        if (p.duration === undefined && i < ctx.value.length - 1) {
          ctx.issues.push({
            code: "custom",
            input: p,
            path: [i, "duration"],
            message: "required: a duration for every phase but the last"
          })
        }
      })
    }, ONLY_VALID)
}

const guest = strict(
  {
    phases: phasesWithEnds("a list of phases").prefault([{}]).meta({
      description: "The phases every vCPU runs in order. Default: one uniform phase with the defaults above."
    }),
    per_vcpu: z
      .array(phasesWithEnds("a list of phases"), { error: expected("a list of phase lists, one per vCPU") })
      .optional()
      .meta({
        description: "One list of phases per vCPU (overrides phases); as many lists as machine.vcpus. Optional."
      })
  },
  "a guest mapping like { phases: [{ pattern: zipf }] }"
)

const vmm = strict(
  {
    tracker: enumOf(TRACKERS, "a tracker").default(DEFAULT_WORKLOAD.vmm.tracker).meta({
      description: "rwp, uffd-wp, idle-page or none. Default: rwp."
    }),
    fallback: z
      .array(enumOf(TRACKERS, "a tracker"), { error: expected("a list of trackers") })
      .default([...DEFAULT_WORKLOAD.vmm.fallback])
      .meta({
        description:
          "Trackers tried in order when the probe does not offer the tracker. Default: [uffd-wp, idle-page, none]."
      }),
    strategy: enumOf(STRATEGIES, "a strategy").default(DEFAULT_WORKLOAD.vmm.strategy).meta({
      description: "rwp only: hot-scan or cold-scan. Default: hot-scan."
    }),
    interval: positiveDuration("an interval").prefault("1s").meta({
      description: "Period between the starts of successive tracker cycles. Default: 1s."
    }),
    cold_age: positive("a number of cycles (at least 1)").default(DEFAULT_WORKLOAD.vmm.cold_age).meta({
      description: "Cycles a page must go untouched before it is evicted. Default: 1."
    }),
    bug: enumOf(VMM_BUGS, "a deliberate VMM bug")
      .optional()
      .meta({
        description: `rwpsim extension, for testing the invariants: run the VMM with one deliberate bug (${VMM_BUGS.join(", ")}). Optional (a correct VMM).`
      })
  },
  "a vmm mapping like { tracker: rwp, interval: 1s }"
)

const storage = strict(
  {
    latency: duration.prefault("50us").meta({ description: "Latency of one I/O. Default: 50us." }),
    bandwidth: bandwidth.prefault("2GiB/s").meta({ description: "Transfer rate. Default: 2GiB/s." }),
    queue_depth: positive("a queue depth (at least 1)")
      .default(DEFAULT_WORKLOAD.storage.queue_depth)
      .meta({ description: "I/Os in flight at most. Default: 16." })
  },
  "a storage mapping like { latency: 50us, bandwidth: 2GiB/s }"
)

/** The `workload` section with every default filled. */
export const workload = strict(
  {
    duration: positiveDuration("a run duration").meta({ description: "Virtual time the VM runs. Required." }),
    memory: memory.meta({ description: "Guest memory. Required (for its size)." }),
    guest: guest.prefault({}).meta({ description: "The guest's access pattern. Default: one uniform phase." }),
    vmm: vmm.prefault({}).meta({ description: "The VMM's tracker. Default: rwp, hot-scan, every 1s." }),
    storage: storage
      .prefault({})
      .meta({ description: "Storage (or swap) device. Default: 50us, 2GiB/s, queue depth 16." }),
    quantum: positiveDuration("a quantum").prefault("1ms").meta({
      description:
        "rwpsim extension: the longest a vCPU runs ahead of the other vCPUs (they interleave in rounds of this length; every VMM event still cuts a round). Default: 1ms."
    })
  },
  "a workload mapping like { duration: 60s, memory: { size: 1GiB } }"
)

export type Workload = z.output<typeof workload>
