/**
 * fast-check arbitraries of scenarios as users write them (input form), valid by construction:
 * every value uses one of its accepted spellings, names are declared before use, vCPU numbers fit
 * the machine, page sizes fit the arch (and hugetlbfs's PMD leaf), sizes are whole pages.
 *
 * They are built without `chain`: each value is drawn raw (numbers, indices, a spelling index)
 * in one record and assembled by a `map`, so fast-check shrinks every field on its own (a shorter
 * run, fewer vCPUs, fewer steps) without drawing the rest again.
 */
import fc from "fast-check"
import type { ScenarioInput } from "../schema.ts"

type MachineInput = NonNullable<ScenarioInput["machine"]>
type StepInput = NonNullable<ScenarioInput["steps"]>[number]
type WorkloadInput = NonNullable<ScenarioInput["workload"]>
type PhaseInput = NonNullable<NonNullable<WorkloadInput["guest"]>["phases"]>[number]

const KiB = 1024
const MiB = 1024 * KiB

/** The accepted spellings of a size: 8192, "8192B", "8KiB", "0.5MiB" when whole in quarters. */
export function sizeForms(bytes: number): (number | string)[] {
  const forms: (number | string)[] = [bytes, `${bytes}B`]
  for (const [unit, mult] of [
    ["KiB", KiB],
    ["MiB", MiB],
    ["GiB", 1024 * MiB]
  ] as const) {
    if (bytes % mult === 0 && bytes > 0) forms.push(`${bytes / mult}${unit}`)
    else if (bytes > 0 && (bytes * 4) % mult === 0) forms.push(`${(bytes * 4) / mult / 4}${unit}`)
  }
  return forms
}

/** The accepted spellings of a duration: 1000000, "1000000ns", "1000us", "1ms". */
export function durationForms(ns: number): (number | string)[] {
  const forms: (number | string)[] = [ns, `${ns}ns`]
  for (const [unit, mult] of [
    ["us", 1_000],
    ["ms", 1_000_000],
    ["s", 1_000_000_000]
  ] as const) {
    if (ns % mult === 0 && ns > 0) forms.push(`${ns / mult}${unit}`)
  }
  return forms
}

/** The accepted spellings of a whole percentage: 0.3 or "30%". */
export function percentageForms(percent: number): (number | string)[] {
  return [percent / 100, `${percent}%`]
}

/** The accepted spellings of an address inside mapping `base`: "base", "base+0x3000", "base+12KiB". */
export function addressForms(base: string, offset: number): string[] {
  if (offset === 0) return [base, `${base}+0x0`]
  const forms = [`${base}+0x${offset.toString(16)}`, `${base}+${offset}`]
  if (offset % KiB === 0) forms.push(`${base}+${offset / KiB}KiB`)
  return forms
}

/** Spelling k of `forms` (any natural number k: it wraps). */
const form = <T>(forms: readonly T[], k: number): T => forms[k % forms.length]!

/** A size in one of its spellings: 8192, "8KiB", "8 KiB", "0.5MiB" when whole. */
export function spellSize(bytes: number): fc.Arbitrary<number | string> {
  return fc.constantFrom(...sizeForms(bytes))
}

/** A duration in one of its spellings: 1000000, "1ms", "1000us". */
export function spellDuration(ns: number): fc.Arbitrary<number | string> {
  return fc.constantFrom(...durationForms(ns))
}

/** A percentage (whole percent) as a number or "N%". */
export function spellPercentage(percent: number): fc.Arbitrary<number | string> {
  return fc.constantFrom(...percentageForms(percent))
}

/** An address inside mapping `base`: "base", "base+0x3000" or "base+12KiB". */
export function spellAddress(base: string, offset: number): fc.Arbitrary<string> {
  return fc.constantFrom(...addressForms(base, offset))
}

/** A spelling index: shrinks to 0 (the plain number). */
const spelling = fc.nat({ max: 7 })

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

const TLBS = [
  { entries: 64, ways: 4 },
  { entries: 16, ways: 16 },
  { entries: 128, ways: 8 },
  { entries: 8, ways: 1 }
] as const
const VERSIONS = ["7.2", "7.3", "8.0"] as const

