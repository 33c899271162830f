/**
 * fast-check arbitraries of scenarios as users write them (input form), valid by construction:
 * every value uses one of its accepted spellings, names are declared before use and vCPU numbers
 * fit the machine. A first, modest version: script ops cover setup, accesses, protects and scans.
 */
import fc from "fast-check"
import type { ScenarioInput } from "../schema.ts"

type MachineInput = NonNullable<ScenarioInput["machine"]>
type StepInput = NonNullable<ScenarioInput["steps"]>[number]
type WorkloadInput = NonNullable<ScenarioInput["workload"]>
type PhaseInput = NonNullable<NonNullable<WorkloadInput["guest"]>["phases"]>[number]

const KiB = 1024
const MiB = 1024 * KiB

/** A size in one of its spellings: 8192, "8KiB", "8 KiB", "0.5MiB" when whole. */
export function spellSize(bytes: number): fc.Arbitrary<number | string> {
  const forms: (number | string)[] = [bytes, `${bytes}B`]
  for (const [unit, mult] of [
    ["KiB", KiB],
    ["MiB", MiB],
    ["GiB", 1024 * MiB]
  ] as const) {
    if (bytes % mult === 0 && bytes > 0) forms.push(`${bytes / mult}${unit}`)
    else if (bytes > 0 && (bytes * 4) % mult === 0) forms.push(`${(bytes * 4) / mult / 4}${unit}`)
  }
  return fc.constantFrom(...forms)
}

/** A duration in one of its spellings: 1000000, "1ms", "1000us". */
export function spellDuration(ns: number): fc.Arbitrary<number | string> {
  const forms: (number | string)[] = [ns, `${ns}ns`]
  for (const [unit, mult] of [
    ["us", 1_000],
    ["ms", 1_000_000],
    ["s", 1_000_000_000]
  ] as const) {
    if (ns % mult === 0 && ns > 0) forms.push(`${ns / mult}${unit}`)
  }
  return fc.constantFrom(...forms)
}

/** A percentage (whole percent) as a number or "N%". */
export function spellPercentage(percent: number): fc.Arbitrary<number | string> {
  return fc.constantFrom(percent / 100, `${percent}%`)
}

/** An address inside mapping `base`: "base", "base+0x3000" or "base+12KiB". */
export function spellAddress(base: string, offset: number): fc.Arbitrary<string> {
  if (offset === 0) return fc.constantFrom(base, `${base}+0x0`)
  const forms = [`${base}+0x${offset.toString(16)}`, `${base}+${offset}`]
  if (offset % KiB === 0) forms.push(`${base}+${offset / KiB}KiB`)
  return fc.constantFrom(...forms)
}

const ARCH_PAGE_SIZES = {
  x86_64: [4 * KiB],
  arm64: [4 * KiB, 16 * KiB, 64 * KiB],
  riscv64: [4 * KiB],
  ppc64le: [4 * KiB, 64 * KiB],
  s390x: [4 * KiB],
  loongarch64: [4 * KiB],
  i386: [4 * KiB],
  armv7: [4 * KiB]
} as const
type ArchName = keyof typeof ARCH_PAGE_SIZES

export interface ArbMachineOptions {
  /** only arches that can have RWP (x86_64, arm64, riscv64 with svrsw60t59b); default false */
  readonly rwp?: boolean
  /** vCPU count bounds; default 1..4 */
  readonly minVcpus?: number
  readonly maxVcpus?: number
  /** only 4 KiB base pages (what hugetlbfs 2 MiB pages need: a PMD leaf); default false */
  readonly basePages4k?: boolean
}

