// The six invariants of a workload run (spec "Workload runs"), checked while the run goes. The
// checker keeps its own shadow, independent of the kernel model and of the VMM's bookkeeping: the
// guest's ground truth (what each page must read), one flag byte per page on the vCPUs' access
// path (armed, protected and untouched since, touched at the last scan, watched: memory.ts), the
// log of the UFFDIO_RWPROTECT(RWP) calls (when each page was protected, for the messages), and the
// mode the userfaultfd was last set to. Nothing else per page: the 64 GiB guest's state budget is
// 32 B per page for everything.
// A violation is recorded with its invariant, time, page and the threads involved, written to the
// trace at its time, and reported by the run (only the invariants the scenario lists fail it).
import type { GroundTruth } from "@rwpsim/guest"
import * as K from "@rwpsim/kernel"
import type { Kernel } from "@rwpsim/kernel"
import type { Prng, TraceFields } from "@rwpsim/sched"
import type { InvariantName } from "@rwpsim/scenario"
import type { GuestLayout, HandlerState, PageBits, TrackerKind, VmmPages } from "@rwpsim/vmm"
import { showPage, showTime } from "./format.ts"
import { type CheckedMemory, PF_TOUCHED_AT_SCAN } from "./memory.ts"
import type { KernelTapListener } from "./tap.ts"

/** One broken invariant. */
export interface Violation {
  readonly invariant: InvariantName
  readonly t_ns: number
  /** The guest page it concerns, or -1. */
  readonly page: number
  readonly message: string
}

/** A failure that is no invariant: a VMM system call that failed, a guest signal. */
export interface RunError {
  readonly t_ns: number
  readonly message: string
}

/** Violations kept in full per invariant (every one is counted). */
const KEPT_PER_INVARIANT = 8
/** Pages whose pagemap entry is read before and after each UFFDIO_RWPROTECT(RWP). */
const PAGEMAP_SAMPLES = 64
/** Guests up to this many pages are swept for `accounting` at every scan, larger ones at the end. */
const SWEEP_EVERY_SCAN_PAGES = 16_384

/** Where the checker writes trace lines: now, or at a later time inside a vCPU burst. */
export interface CheckerClock {
  readonly now_ns: number
  /** Writes `ev` at t_ns (>= now): at once, or through the event queue. */
  emitAt(t_ns: number, ev: string, fields: TraceFields): void
}

export interface CheckerOptions {
  readonly kernel: Kernel
  readonly layout: GuestLayout
  readonly tracker: TrackerKind
  readonly vcpus: number
  readonly gt: GroundTruth
  readonly mem: CheckedMemory
  readonly pages: VmmPages
  readonly handler: HandlerState
  /** Engine time of the workload's t = 0 (the ground truth's times are relative to it). */
  readonly base_ns: number
  readonly clock: CheckerClock
  /** The "checker" PRNG stream (sampling), apart from the run's other streams. */
  readonly rng: Prng
}

/** A write between a page's pwrite and its punch, seen on the access path. */
interface WatchedWrite {
  task: number
  page: number
  value: number
  writes: number
  /** The (last such) write's engine time. */
  t_ns: number
}

/** One UFFDIO_RWPROTECT(RWP) of guest pages [first, first + count) that took effect at t_ns. */
interface ProtectCall {
  readonly first: number
  readonly count: number
  readonly t_ns: number
}