/** A machine's raw draw; machineOf() assembles it. */
interface RawMachine {
  readonly arch: ArchName
  readonly vcpus: number
  readonly pageIndex: number
  readonly tlb: number | undefined
  readonly version: number | undefined
  readonly pageFault: number | undefined
  /** The other costs (ns), each drawn or left at its default. */
  readonly costs: Partial<Record<OtherCost, number>> | undefined
  readonly spellPage: number
  readonly spellFault: number
}

/**
 * The costs besides page_fault, each over a range wide enough to reorder the VMM's threads against
 * the vCPUs and each other: an ioctl slower than a userfault round trip plus a storage read lets
 * the fault handler act while the tracker's call has not returned (scenarios/race/refault-during-punch.yaml).
 */
const OTHER_COSTS = {
  tlb_miss: 2_000,
  uffd_round_trip: 50_000,
  ioctl: 50_000,
  tlb_shootdown: 20_000,
  scan_per_page: 1_000
} as const
type OtherCost = keyof typeof OTHER_COSTS

const arbOtherCosts: fc.Arbitrary<Partial<Record<OtherCost, number>>> = fc.record(
  Object.fromEntries(Object.entries(OTHER_COSTS).map(([k, max]) => [k, fc.integer({ min: 0, max })])) as Record<
    OtherCost,
    fc.Arbitrary<number>
  >,
  { requiredKeys: [] }
)

function arbRawMachine(options: ArbMachineOptions): fc.Arbitrary<RawMachine> {
  const arches: ArchName[] = options.rwp ? ["x86_64", "arm64", "riscv64"] : (Object.keys(ARCH_PAGE_SIZES) as ArchName[])
  return fc.record({
    arch: fc.constantFrom(...arches),
    vcpus: fc.integer({ min: options.minVcpus ?? 1, max: options.maxVcpus ?? 4 }),
    pageIndex: fc.nat({ max: 5 }),
    tlb: fc.option(fc.nat({ max: TLBS.length - 1 }), { nil: undefined }),
    version: fc.option(fc.nat({ max: VERSIONS.length - 1 }), { nil: undefined }),
    pageFault: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: undefined }),
    costs: fc.option(arbOtherCosts, { nil: undefined }),
    spellPage: spelling,
    spellFault: spelling
  })
}

function machineOf(
  r: RawMachine,
  options: ArbMachineOptions
): MachineInput & { vcpus: number; page_size: number | string } {
  const sizes = options.basePages4k ? [4 * KiB] : ARCH_PAGE_SIZES[r.arch]
  const pageSize = sizes[r.pageIndex % sizes.length]!
  const m: MachineInput & { vcpus: number; page_size: number | string } = {
    arch: r.arch,
    vcpus: r.vcpus,
    page_size: form(sizeForms(pageSize), r.spellPage)
  }
  if (r.arch === "riscv64") m.isa_extensions = options.rwp ? ["svrsw60t59b"] : []
  if (r.tlb !== undefined) m.tlb = { ...TLBS[r.tlb]! }
  if (r.version !== undefined) m.kernel = { version: VERSIONS[r.version]! }
  if (r.pageFault !== undefined || r.costs !== undefined) {
    m.costs = {}
    if (r.pageFault !== undefined) m.costs.page_fault = form(durationForms(r.pageFault * 1000), r.spellFault)
    for (const [k, ns] of Object.entries(r.costs ?? {})) m.costs[k as OtherCost] = ns
  }
  return m
}

/** A `machine` table: arch, page size it supports, vCPUs, and sometimes TLB, kernel and costs. */
export function arbMachine(
  options: ArbMachineOptions = {}
): fc.Arbitrary<MachineInput & { vcpus: number; page_size: number | string }> {
  return arbRawMachine(options).map((r) => machineOf(r, options))
}

/** The machine's page size in bytes, from its spelling. */
function pageBytes(m: { page_size: number | string }): number {
  if (typeof m.page_size === "number") return m.page_size
  const match = /^(\d+(?:\.\d+)?) ?(B|KiB|MiB)$/.exec(m.page_size)!
  return Number(match[1]) * (match[2] === "B" ? 1 : match[2] === "KiB" ? KiB : MiB)
}