/** A `machine` table: arch, page size it supports, vCPUs, and sometimes TLB, kernel and costs. */
export function arbMachine(
  options: ArbMachineOptions = {}
): fc.Arbitrary<MachineInput & { vcpus: number; page_size: number | string }> {
  const arches: ArchName[] = options.rwp ? ["x86_64", "arm64", "riscv64"] : (Object.keys(ARCH_PAGE_SIZES) as ArchName[])
  return fc
    .record({
      arch: fc.constantFrom(...arches),
      vcpus: fc.integer({ min: options.minVcpus ?? 1, max: options.maxVcpus ?? 4 }),
      pageIndex: fc.nat(),
      tlb: fc.option(
        fc.constantFrom(
          { entries: 64, ways: 4 },
          { entries: 16, ways: 16 },
          { entries: 128, ways: 8 },
          { entries: 8, ways: 1 }
        ),
        { nil: undefined }
      ),
      version: fc.option(fc.constantFrom("7.2", "7.3", "8.0"), { nil: undefined }),
      pageFault: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: undefined })
    })
    .chain(({ arch, vcpus, pageIndex, tlb, version, pageFault }) => {
      const sizes = options.basePages4k ? [4 * KiB] : ARCH_PAGE_SIZES[arch]
      const pageSize = sizes[pageIndex % sizes.length]
      return fc
        .record({
          pageSpelled: spellSize(pageSize),
          faultSpelled: pageFault === undefined ? fc.constant(undefined) : spellDuration(pageFault * 1000)
        })
        .map(({ pageSpelled, faultSpelled }) => {
          const m: MachineInput & { vcpus: number; page_size: number | string } = {
            arch,
            vcpus,
            page_size: pageSpelled
          }
          if (arch === "riscv64") m.isa_extensions = options.rwp ? ["svrsw60t59b"] : []
          if (tlb !== undefined) m.tlb = tlb
          if (version !== undefined) m.kernel = { version }
          if (faultSpelled !== undefined) m.costs = { page_fault: faultSpelled }
          return m
        })
    })
}

/** The machine's page size in bytes, from its spelling. */
function pageBytes(m: { page_size: number | string }): number {
  if (typeof m.page_size === "number") return m.page_size
  const match = /^(\d+(?:\.\d+)?) ?(B|KiB|MiB)$/.exec(m.page_size)!
  return Number(match[1]) * (match[2] === "B" ? 1 : match[2] === "KiB" ? KiB : MiB)
}

const PROTECT = ["UFFDIO_RWPROTECT_MODE_RWP"]

/** One random step over mapping `m` of `pages` pages, on `vcpus` vCPUs, through userfaultfd `u`. */
function arbAccessStep(pages: number, page: number, vcpus: number): fc.Arbitrary<StepInput> {
  const at = fc.integer({ min: 0, max: pages - 1 }).chain((k) => spellAddress("m", k * page))
  const vcpu = fc.integer({ min: 0, max: vcpus - 1 })
  const span = fc.integer({ min: 0, max: pages - 1 }).chain((k) =>
    fc.tuple(
      spellAddress("m", k * page),
      fc.integer({ min: 1, max: pages - k }).chain((n) => spellSize(n * page))
    )
  )
  return fc.oneof(
    fc.record({ vcpu, addr: at, value: fc.integer({ min: 0, max: 0xffff_ffff }) }).map((write) => ({ write })),
    fc.record({ vcpu, addr: at }).map((read) => ({ read })),
    fc.record({ range: span, protect: fc.boolean() }).map(({ range: [start, len], protect }) => ({
      UFFDIO_RWPROTECT: { fd: "u", range: { start, len }, mode: protect ? PROTECT : [] }
    })),
    spellSize(pages * page).map((len) => ({
      PAGEMAP_SCAN: {
        start: "m",
        end: `m+${len}`,
        category_mask: ["PAGE_IS_ACCESSED", "PAGE_IS_PRESENT"],
        category_inverted: ["PAGE_IS_ACCESSED"],
        return_mask: ["PAGE_IS_PRESENT"]
      }
    })),
    at.map((addr) => ({ pagemap: { addr, expect: {} } }))
  )
}

/**
 * A step script: an anon or shmem mapping `m`, a userfaultfd `u` in RWP async mode registered over
 * it, then random writes, reads, protects, resolves and scans. Accesses never block (async mode),
 * and no step states an expectation it could miss, so a correct runner passes every one.
 */
export function arbStepScript(): fc.Arbitrary<ScenarioInput> {
  return fc
    .record({
      machine: arbMachine({ rwp: true }),
      pages: fc.integer({ min: 1, max: 8 }),
      shmem: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
      count: fc.integer({ min: 0, max: 16 })
    })
    .chain(({ machine, pages, shmem, seed, count }) => {
      const page = pageBytes(machine)
      return fc
        .record({
          length: spellSize(pages * page),
          body: fc.array(arbAccessStep(pages, page, machine.vcpus), { minLength: count, maxLength: count })
        })
        .map(({ length, body }): ScenarioInput => {
          const setup: StepInput[] = shmem
            ? [{ memfd_create: { as: "f", size: length } }, { mmap: { as: "m", length, fd: "f" } }]
            : [{ mmap: { as: "m", length } }]
          return {
            name: `generated script (${pages} pages, ${shmem ? "shmem" : "anon"})`,
            seed,
            machine,
            steps: [
              ...setup,
              { userfaultfd: { as: "u", flags: ["O_CLOEXEC", "O_NONBLOCK"] } },
              { UFFDIO_API: { fd: "u", features: ["UFFD_FEATURE_RWP", "UFFD_FEATURE_RWP_ASYNC"] } },
              { UFFDIO_REGISTER: { fd: "u", range: { start: "m", len: length }, mode: "UFFDIO_REGISTER_MODE_RWP" } },
              ...body
            ]
          }
        })
    })
}