/** The checker; its access-path calls are FlaggedAccessListener's, with the write's time added. */
export class Checker implements KernelTapListener {
  readonly violations: Violation[] = []
  readonly counts = new Map<InvariantName, number>()
  readonly errors: RunError[] = []
  /** False while steps run (a script plays the VMM; its invariants are not checked). */
  active = false
  /** The mode the userfaultfd was last set to (RWP_ASYNC on), as the checker saw the calls succeed. */
  async_mode: boolean
  /** Pages whose storage copy misses the guest's last write (the punch came after an untrapped write). */
  readonly stale = new Map<number, number>()
  readonly #o: CheckerOptions
  /**
   * The protections still in effect on some page, oldest first: a call that covers an older one
   * whole replaces it, so the tracker's one protection of guest memory per cycle keeps one entry.
   */
  readonly #protects: ProtectCall[] = []
  #snapshot_t = -1
  #inside = false
  #sync_seen = 0
  #async_seen = 0
  #queued_seen = 0
  #missing_seen = 0
  #wp_seen = 0
  #minor_seen = 0
  readonly #armed_bad: { task: number; page: number }[] = []
  readonly #watched: WatchedWrite[] = []
  /** Pages written between their pwrite and their punch (the writes the punch will drop). */
  readonly #written_since_pwrite = new Set<number>()
  /** Pages whose punch dropped such a write, and the guest's last write at the punch. */
  readonly #dropped = new Map<number, number>()
  /**
   * The page of a UFFDIO_COPY into guest memory that has taken effect and that the handler has not
   * reported yet (populated(), after the ioctl's cost), -1 if none; and the guest's last write to it
   * when the copy took effect (the guest may have written the page again since).
   */
  #copy_page = -1
  #copy_written = false
  #copy_expected = 0
  readonly #samples: number[] = []
  readonly #sample_present: boolean[] = []
  #loss_seen = 0
  #rwp_read0 = 0
  #base_sync = 0

  constructor(o: CheckerOptions) {
    this.#o = o
    // UFFDIO_API asked for RWP_ASYNC: the userfaultfd starts in async mode
    this.async_mode = o.tracker === "rwp"
  }

  /** When page p was last protected by a checked UFFDIO_RWPROTECT(RWP), -1 if never. */
  protectedAt(p: number): number {
    const log = this.#protects
    for (let i = log.length - 1; i >= 0; i--) {
      const c = log[i]
      if (p >= c.first && p < c.first + c.count) return c.t_ns
    }
    return -1
  }

  /** Starts checking (after the steps): the kernel's counters so far are the baseline. */
  start(): void {
    const st = this.#o.kernel.stats
    this.#sync_seen = st.rwp_faults_sync
    this.#async_seen = st.rwp_faults_async
    this.#queued_seen = st.messages_queued
    this.#missing_seen = st.missing_faults
    this.#wp_seen = st.wp_faults
    this.#minor_seen = st.minor_faults_uffd
    this.#rwp_read0 = this.#o.handler.rwp_messages
    this.#base_sync = st.rwp_faults_sync
    this.#loss_seen = this.#o.gt.data_loss
    this.active = true
  }

  /** How many violations of `invariant` were found. */
  count(invariant: InvariantName): number {
    return this.counts.get(invariant) ?? 0
  }

  record(invariant: InvariantName, t_ns: number, page: number, message: string): void {
    const n = this.count(invariant) + 1
    this.counts.set(invariant, n)
    if (n > KEPT_PER_INVARIANT) return
    this.violations.push({ invariant, t_ns, page, message })
    this.#o.clock.emitAt(Math.max(t_ns, this.#o.clock.now_ns), "violation", { invariant, page, message })
  }

  error(message: string): void {
    const t_ns = this.#o.clock.now_ns
    this.errors.push({ t_ns, message })
    this.#o.clock.emitAt(t_ns, "error", { message })
  }

  // ---- the kernel tap: calls as they take effect -------------------------------------------