const PROTECT = ["UFFDIO_RWPROTECT_MODE_RWP"]

/** One step's raw draw: which op, and naturals that become a vCPU, a page, a length, a spelling. */
const arbRawStep = fc.record({
  op: fc.nat({ max: 4 }),
  vcpu: fc.nat(),
  page: fc.nat(),
  len: fc.nat(),
  value: fc.integer({ min: 0, max: 0xffff_ffff }),
  protect: fc.boolean(),
  spell: spelling
})

/** The raw step as a step over mapping `m` of `pages` pages of `page` bytes, on `vcpus` vCPUs. */
function stepOf(r: RawStep, pages: number, page: number, vcpus: number): StepInput {
  const k = r.page % pages
  const addr = form(addressForms("m", k * page), r.spell)
  const vcpu = r.vcpu % vcpus
  switch (r.op) {
    case 0:
      return { write: { vcpu, addr, value: r.value } }
    case 1:
      return { read: { vcpu, addr } }
    case 2: {
      const len = form(sizeForms((1 + (r.len % (pages - k))) * page), r.spell)
      return { UFFDIO_RWPROTECT: { fd: "u", range: { start: addr, len }, mode: r.protect ? PROTECT : [] } }
    }
    case 3:
      return {
        PAGEMAP_SCAN: {
          start: "m",
          end: `m+${form(sizeForms(pages * page), r.spell)}`,
          category_mask: ["PAGE_IS_ACCESSED", "PAGE_IS_PRESENT"],
          category_inverted: ["PAGE_IS_ACCESSED"],
          return_mask: ["PAGE_IS_PRESENT"]
        }
      }
    default:
      return { pagemap: { addr, expect: {} } }
  }
}

type RawStep = typeof arbRawStep extends fc.Arbitrary<infer T> ? T : never

/**
 * A step script: an anon or shmem mapping `m`, a userfaultfd `u` in RWP async mode registered over
 * it, then random writes, reads, protects, resolves and scans. Accesses never block (async mode),
 * and no step states an expectation it could miss, so a correct runner passes every one.
 */
export function arbStepScript(): fc.Arbitrary<ScenarioInput> {
  const options: ArbMachineOptions = { rwp: true }
  return fc
    .record({
      machine: arbRawMachine(options),
      pages: fc.integer({ min: 1, max: 8 }),
      shmem: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
      body: fc.array(arbRawStep, { maxLength: 16 }),
      spell: spelling
    })
    .map(({ machine: raw, pages, shmem, seed, body, spell }): ScenarioInput => {
      const machine = machineOf(raw, options)
      const page = pageBytes(machine)
      const length = form(sizeForms(pages * page), spell)
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
          ...body.map((r) => stepOf(r, pages, page, machine.vcpus))
        ]
      }
    })
}

const PATTERNS = ["sequential", "uniform", "zipf", "hot_cold"] as const
const BACKINGS = ["anon", "shmem", "hugetlb"] as const
const TRACKERS = ["rwp", "uffd-wp", "idle-page", "none"] as const
const STRATEGIES = ["hot-scan", "cold-scan"] as const

/** One phase's raw draw; phaseOf() assembles it. */
const arbRawPhase = fc.record({
  duration: fc.integer({ min: 1, max: 50 }),
  /** the last phase: runs to the end (no duration) */
  open: fc.boolean(),
  pattern: fc.option(fc.constantFrom(...PATTERNS), { nil: undefined }),
  writes: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
  hot: fc.option(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 50, max: 100 })), { nil: undefined }),
  shift: fc.option(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 25 })), { nil: undefined }),
  skew: fc.option(fc.integer({ min: 0, max: 150 }), { nil: undefined }),
  span: fc.option(fc.tuple(fc.integer({ min: 0, max: 90 }), fc.integer({ min: 1, max: 100 })), { nil: undefined }),
  access: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
  locality: fc.option(fc.integer({ min: 0, max: 95 }), { nil: undefined }),
  spell: spelling
})
type RawPhase = typeof arbRawPhase extends fc.Arbitrary<infer T> ? T : never