const PATTERNS = ["sequential", "uniform", "zipf", "hot_cold"] as const
const BACKINGS = ["anon", "shmem", "hugetlb"] as const
const TRACKERS = ["rwp", "uffd-wp", "idle-page", "none"] as const
const STRATEGIES = ["hot-scan", "cold-scan"] as const

function arbPhase(last: boolean): fc.Arbitrary<PhaseInput> {
  return fc
    .record({
      duration: last ? fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }) : fc.integer({ min: 1, max: 50 }),
      pattern: fc.option(fc.constantFrom(...PATTERNS), { nil: undefined }),
      writes: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      hot: fc.option(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 50, max: 100 })), { nil: undefined }),
      shift: fc.option(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 25 })), { nil: undefined }),
      skew: fc.option(fc.integer({ min: 0, max: 150 }), { nil: undefined }),
      span: fc.option(
        fc
          .integer({ min: 0, max: 90 })
          .chain((start) => fc.tuple(fc.constant(start), fc.integer({ min: 1, max: 100 - start }))),
        { nil: undefined }
      ),
      access: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined })
    })
    .chain(({ duration, pattern, writes, hot, shift, skew, span, access }) =>
      fc
        .record({
          duration: duration === undefined ? fc.constant(undefined) : spellDuration(duration * 1_000_000),
          writes: writes === undefined ? fc.constant(undefined) : spellPercentage(writes),
          hotSet: hot === undefined ? fc.constant(undefined) : spellPercentage(hot[0]),
          hotShare: hot === undefined ? fc.constant(undefined) : spellPercentage(hot[1]),
          shiftEvery: shift === undefined ? fc.constant(undefined) : spellDuration(shift[0] * 1_000_000),
          shiftBy: shift === undefined ? fc.constant(undefined) : spellPercentage(shift[1]),
          spanStart: span === undefined ? fc.constant(undefined) : spellPercentage(span[0]),
          spanLen: span === undefined ? fc.constant(undefined) : spellPercentage(span[1]),
          access: access === undefined ? fc.constant(undefined) : spellDuration(access * 1000)
        })
        .map((s) => {
          const phase: PhaseInput = {}
          if (s.duration !== undefined) phase.duration = s.duration
          if (pattern !== undefined) phase.pattern = pattern
          if (s.writes !== undefined) phase.writes = s.writes
          if (s.hotSet !== undefined) phase.hot_set = s.hotSet
          if (s.hotShare !== undefined) phase.hot_share = s.hotShare
          if (pattern === "hot_cold" && s.shiftEvery !== undefined && s.shiftBy !== undefined)
            phase.hot_shift = { every: s.shiftEvery, by: s.shiftBy }
          if (pattern === "zipf" && skew !== undefined) phase.skew = skew / 100
          if (s.spanStart !== undefined && s.spanLen !== undefined) phase.span = { start: s.spanStart, len: s.spanLen }
          if (s.access !== undefined) phase.access_ns = s.access
          return phase
        })
    )
}

function arbPhases(): fc.Arbitrary<PhaseInput[]> {
  return fc
    .integer({ min: 1, max: 3 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbPhase(i === n - 1))))
}

export interface ArbWorkloadOptions {
  /** The backings to draw from; default all three. */
  readonly backings?: readonly (typeof BACKINGS)[number][]
  /** The trackers to draw from; default all four (or the default, rwp, when the option is omitted). */
  readonly trackers?: readonly (typeof TRACKERS)[number][]
  /** The RWP strategies to draw from; default both. */
  readonly strategies?: readonly (typeof STRATEGIES)[number][]
  /** vCPU count bounds; default 1..4. */
  readonly minVcpus?: number
  readonly maxVcpus?: number
  /** The run's duration bounds in ms; default 10..100. */
  readonly minDurationMs?: number
  readonly maxDurationMs?: number
  /** Guest memory, in units of 256 base pages (one huge page for hugetlb); default up to 4. */
  readonly maxUnits?: number
  /** anon: `memory.thp` may be set (true or false); default true (false: never written) */
  readonly thp?: boolean
}

