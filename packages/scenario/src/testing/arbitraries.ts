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
      const sizes = ARCH_PAGE_SIZES[arch]
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

function arbPhase(last: boolean): fc.Arbitrary<PhaseInput> {
  return fc
    .record({
      duration: last ? fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }) : fc.integer({ min: 1, max: 50 }),
      pattern: fc.option(fc.constantFrom(...PATTERNS), { nil: undefined }),
      writes: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      hot: fc.option(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 50, max: 100 })), { nil: undefined }),
      access: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined })
    })
    .chain(({ duration, pattern, writes, hot, access }) =>
      fc
        .record({
          duration: duration === undefined ? fc.constant(undefined) : spellDuration(duration * 1_000_000),
          writes: writes === undefined ? fc.constant(undefined) : spellPercentage(writes),
          hotSet: hot === undefined ? fc.constant(undefined) : spellPercentage(hot[0]),
          hotShare: hot === undefined ? fc.constant(undefined) : spellPercentage(hot[1]),
          access: access === undefined ? fc.constant(undefined) : spellDuration(access * 1000)
        })
        .map((s) => {
          const phase: PhaseInput = {}
          if (s.duration !== undefined) phase.duration = s.duration
          if (pattern !== undefined) phase.pattern = pattern
          if (s.writes !== undefined) phase.writes = s.writes
          if (s.hotSet !== undefined) phase.hot_set = s.hotSet
          if (s.hotShare !== undefined) phase.hot_share = s.hotShare
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

/**
 * A workload run: a small guest (a few MiB) on anon, shmem or hugetlb, one to three phases,
 * any tracker and strategy, a short duration. No `expect` (the defaults apply).
 */
export function arbWorkloadScenario(): fc.Arbitrary<ScenarioInput> {
  return fc
    .record({
      machine: arbMachine({ rwp: true }),
      backing: fc.constantFrom("anon", "shmem", "hugetlb"),
      units: fc.integer({ min: 1, max: 4 }),
      perVcpu: fc.boolean(),
      tracker: fc.option(fc.constantFrom("rwp", "uffd-wp", "idle-page", "none"), { nil: undefined }),
      strategy: fc.option(fc.constantFrom("hot-scan", "cold-scan"), { nil: undefined }),
      interval: fc.integer({ min: 1, max: 20 }),
      duration: fc.integer({ min: 10, max: 100 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 })
    })
    .chain((w) => {
      const unit = w.backing === "hugetlb" ? 2 * MiB : pageBytes(w.machine) * 256
      return fc
        .record({
          size: spellSize(unit * w.units),
          duration: spellDuration(w.duration * 1_000_000),
          interval: spellDuration(w.interval * 1_000_000),
          phases: arbPhases(),
          perVcpu: fc.array(arbPhases(), { minLength: w.machine.vcpus, maxLength: w.machine.vcpus })
        })
        .map((s): ScenarioInput => {
          const workload: WorkloadInput = {
            duration: s.duration,
            memory: { backing: w.backing, size: s.size },
            guest: w.perVcpu ? { per_vcpu: s.perVcpu } : { phases: s.phases },
            vmm: { interval: s.interval },
            storage: { latency: "50us", bandwidth: "1GiB/s" }
          }
          if (w.tracker !== undefined) workload.vmm = { ...workload.vmm, tracker: w.tracker }
          if (w.strategy !== undefined) workload.vmm = { ...workload.vmm, strategy: w.strategy }
          return { name: `generated ${w.backing} workload`, seed: w.seed, machine: w.machine, workload }
        })
    })
}
