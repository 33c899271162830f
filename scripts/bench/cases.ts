// The benchmark's cases. Each runs rwpsim's real packages (their compiled dist/, as `rwpsim` runs)
// in the process that calls it (scripts/bench/case.ts: one fresh process per case) and returns one
// row of measurements. Wall and CPU time are the bench's own business: the simulation packages
// never read a clock.
import { readFileSync } from "node:fs"
import { TraceFile } from "@rwpsim/cli"
import { default_kernel_config, detect_cpu_features } from "@rwpsim/hw"
import * as K from "@rwpsim/kernel"
import { Engine } from "@rwpsim/sched"
import { parseScenario, type Scenario } from "@rwpsim/scenario"
import { ACCESS_BENCH_DEFAULTS, type AccessBenchWorkload, prepareAccessBench, runScenario } from "@rwpsim/sim"
import { setupMemory } from "@rwpsim/vmm"
import { SIM_FIXED_BYTES, simBytesPerPage } from "./state.ts"

export interface CaseRow {
  readonly case: string
  /** Simulated guest accesses per wall second (null: the case does no guest accesses). */
  readonly accesses_per_s: number | null
  /** Scheduler events (bursts for the access bench; event-queue steps for workload runs) per wall second. */
  readonly events_per_s: number | null
  /** Virtual time per wall time (null: no virtual time). */
  readonly virtual_per_wall: number | null
  /** Bytes of state per guest page: see `bytes_per_page_how`. */
  readonly bytes_per_page: number
  readonly bytes_per_page_how: string
  /** Peak resident set of the case's process. */
  readonly rss_bytes: number
  readonly wall_ms: number
  readonly cpu_ms: number
  readonly pages: number
  readonly [extra: string]: unknown
}

export type CaseParams = Readonly<Record<string, number | string | boolean>>

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc
  if (g === undefined) throw new Error("run the cases with --expose-gc (scripts/bench/case.ts does)")
  g()
  g()
}