/**
 * A workload run: a small guest (a few MiB) on anon, shmem or hugetlb, one to three phases of any
 * pattern (spans, hot sets and their shifts, zipf skews), any tracker, strategy, interval, cold age
 * and storage device, a short duration. No `expect` (the defaults apply: every invariant).
 */
export function arbWorkloadScenario(options: ArbWorkloadOptions = {}): fc.Arbitrary<ScenarioInput> {
  const pick = <T>(values: readonly T[] | undefined, all: readonly T[]) => fc.constantFrom(...(values ?? all))
  return pick(options.backings, BACKINGS).chain((backing) => arbWorkloadOf(backing, options))
}

function arbWorkloadOf(backing: (typeof BACKINGS)[number], options: ArbWorkloadOptions): fc.Arbitrary<ScenarioInput> {
  return fc
    .record({
      // hugetlbfs takes only a PMD or PUD leaf: 2 MiB huge pages need 4 KiB base pages
      machine: arbMachine({
        rwp: true,
        minVcpus: options.minVcpus ?? 1,
        maxVcpus: options.maxVcpus ?? 4,
        basePages4k: backing === "hugetlb"
      }),
      backing: fc.constant(backing),
      units: fc.integer({ min: 1, max: options.maxUnits ?? 4 }),
      perVcpu: fc.boolean(),
      thp: options.thp === false ? fc.constant(undefined) : fc.option(fc.boolean(), { nil: undefined }),
      tracker:
        options.trackers === undefined
          ? fc.option(fc.constantFrom(...TRACKERS), { nil: undefined })
          : fc.constantFrom(...options.trackers),
      strategy:
        options.strategies === undefined
          ? fc.option(fc.constantFrom(...STRATEGIES), { nil: undefined })
          : fc.constantFrom(...options.strategies),
      interval: fc.integer({ min: 1, max: 20 }),
      coldAge: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      device: fc.option(
        fc.record({
          latency: fc.integer({ min: 1, max: 200 }),
          bandwidth: fc.constantFrom("512MiB/s", "1GiB/s", "4GiB/s"),
          depth: fc.option(fc.integer({ min: 1, max: 32 }), { nil: undefined })
        }),
        { nil: undefined }
      ),
      duration: fc.integer({ min: options.minDurationMs ?? 10, max: options.maxDurationMs ?? 100 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 })
    })
    .chain((w) => {
      const unit = w.backing === "hugetlb" ? 2 * MiB : pageBytes(w.machine) * 256
      return fc
        .record({
          size: spellSize(unit * w.units),
          duration: spellDuration(w.duration * 1_000_000),
          interval: spellDuration(w.interval * 1_000_000),
          latency: w.device === undefined ? fc.constant("50us") : spellDuration(w.device.latency * 1000),
          phases: arbPhases(),
          perVcpu: fc.array(arbPhases(), { minLength: w.machine.vcpus, maxLength: w.machine.vcpus })
        })
        .map((s): ScenarioInput => {
          const memory: WorkloadInput["memory"] = { backing: w.backing, size: s.size }
          if (w.backing === "anon" && w.thp !== undefined) memory.thp = w.thp
          const vmm: NonNullable<WorkloadInput["vmm"]> = { interval: s.interval }
          if (w.tracker !== undefined) vmm.tracker = w.tracker
          if (w.strategy !== undefined) vmm.strategy = w.strategy
          if (w.coldAge !== undefined) vmm.cold_age = w.coldAge
          const storage: NonNullable<WorkloadInput["storage"]> = {
            latency: s.latency,
            bandwidth: w.device?.bandwidth ?? "1GiB/s"
          }
          if (w.device?.depth !== undefined) storage.queue_depth = w.device.depth
          const workload: WorkloadInput = {
            duration: s.duration,
            memory,
            guest: w.perVcpu ? { per_vcpu: s.perVcpu } : { phases: s.phases },
            vmm,
            storage
          }
          return { name: `generated ${w.backing} workload`, seed: w.seed, machine: w.machine, workload }
        })
    })
}