  beforeRwprotect(fd: number, start: number, len: number, mode: number): void {
    this.#samples.length = 0
    this.#sample_present.length = 0
    if (!this.#mine(fd) || (mode & K.UFFDIO_RWPROTECT_MODE_RWP) === 0) return
    const [first, count] = this.#pagesOf(start, len)
    if (count <= 0) return
    const k = this.#o.kernel
    const n = Math.min(count, PAGEMAP_SAMPLES)
    for (let i = 0; i < n; i++) {
      const p = count <= PAGEMAP_SAMPLES ? first + i : first + this.#o.rng.nextInt(count)
      this.#samples.push(p)
      this.#inside = true
      this.#sample_present.push(k.pagemap_read(this.#addr(p)).present)
      this.#inside = false
    }
  }

  rwprotected(fd: number, start: number, len: number, mode: number, ok: boolean): void {
    if (!this.#mine(fd) || !ok) return
    const [first, count] = this.#pagesOf(start, len)
    if (count <= 0) return
    const { mem, kernel } = this.#o
    if ((mode & K.UFFDIO_RWPROTECT_MODE_RWP) === 0) {
      mem.disarm(first, count) // resolved: accesses no longer fault
      return
    }
    const now = this.#o.clock.now_ns
    const log = this.#protects
    let kept = 0
    for (const c of log) if (c.first < first || c.first + c.count > first + count) log[kept++] = c
    log.length = kept
    log.push({ first, count, t_ns: now })
    // untouched from now: what counts is an access that completes after the protect (a retry that
    // completes at the protect's own ns may have come before it), not its time
    mem.protect(first, count)
    // arm every present page: its next access must fault, on whichever vCPU touches it first
    this.#inside = true
    const r = kernel.pagemap_scan({
      size: 96,
      flags: 0,
      start: this.#addr(first),
      end: this.#addr(first + count),
      vec_len: Number.POSITIVE_INFINITY,
      max_pages: 0,
      category_inverted: 0,
      category_mask: K.PAGE_IS_PRESENT,
      category_anyof_mask: 0,
      return_mask: K.PAGE_IS_PRESENT
    })
    if (r.ok) {
      const pb = this.#o.layout.page_bytes
      const g = this.#o.layout.guest_mem
      const vec = r.vec // (start, end, categories) triples
      for (let o = 0; o < vec.length; o += 3) {
        const a = Math.max(first, Math.floor((vec[o]! - g) / pb))
        const b = Math.min(first + count, Math.ceil((vec[o + 1]! - g) / pb))
        mem.armRange(a, b)
      }
    }
    // pagemap bit 57 is set on protected pages, which stay present
    for (let i = 0; i < this.#samples.length; i++) {
      const p = this.#samples[i]
      if (!this.#sample_present[i]) continue
      const e = kernel.pagemap_read(this.#addr(p))
      if (!e.present || !e.uffd) {
        this.#inside = false
        this.record(
          "protection",
          now,
          p,
          `after UFFDIO_RWPROTECT(RWP) of guest memory at ${showTime(now)} (tracker thread), ${showPage(p, this.#o.layout.page_bytes)} ` +
            `was present before and now reads present=${e.present} uffd(bit 57)=${e.uffd} in pagemap (expected present and bit 57 set)`
        )
        this.#inside = true
      }
    }
    this.#inside = false
  }

  modeSet(fd: number, enable: number, disable: number, ok: boolean): void {
    if (!this.#mine(fd) || !ok) return
    if ((enable & K.UFFD_FEATURE_RWP_ASYNC) !== 0) this.async_mode = true
    if ((disable & K.UFFD_FEATURE_RWP_ASYNC) !== 0) this.async_mode = false
  }

  scanned(args: Parameters<Kernel["pagemap_scan"]>[0], ok: boolean): void {
    if (this.#inside || !this.active || !ok || this.#o.tracker !== "rwp") return
    if ((args.category_mask & K.PAGE_IS_ACCESSED) === 0) return
    // what the guest touched since each page's protection, at the instant of the walk
    this.#o.mem.snapshotTouched()
    this.#snapshot_t = this.#o.clock.now_ns
  }

  // ---- the access path (cold: flagged pages only) --------------------------------------------

  armedAccess(task: number, page: number, faulted: boolean): void {
    if (!faulted && this.active) this.#armed_bad.push({ task, page })
  }

  /** A write of `value` by vCPU `task` at engine time t_ns completed on a watched page. */
  watchedWrite(task: number, page: number, value: number, t_ns: number): void {
    this.#written_since_pwrite.add(page)
    const w = this.#watched
    for (let i = 0; i < w.length; i++) {
      if (w[i].page === page && w[i].task === task) {
        w[i].value = value
        w[i].writes++
        w[i].t_ns = t_ns
        return
      }
    }
    w.push({ task, page, value, writes: 1, t_ns })
  }

  /** After each vCPU burst from `from_ns` to `to_ns` (engine times): what the burst revealed. */
  afterBurst(vcpu: number, from_ns: number, to_ns: number): void {
    if (!this.active) return
    const { gt, kernel, base_ns, layout } = this.#o
    for (const bad of this.#armed_bad) {
      const pa = this.protectedAt(bad.page)
      this.record(
        "protection",
        from_ns,
        bad.page,
        `vCPU ${bad.task} accessed ${showPage(bad.page, layout.page_bytes)} between ${showTime(from_ns)} and ${showTime(to_ns)} without a fault, ` +
          `after UFFDIO_RWPROTECT(RWP) protected it at ${showTime(pa)} (tracker thread): a stale TLB entry?`
      )
    }
    // (an array's length set is a runtime call, and most bursts have nothing to report)
    if (this.#armed_bad.length > 0) this.#armed_bad.length = 0
    for (const w of this.#watched) {
      const t = Math.max(from_ns, w.t_ns)
      this.#o.clock.emitAt(t, "guest.untrapped_write", {
        vcpu: w.task,
        page: w.page,
        value: w.value >>> 0,
        writes: w.writes,
        note: "after the pwrite, before the punch: storage has not got it"
      })
    }
    if (this.#watched.length > 0) this.#watched.length = 0
    // data loss: reads the ground truth saw return something else than the last write
    if (gt.data_loss > this.#loss_seen) {
      const fresh = gt.violations.slice(Math.min(this.#loss_seen, gt.violations.length))
      for (const v of fresh) {
        const stale = this.stale.get(v.page)
        const why =
          stale === undefined
            ? ""
            : `; the page was punched at ${showTime(stale)} after a write the pwrite had not seen (the copy in storage is stale)`
        const h = this.#o.handler.last.get(v.page)
        const handler = h === undefined ? "" : `; fault handler's last action on it at ${showTime(h.t_ns)}: ${h.action}`
        this.record(
          "no_data_loss",
          v.t_ns + base_ns,
          v.page,
          `vCPU ${v.vcpu} read ${v.actual} from ${showPage(v.page, layout.page_bytes)} at ${showTime(v.t_ns + base_ns)}, ` +
            `but the guest's last write there was ${v.expected}${why}${handler}`
        )
      }
      const lost = gt.data_loss - this.#loss_seen - fresh.length
      if (lost > 0) this.counts.set("no_data_loss", this.count("no_data_loss") + lost)
      this.#loss_seen = gt.data_loss
    }
    // mode: a fault that blocked in async mode, or that the kernel resolved in sync mode
    const sync = kernel.stats.rwp_faults_sync
    const async = kernel.stats.rwp_faults_async
    if (this.#o.tracker === "rwp") {
      if (this.async_mode && sync > this.#sync_seen) {
        this.record(
          "mode",
          from_ns,
          -1,
          `vCPU ${vcpu} took ${sync - this.#sync_seen} sync RWP fault(s) between ${showTime(from_ns)} and ${showTime(to_ns)} while the userfaultfd was in async mode (RWP_ASYNC on): in async mode no RWP message is queued`
        )
      }
      if (!this.async_mode && async > this.#async_seen) {
        this.record(
          "mode",
          from_ns,
          -1,
          `vCPU ${vcpu} took ${async - this.#async_seen} RWP fault(s) that the kernel resolved itself between ${showTime(from_ns)} and ${showTime(to_ns)} while the userfaultfd was in sync mode: each must block and queue one message`
        )
      }
    }
    // every fault that sleeps in the userfaultfd queues exactly one message
    const st = kernel.stats
    const queued = st.messages_queued - this.#queued_seen
    const sleeping =
      sync -
      this.#sync_seen +
      (st.missing_faults - this.#missing_seen) +
      (st.wp_faults - this.#wp_seen) +
      (st.minor_faults_uffd - this.#minor_seen)
    if (queued !== sleeping && this.#o.tracker === "rwp") {
      this.record(
        "mode",
        from_ns,
        -1,
        `vCPU ${vcpu}'s faults between ${showTime(from_ns)} and ${showTime(to_ns)} queued ${queued} userfaultfd message(s) for ${sleeping} fault(s) that sleep in the userfaultfd: each must queue exactly one`
      )
    }
    this.#sync_seen = sync
    this.#async_seen = async
    this.#queued_seen = st.messages_queued
    this.#missing_seen = st.missing_faults
    this.#wp_seen = st.wp_faults
    this.#minor_seen = st.minor_faults_uffd
  }

  /**
   * Each sync RWP fault queued exactly one message: the handler never reads more RWP messages than
   * there were sync RWP faults (fewer is fine: a wake takes an unread message away with its waiter).
   */
  checkMessages(): void {
    if (!this.active || this.#o.tracker !== "rwp") return
    const faults = this.#o.kernel.stats.rwp_faults_sync - this.#base_sync
    const read = this.#o.handler.rwp_messages - this.#rwp_read0
    if (read > faults && this.count("mode") === 0) {
      this.record(
        "mode",
        this.#o.clock.now_ns,
        -1,
        `the fault handler has read ${read} RWP message(s), but there were only ${faults} sync RWP fault(s): in async mode no RWP message is queued, in sync mode exactly one per fault`
      )
    }
  }

  // ---- the VMM's observer (after each call's cost) -------------------------------------------

  /** The tracker's judgement of a cycle: no page touched since its protection may be called cold. */
  judged(hot: PageBits): void {
    if (!this.active || this.#snapshot_t < 0) return
    const flags = this.#o.mem.flags
    let bad = 0
    let first = -1
    for (let p = 0; p < flags.length; p++) {
      if ((flags[p] & PF_TOUCHED_AT_SCAN) !== 0 && !hot.get(p)) {
        bad++
        if (first < 0) first = p
      }
    }
    if (bad > 0) {
      const { layout } = this.#o
      this.record(
        "scan_soundness",
        this.#snapshot_t,
        first,
        `the tracker's scan at ${showTime(this.#snapshot_t)} judged ${bad} page(s) cold that a vCPU touched since their protection, first ${showPage(first, layout.page_bytes)} ` +
          `(protected at ${showTime(this.protectedAt(first))}, accessed by a vCPU after that and before the scan)`
      )
    }
    this.#snapshot_t = -1
  }

  /**
   * A punch of the guest's memfd: the watch of its pages ends (a write from now on lands in a page
   * the fault handler copied back in), and the writes it dropped are kept for evicted().
   */
  fallocated(fd: number, mode: number, off: number, len: number, ok: boolean): void {
    const { layout, mem, gt } = this.#o
    if (!ok || fd !== layout.memfd || (mode & K.FALLOC_FL_PUNCH_HOLE) === 0) return
    const pb = layout.page_bytes
    const end = Math.min(layout.pages, Math.floor((off + len) / pb))
    for (let p = Math.max(0, Math.ceil(off / pb)); p < end; p++) {
      mem.watch(p, false)
      if (this.#written_since_pwrite.delete(p) && this.active) this.#dropped.set(p, gt.expected(p))
    }
  }

  copiedIn(fd: number, dst: number, _len: number, ok: boolean): void {
    if (!ok || !this.#mine(fd)) return
    const [p, count] = this.#pagesOf(dst, 1)
    if (count <= 0) return
    this.#copy_page = p
    this.#copy_written = this.#o.gt.written(p)
    this.#copy_expected = this.#o.gt.expected(p)
  }

  /** Pages [first, first + count) were read for storage: watch them until their punch. */
  pwritten(first: number, count: number): void {
    for (let i = 0; i < count; i++) this.#o.mem.watch(first + i, true)
  }

  /** Page p left memory after `stored` went to storage (shmem/hugetlb) or to swap (anon). */
  evicted(p: number, stored: number, was_resident: boolean): void {
    const { mem, layout, kernel, pages } = this.#o
    mem.watch(p, false)
    if (layout.backing !== "anon") mem.disarm(p, 1)
    if (!this.active) return
    const now = this.#o.clock.now_ns
    // the write the punch dropped (as the guest's last write at the punch)
    const last = this.#dropped.get(p)
    this.#written_since_pwrite.delete(p)
    this.#dropped.delete(p)
    if (layout.backing !== "anon" && last !== undefined && stored >>> 0 !== last) {
      this.stale.set(p, now)
      this.#o.clock.emitAt(now, "checker.stale_eviction", {
        page: p,
        stored: stored >>> 0,
        last_write: last,
        by_vcpu: (last - 1) % this.#o.vcpus,
        was_resident,
        note: "the punch dropped a write made after the pwrite"
      })
    }
    const e = kernel.pagemap_flags(this.#addr(p))
    const io =
      layout.io_mem >= 0 ? (kernel.pagemap_flags(layout.io_mem + p * layout.page_bytes) & K.PMF_PRESENT) !== 0 : false
    const resident = (e & K.PMF_PRESENT) !== 0 || io
    if (layout.backing === "anon") {
      if ((e & (K.PMF_PRESENT | K.PMF_SWAP)) === (K.PMF_PRESENT | K.PMF_SWAP))
        this.#twoPlaces(p, "resident and in swap")
    } else if (was_resident && resident && pages.evicted.get(p) && this.#copy_page !== p) {
      // (mapped by a UFFDIO_COPY from storage not reported yet is the handler's refault, which it
      // records as populated when the ioctl returns: the sweep, run with the handler idle, checks it)
      this.#twoPlaces(p, "resident (mapped after the hole punch) and in storage")
    }
  }

  /** Page p came back with `word`. */
  populated(p: number, word: number, from_storage: boolean): void {
    // the guest's last write as the copy took effect
    const at_copy = this.#copy_page === p
    this.#copy_page = -1
    if (!this.active) return
    const { gt } = this.#o
    const written = at_copy ? this.#copy_written : gt.written(p)
    const expected = at_copy ? this.#copy_expected : gt.expected(p)
    if (from_storage && written && word >>> 0 !== expected) {
      this.#o.clock.emitAt(this.#o.clock.now_ns, "checker.stale_fault_back", {
        page: p,
        copied: word >>> 0,
        last_write: expected,
        note: "UFFDIO_COPY from storage of a copy older than the guest's last write"
      })
    }
  }

  /** `accounting` over every page: the authoritative copy is in exactly one place. */
  sweep(): void {
    if (!this.active) return
    const { kernel, layout, pages, gt } = this.#o
    const pb = layout.page_bytes
    let bad = 0
    let first = -1
    let what = ""
    for (let p = 0; p < layout.pages; p++) {
      const e = kernel.pagemap_flags(layout.guest_mem + p * pb)
      const io = layout.io_mem >= 0 ? (kernel.pagemap_flags(layout.io_mem + p * pb) & K.PMF_PRESENT) !== 0 : false
      const resident = (e & K.PMF_PRESENT) !== 0 || io ? 1 : 0
      const swapped = (e & K.PMF_SWAP) !== 0 ? 1 : 0
      const stored = layout.backing !== "anon" && pages.evicted.get(p) ? 1 : 0
      const places = resident + swapped + stored
      const why =
        places > 1
          ? `in ${places} places (${[resident ? "resident" : "", swapped ? "swap" : "", stored ? "storage" : ""].filter((s) => s !== "").join(", ")})`
          : places === 0 && gt.written(p)
            ? "written by the guest but in no place (not resident, not in swap, not in storage)"
            : ""
      if (why !== "") {
        bad++
        if (first < 0) {
          first = p
          what = why
        }
      }
    }
    if (bad > 0) {
      this.record(
        "accounting",
        this.#o.clock.now_ns,
        first,
        `${bad} page(s) whose authoritative copy is not in exactly one place; first ${showPage(first, pb)}: ${what}`
      )
    }
  }

  /** Whether guests this small are swept at every scan. */
  get sweepsEveryScan(): boolean {
    return this.#o.layout.pages <= SWEEP_EVERY_SCAN_PAGES
  }

  #twoPlaces(p: number, what: string): void {
    this.record(
      "accounting",
      this.#o.clock.now_ns,
      p,
      `after the tracker evicted ${showPage(p, this.#o.layout.page_bytes)} at ${showTime(this.#o.clock.now_ns)}, its copy is ${what}`
    )
  }

  #mine(fd: number): boolean {
    return this.active && !this.#inside && fd === this.#o.layout.uffd
  }

  #addr(p: number): number {
    return this.#o.layout.guest_mem + p * this.#o.layout.page_bytes
  }

  /** The guest pages [first, first + count) that a byte range covers, clipped to the guest. */
  #pagesOf(start: number, len: number): [number, number] {
    const { guest_mem, page_bytes, pages } = this.#o.layout
    const first = Math.max(0, Math.floor((start - guest_mem) / page_bytes))
    const end = Math.min(pages, Math.ceil((start + len - guest_mem) / page_bytes))
    return [first, end - first]
  }
}