/** Bytes the JS heap and array buffers hold now, after a full GC. */
function liveBytes(): number {
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

const rssBytes = (): number => process.resourceUsage().maxRSS * 1024

function timed<T>(fn: () => T): { value: T; wall_ms: number; cpu_ms: number } {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const value = fn()
  const wall_ms = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { value, wall_ms, cpu_ms: (c.user + c.system) / 1000 }
}

const perSecond = (n: number, ms: number): number => (n * 1000) / ms

// ---- W1 and W2 --------------------------------------------------------------------------------

/** W1/W2 of ../shared/bench/README.md through the real packages (@rwpsim/sim prepareAccessBench). */
export function accessCase(workload: AccessBenchWorkload, p: CaseParams): CaseRow {
  const accesses = Number(p.accesses ?? ACCESS_BENCH_DEFAULTS.accesses)
  const before = liveBytes()
  const bench = prepareAccessBench({ ...ACCESS_BENCH_DEFAULTS, workload, accesses })
  const t = timed(() => bench.run())
  const r = t.value
  const pages = ACCESS_BENCH_DEFAULTS.pages
  const bytes = liveBytes() - before
  return {
    case: workload,
    accesses_per_s: perSecond(r.accesses, t.wall_ms),
    events_per_s: perSecond(r.bursts + r.cold_per_cycle.length, t.wall_ms),
    virtual_per_wall: r.simulated_ns / (t.wall_ms * 1e6),
    bytes_per_page: bytes / pages,
    bytes_per_page_how: "JS heap + array buffers held after the run (full GC), less before the setup",
    state_bytes_per_page: bench.stateBytes() / pages,
    rss_bytes: rssBytes(),
    wall_ms: t.wall_ms,
    cpu_ms: t.cpu_ms,
    pages,
    accesses: r.accesses,
    bursts: r.bursts,
    cycles: r.cold_per_cycle.length,
    rwp_faults: r.rwp_faults,
    missing_faults: r.missing_faults,
    tlb_hits: r.tlb_hits,
    tlb_misses: r.tlb_misses,
    cold_per_cycle: r.cold_per_cycle,
    violations: r.violations,
    data_loss: r.data_loss
  }
}

// ---- PAGEMAP_SCAN ---------------------------------------------------------------------------------

/**
 * PAGEMAP_SCAN over a shmem guest of `pages` pages as the tracker asks it (present and not accessed,
 * over all of guest memory), in the state a tracker cycle leaves: every page populated (UFFDIO_COPY),
 * all protected (UFFDIO_RWPROTECT), then the first tenth (the hot set) and every 64th page touched.
 * The median of `repeat` scans after `warmup` ones is reported (the first scan too).
 */
export function scanCase(name: string, pages: number, p: CaseParams): CaseRow {
  const repeat = Number(p.repeat ?? 7)
  const warmup = Number(p.warmup ?? 2)
  const before = liveBytes()
  const f = detect_cpu_features({
    arch: "x86_64",
    isa_extensions: [],
    page_size: 4096,
    kernel: { major: 7, minor: 2, config: default_kernel_config("x86_64") }
  })
  const kernel = new K.Kernel(f, { vcpus: 1, tlb: { entries: 64, ways: 1 } })
  const size = pages * f.page_size
  const m = setupMemory(kernel, { backing: "shmem", size, hugepage_size: 0, thp: false }, f.page_size)
  if (!m.ok) throw new Error(`${m.error.what}: ${m.error.errno}`)
  const base = m.value.guest_mem
  const uffd = kernel.userfaultfd(0)
  if (!uffd.ok) throw new Error(uffd.errno)
  const must = (what: string, r: { ok: boolean }) => {
    if (!r.ok) throw new Error(`${what}: ${JSON.stringify(r)}`)
  }
  must("UFFDIO_API", kernel.uffdio_api(uffd.fd, K.UFFD_API, K.UFFD_FEATURE_RWP | K.UFFD_FEATURE_RWP_ASYNC))
  must("UFFDIO_REGISTER", kernel.uffdio_register(uffd.fd, base, size, K.UFFDIO_REGISTER_MODE_RWP))
  must("UFFDIO_COPY", kernel.uffdio_copy(uffd.fd, base, null, 1, size, 0))
  must("UFFDIO_RWPROTECT", kernel.uffdio_rwprotect(uffd.fd, base, size, K.UFFDIO_RWPROTECT_MODE_RWP))
  const hot = Math.floor(pages / 10)
  for (let i = 0; i < pages; i += i < hot ? 1 : 64) kernel.access(0, base + i * f.page_size, false, 0, true)
  const arg: K.PmScanArg = {
    size: K.PAGEMAP_SCAN_ARG_SIZE,
    flags: 0,
    start: base,
    end: base + size,
    vec_len: Number.POSITIVE_INFINITY,
    max_pages: 0,
    category_inverted: K.PAGE_IS_ACCESSED,
    category_mask: K.PAGE_IS_PRESENT | K.PAGE_IS_ACCESSED,
    category_anyof_mask: 0,
    return_mask: K.PAGE_IS_PRESENT
  }
  const runs: { wall_ms: number; cpu_ms: number; regions: number; pages: number }[] = []
  for (let i = 0; i < warmup + repeat; i++) {
    const t = timed(() => kernel.pagemap_scan(arg))
    if (!t.value.ok) throw new Error(`PAGEMAP_SCAN: ${t.value.errno}`)
    let n = 0
    for (const r of t.value.regions) n += (r.end - r.start) / f.page_size
    runs.push({ wall_ms: t.wall_ms, cpu_ms: t.cpu_ms, regions: t.value.count, pages: n })
  }
  // the first scans run before V8 has optimized the walk: a long run's cycles see the later ones
  const sorted = runs.slice(warmup).sort((a, b) => a.wall_ms - b.wall_ms)
  const med = sorted[Math.floor(sorted.length / 2)]!
  const bytes = liveBytes() - before
  return {
    case: name,
    accesses_per_s: null,
    events_per_s: null,
    virtual_per_wall: null,
    bytes_per_page: bytes / pages,
    bytes_per_page_how: "JS heap + array buffers held after the scans (full GC), less before the setup (kernel only)",
    rss_bytes: rssBytes(),
    wall_ms: med.wall_ms,
    cpu_ms: med.cpu_ms,
    pages,
    ns_per_page: (med.wall_ms * 1e6) / pages,
    pages_per_s: perSecond(pages, med.wall_ms),
    regions: med.regions,
    cold_pages: med.pages,
    first_scan_ms: runs[0]!.wall_ms,
    scans_ms: runs.map((r) => Math.round(r.wall_ms * 100) / 100)
  }
}

// ---- workload runs ----------------------------------------------------------------------------------

/** Counts the event-queue steps of every engine (a workload run's scheduler events). */
let engineSteps = 0
const step = Engine.prototype.step
Engine.prototype.step = function (this: Engine<unknown>) {
  engineSteps++
  return step.call(this)
}

export function loadScenario(file: string, text?: string): Scenario {
  const parsed = parseScenario(text ?? readFileSync(file, "utf8"), file)
  if (!parsed.ok) throw new Error(`${file}: ${parsed.errors.map((e) => e.message).join("; ")}`)
  return parsed.scenario
}

/**
 * One workload run through the runner (@rwpsim/sim runScenario, no trace): the guest's vCPUs on
 * the event queue, the VMM's tracker and fault handler as Effect fibers, the checker.
 */
export function workloadCase(
  name: string,
  scenario: Scenario,
  extra: Record<string, unknown> = {},
  /** Hash the trace as `rwpsim run --json` does (its TraceFile, no file), instead of running without one. */
  traced = false
): CaseRow {
  const w = scenario.workload
  if (w === undefined) throw new Error(`${name}: not a workload scenario`)
  const rss0 = process.memoryUsage().rss
  let kernel: K.Kernel | null = null
  engineSteps = 0
  const hash = traced ? new TraceFile(undefined) : null
  const t = timed(() =>
    runScenario(scenario, {
      ...(hash === null ? {} : { sink: hash }),
      makeKernel: (f, o) => {
        kernel = new K.Kernel(f, o)
        return kernel
      }
    })
  )
  if (hash !== null) extra = { ...extra, trace_sha256: hash.close() }
  const r = t.value
  const accesses = Number(r.metrics.guest_accesses ?? 0)
  const pages = w.memory.size / (w.memory.backing === "hugetlb" ? w.memory.hugepage_size : scenario.machine.page_size)
  const k = kernel as K.Kernel | null
  const rss = rssBytes()
  const sim = simBytesPerPage(w)
  const stateBytes = (k === null ? 0 : k.state_bytes()) + sim * pages + SIM_FIXED_BYTES
  return {
    case: name,
    accesses_per_s: perSecond(accesses, t.wall_ms),
    events_per_s: perSecond(engineSteps, t.wall_ms),
    virtual_per_wall: w.duration / (t.wall_ms * 1e6),
    bytes_per_page: stateBytes / pages,
    bytes_per_page_how: `typed arrays counted: Kernel.state_bytes() (frames, page-table pool, page cache, swap) + ${sim} B per page outside the kernel (scripts/bench/state.ts) + ${SIM_FIXED_BYTES} B per run at most (the fault handler's notes)`,
    state_bytes_per_page: stateBytes / pages,
    kernel_bytes_per_page: (k === null ? 0 : k.state_bytes()) / pages,
    outside_bytes_per_page: sim + SIM_FIXED_BYTES / pages,
    rss_growth_per_page: (rss - rss0) / pages,
    rss_bytes: rss,
    wall_ms: t.wall_ms,
    cpu_ms: t.cpu_ms,
    pages,
    ok: r.ok,
    failures: r.failures.map((f) => f.message),
    virtual_ns: w.duration,
    events: engineSteps,
    metrics: r.metrics,
    ...extra
  }
}

/** The e2e scenario: a 64 GiB shmem guest, 8 vCPUs, access_ns 1000, under `strategy`. */
export function e2eScenarioText(strategy: string, duration: string, size = "64GiB", vcpus = 8): string {
  return `name: e2e ${size} ${strategy}
seed: 1
machine: { arch: x86_64, vcpus: ${vcpus}, tlb: { entries: 64, ways: 1 } }
workload:
  duration: ${duration}
  memory: { backing: shmem, size: ${size} }
  guest:
    phases:
      - { pattern: hot_cold, hot_set: 10%, hot_share: 90%, writes: 30%, access_ns: 1000 }
  vmm: { tracker: rwp, strategy: ${strategy}, interval: 1s }
`
}

/** The sync eviction case: 4 vCPUs racing a hot-scan eviction of a 256 MiB shmem guest, slow storage. */
export const EVICT_SCENARIO = `name: evict
seed: 7
machine: { arch: x86_64, vcpus: 4, tlb: { entries: 64, ways: 1 } }
workload:
  duration: 1s
  memory: { backing: shmem, size: 256MiB }
  guest:
    phases:
      - { pattern: hot_cold, hot_set: 20%, hot_share: 95%, writes: 30%, access_ns: 500 }
  vmm: { tracker: rwp, strategy: hot-scan, interval: 200ms }
  storage: { latency: 100us, bandwidth: 2GiB/s, queue_depth: 16 }
`
