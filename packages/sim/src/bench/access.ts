// The access benchmark's fixture (`npm run bench`, cases W1 and W2 of bench/README.md): the C
// reference's workload run through the real packages. What is a fixture and what is real:
// - fixture: the page draws (BenchW1Pattern / BenchW2Pattern over ref.c's single xorshift32
//   stream, shared by the vCPUs as in ref.c), and the schedule by access count: burst i of
//   `burst` accesses runs on vCPU i mod vcpus, and every `interval` accesses a tracker cycle runs
//   (the VMM's thread is not an Effect fiber here: its two ioctls are called in line);
// - real: the guest's burst loop (Vcpu.run_burst) with its ground truth, the run's CheckedMemory
//   (access costs, per-page checker flags) and Checker (protection, mode, scan soundness and data
//   loss, armed by a tap on the kernel as in a workload run), the kernel's per-vCPU TLBs, its page
//   walk and fault paths (shmem population, async RWP), UFFDIO_RWPROTECT and PAGEMAP_SCAN.
// The memory is a shmem memfd mapped twice (guest_mem, io_mem) as in a workload run, registered
// with UFFDIO_REGISTER_MODE_RWP only, with RWP_ASYNC: as in ref.c, a page's first touch is
// populated by the kernel (shmem_get_folio, counted in missing_faults), not by the fault handler.
// A tracker cycle is ref.c's: count the cold pages (PAGEMAP_SCAN: present and not accessed), then
// re-protect every present page (UFFDIO_RWPROTECT(RWP) of guest memory, which flushes every TLB).
// Bursts run back to back in virtual time (each starts where the last ended), so the checker's
// clock is one line. Deterministic: no wall time here (the bench script times run()).
import { BenchW1Pattern, BenchW2Pattern, GroundTruth, type PagePattern, Vcpu, Xorshift32 } from "@rwpsim/guest"
import { default_kernel_config, detect_cpu_features } from "@rwpsim/hw"
import * as K from "@rwpsim/kernel"
import { Prng } from "@rwpsim/sched"
import { DEFAULT_COSTS } from "@rwpsim/scenario"
import { type GuestLayout, HandlerState, markRegions, PageBits, setupMemory, VmmPages } from "@rwpsim/vmm"
import { Checker } from "../workload/checker.ts"
import { CheckedMemory } from "../workload/memory.ts"
import { tapKernel } from "../workload/tap.ts"

export type AccessBenchWorkload = "W1" | "W2"

export interface AccessBenchSpec {
  readonly workload: AccessBenchWorkload
  /** Guest pages (4 KiB, x86_64). */
  readonly pages: number
  readonly vcpus: number
  readonly tlb: { readonly entries: number; readonly ways: number }
  /** Accesses per burst; bursts go round robin over the vCPUs. */
  readonly burst: number
  /** Accesses per tracker cycle. */
  readonly interval: number
  /** Accesses in all (a multiple of burst). */
  readonly accesses: number
}

/** bench/README.md: W1 and W2 as the C reference runs them. */
export const ACCESS_BENCH_DEFAULTS = {
  pages: 1 << 20,
  vcpus: 4,
  tlb: { entries: 64, ways: 1 },
  burst: 1000,
  interval: 1_000_000,
  accesses: 20_000_000
} as const

export interface AccessBenchResult {
  readonly accesses: number
  readonly bursts: number
  readonly rwp_faults: number
  /** First touches the kernel populated (shmem page faults). */
  readonly missing_faults: number
  readonly tlb_hits: number
  readonly tlb_misses: number
  /** Cold pages counted by each cycle's PAGEMAP_SCAN, before its re-protect. */
  readonly cold_per_cycle: readonly number[]
  /** Invariant violations the checker recorded, and reads that lost data. */
  readonly violations: number
  readonly data_loss: number
  /** Virtual time at the end (ns). */
  readonly simulated_ns: number
}

/** A prepared bench: everything is allocated; run() does the accesses and cycles. */
export interface AccessBench {
  readonly kernel: K.Kernel
  readonly layout: GuestLayout
  /** Typed-array bytes of every per-page structure of the run (kernel, ground truth, checker, VMM). */
  stateBytes(): number
  run(): AccessBenchResult
}