function phaseOf(r: RawPhase, last: boolean): PhaseInput {
  const k = r.spell
  const phase: PhaseInput = {}
  if (!(last && r.open)) phase.duration = form(durationForms(r.duration * 1_000_000), k)
  if (r.pattern !== undefined) phase.pattern = r.pattern
  if (r.writes !== undefined) phase.writes = form(percentageForms(r.writes), k)
  if (r.hot !== undefined) {
    phase.hot_set = form(percentageForms(r.hot[0]), k)
    phase.hot_share = form(percentageForms(r.hot[1]), k)
  }
  if (r.pattern === "hot_cold" && r.shift !== undefined)
    phase.hot_shift = {
      every: form(durationForms(r.shift[0] * 1_000_000), k),
      by: form(percentageForms(r.shift[1]), k)
    }
  if (r.pattern === "zipf" && r.skew !== undefined) phase.skew = r.skew / 100
  if (r.span !== undefined) {
    const start = r.span[0]
    const len = Math.min(r.span[1], 100 - start)
    phase.span = { start: form(percentageForms(start), k), len: form(percentageForms(len), k) }
  }
  if (r.access !== undefined) phase.access_ns = form(durationForms(r.access * 1000), k)
  if (r.locality !== undefined) phase.locality = form(percentageForms(r.locality), k)
  return phase
}

const arbRawPhases = fc.array(arbRawPhase, { minLength: 1, maxLength: 3 })
const phasesOf = (rs: readonly RawPhase[]) => rs.map((r, i) => phaseOf(r, i === rs.length - 1))

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
 * pattern (spans, hot sets and their shifts, zipf skews), per vCPU or shared, any tracker,
 * strategy, interval, cold age and storage device, a short duration. No `expect` (the defaults
 * apply: every invariant).
 */
export function arbWorkloadScenario(options: ArbWorkloadOptions = {}): fc.Arbitrary<ScenarioInput> {
  const pick = <T>(values: readonly T[] | undefined, all: readonly T[]) => fc.constantFrom(...(values ?? all))
  const maxVcpus = options.maxVcpus ?? 4
  const machineOptions: ArbMachineOptions = { rwp: true, minVcpus: options.minVcpus ?? 1, maxVcpus }
  return fc
    .record({
      machine: arbRawMachine(machineOptions),
      backing: pick(options.backings, BACKINGS),
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
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
      phases: arbRawPhases,
      // one list per vCPU the machine may have; the first `vcpus` are used
      perVcpuPhases: fc.array(arbRawPhases, { minLength: maxVcpus, maxLength: maxVcpus }),
      spell: spelling
    })
    .map((w): ScenarioInput => {
      // hugetlbfs takes only a PMD or PUD leaf: 2 MiB huge pages need 4 KiB base pages
      const machine = machineOf(w.machine, { ...machineOptions, basePages4k: w.backing === "hugetlb" })
      const k = w.spell
      const unit = w.backing === "hugetlb" ? 2 * MiB : pageBytes(machine) * 256
      const memory: WorkloadInput["memory"] = { backing: w.backing, size: form(sizeForms(unit * w.units), k) }
      if (w.backing === "anon" && w.thp !== undefined) memory.thp = w.thp
      const vmm: NonNullable<WorkloadInput["vmm"]> = { interval: form(durationForms(w.interval * 1_000_000), k) }
      if (w.tracker !== undefined) vmm.tracker = w.tracker
      if (w.strategy !== undefined) vmm.strategy = w.strategy
      if (w.coldAge !== undefined) vmm.cold_age = w.coldAge
      const storage: NonNullable<WorkloadInput["storage"]> = {
        latency: w.device === undefined ? "50us" : form(durationForms(w.device.latency * 1000), k),
        bandwidth: w.device?.bandwidth ?? "1GiB/s"
      }
      if (w.device?.depth !== undefined) storage.queue_depth = w.device.depth
      const workload: WorkloadInput = {
        duration: form(durationForms(w.duration * 1_000_000), k),
        memory,
        guest: w.perVcpu
          ? { per_vcpu: w.perVcpuPhases.slice(0, machine.vcpus).map(phasesOf) }
          : { phases: phasesOf(w.phases) },
        vmm,
        storage
      }
      return { name: `generated ${w.backing} workload`, seed: w.seed, machine, workload }
    })
}