export function prepareAccessBench(spec: AccessBenchSpec): AccessBench {
  if (spec.accesses % spec.burst !== 0 || spec.interval % spec.burst !== 0)
    throw new Error("accesses and interval must be multiples of burst")
  const features = detect_cpu_features({
    arch: "x86_64",
    isa_extensions: [],
    page_size: 4096,
    kernel: { major: 7, minor: 2, config: default_kernel_config("x86_64") }
  })
  const kernel = new K.Kernel(features, { vcpus: spec.vcpus, tlb: spec.tlb })
  const size = spec.pages * features.page_size
  const m = setupMemory(kernel, { backing: "shmem", size, hugepage_size: 0, thp: false }, features.page_size)
  if (!m.ok) throw new Error(`bench setup: ${m.error.what}: ${m.error.errno}`)
  const u = kernel.userfaultfd(K.O_CLOEXEC | K.O_NONBLOCK)
  if (!u.ok) throw new Error(`bench setup: userfaultfd: ${u.errno}`)
  const uffd = u.fd
  const api = kernel.uffdio_api(uffd, K.UFFD_API, K.UFFD_FEATURE_RWP | K.UFFD_FEATURE_RWP_ASYNC)
  if (!api.ok) throw new Error(`bench setup: UFFDIO_API: ${api.errno}`)
  const reg = kernel.uffdio_register(uffd, m.value.guest_mem, size, K.UFFDIO_REGISTER_MODE_RWP)
  if (!reg.ok) throw new Error(`bench setup: UFFDIO_REGISTER: ${reg.errno}`)
  const layout: GuestLayout = {
    backing: "shmem",
    guest_mem: m.value.guest_mem,
    io_mem: m.value.io_mem,
    memfd: m.value.memfd,
    uffd,
    size,
    page_bytes: features.page_size,
    pages: spec.pages
  }

  const gt = new GroundTruth(spec.pages)
  let now = 0
  const clock = { now_ns: 0, emitAt: () => {} }
  const mem = new CheckedMemory(
    kernel,
    layout.guest_mem,
    layout.page_bytes,
    layout.pages,
    { tlb_miss: DEFAULT_COSTS.tlb_miss, page_fault: DEFAULT_COSTS.page_fault },
    () => 0,
    {
      armedAccess: (task, page, faulted) => checker.armedAccess(task, page, faulted),
      watchedWrite: (task, page, value) => checker.watchedWrite(task, page, value, vcpus[task]!.now_ns)
    }
  )
  const pages = new VmmPages(spec.pages)
  const checker = new Checker({
    kernel,
    layout,
    tracker: "rwp",
    vcpus: spec.vcpus,
    gt,
    mem,
    pages,
    handler: new HandlerState(1), // no fault handler runs here: the checker reads it only for messages
    base_ns: 0,
    clock,
    rng: new Prng(1, 2, 3, 4)
  })
  const rng = new Xorshift32()
  const makePattern = (p: { span_first: number; span_count: number }): PagePattern =>
    spec.workload === "W1"
      ? new BenchW1Pattern(p.span_first, p.span_count)
      : new BenchW2Pattern(p.span_first, p.span_count, spec.burst)
  const vcpus = Array.from(
    { length: spec.vcpus },
    (_, index) =>
      new Vcpu({
        index,
        vcpus: spec.vcpus,
        phases: [{ pattern: "uniform", writes: 0, access_ns: 1 }],
        guest_pages: spec.pages,
        base_addr: layout.guest_mem,
        page_bytes: layout.page_bytes,
        rng,
        ground_truth: gt,
        charge: mem,
        make_pattern: makePattern
      })
  )
  const all = { start: layout.guest_mem, end: layout.guest_mem + size }
  const hot = new PageBits(spec.pages)
  const scanArg: K.PmScanArg = {
    size: K.PAGEMAP_SCAN_ARG_SIZE,
    flags: 0,
    start: all.start,
    end: all.end,
    vec_len: Number.POSITIVE_INFINITY,
    max_pages: 0,
    category_inverted: K.PAGE_IS_ACCESSED,
    category_mask: K.PAGE_IS_PRESENT | K.PAGE_IS_ACCESSED,
    category_anyof_mask: 0,
    return_mask: K.PAGE_IS_PRESENT
  }

  /** ref.c's tracker interval: count the cold pages, then re-protect every present page. */
  const cycle = (): number => {
    clock.now_ns = now
    const r = kernel.pagemap_scan(scanArg)
    if (!r.ok) throw new Error(`PAGEMAP_SCAN: ${r.errno}`)
    // the cold regions marked, then flipped into the judgement: as the tracker's cold-scan does
    hot.fill(false)
    const cold = markRegions(r.vec, all.start, layout.page_bytes, hot)
    hot.invert()
    checker.judged(hot)
    gt.nextCycle()
    const p = kernel.uffdio_rwprotect(uffd, all.start, size, K.UFFDIO_RWPROTECT_MODE_RWP)
    if (!p.ok) throw new Error(`UFFDIO_RWPROTECT: ${p.errno}`)
    return cold
  }

  const stateBytes = (): number => kernel.state_bytes() + gt.words.byteLength + mem.flags.byteLength + pages.bytes()

  const run = (): AccessBenchResult => {
    const unTap = tapKernel(kernel, checker)
    checker.start()
    const stats0 = { ...kernel.stats }
    const cold: number[] = []
    let done = 0
    let bursts = 0
    while (done < spec.accesses) {
      const v = vcpus[bursts % spec.vcpus]!
      const from = now
      const res = v.run_burst(mem, now, Number.POSITIVE_INFINITY, spec.burst)
      if (res.kind !== 1 /* BURST_DONE_MAX */) throw new Error(`burst ${bursts} stopped (kind ${res.kind})`)
      now = res.now_ns
      checker.afterBurst(v.index, from, now)
      done += res.accesses
      bursts++
      if (done % spec.interval === 0) cold.push(cycle())
    }
    unTap()
    let hits = 0
    let misses = 0
    for (const t of kernel.mm.tlbs) {
      hits += t.hits
      misses += t.misses
    }
    const st = kernel.stats
    let violations = 0
    for (const n of checker.counts.values()) violations += n
    return {
      accesses: done,
      bursts,
      rwp_faults: st.rwp_faults_async - stats0.rwp_faults_async + (st.rwp_faults_sync - stats0.rwp_faults_sync),
      missing_faults: st.page_faults - stats0.page_faults,
      tlb_hits: hits,
      tlb_misses: misses,
      cold_per_cycle: cold,
      violations: violations + checker.errors.length,
      data_loss: gt.data_loss,
      simulated_ns: now
    }
  }
  return { kernel, layout, stateBytes, run }
}
