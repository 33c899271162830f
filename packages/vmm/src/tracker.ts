// The VMM's tracker thread: one cycle per `interval`, in the strategies of the spec.
//   rwp cold-scan (seed 001's admin guide as written, its race included):
//     protect all (async) → sleep → PAGEMAP_SCAN(!ACCESSED) → SET_MODE(sync)
//     → for each cold range: pwrite from io_mem, punch hole, UFFDIO_WAKE → SET_MODE(async)
//   rwp hot-scan (the series' later order):
//     protect all (async) → sleep → SET_MODE(sync) → PAGEMAP_SCAN(ACCESSED)
//     → evict every other populated page → UFFDIO_WAKE → SET_MODE(async)
//   uffd-wp: write-protect all (WP_ASYNC) → sleep → PAGEMAP_SCAN(WRITTEN) → pause vCPUs → evict → resume
//   none: cycles only (the true working set is still measured), never evicts.
// The scan of cycle k happens at (k+1)·interval; the protect that starts cycle k+1 follows its
// eviction. Anonymous memory has no io_mem: cold pages go to swap with MADV_PAGEOUT.
import * as K from "@rwpsim/kernel"
import type { Sim } from "@rwpsim/sched"
import * as Effect from "effect/Effect"
import type { VmmHost } from "./host.ts"
import { markRegions, PageBits, type PageRange, rangesWhere } from "./pages.ts"
import { type ByteRange, VmmThread } from "./sys.ts"

/** The tracker's state, for the trace, the wait-for chain and the metrics. */
export class TrackerState {
  #doing = "starting"
  // the range under eviction and the step, as numbers: a cycle may evict millions of ranges, and
  // the text is read only by the wait-for chain of a hung vCPU
  #first = -1
  #last = -1
  #step = ""
  /** What the thread is doing, in words. */
  get doing(): string {
    return this.#first < 0 ? this.#doing : `evicting pages ${this.#first}..${this.#last}${this.#step}`
  }
  set doing(what: string) {
    this.#doing = what
    this.#first = -1
  }
  /** Evicting range `r`, at `step` (" (pwrite)", " (punching)", ...; "" for none). */
  evicting(r: PageRange, step: string): void {
    this.#first = r.first
    this.#last = r.first + r.count - 1
    this.#step = step
  }
  cycles = 0
  pages_evicted = 0
  ranges_evicted = 0
  /** Sum over completed cycles of the pages the tracker judged accessed. */
  estimated_sum = 0
  /** Sync-mode time (rwp) or vCPU pause time (fallbacks), summed over cycles. */
  eviction_ns = 0
}

/** Membership in `bits`, as the victim selection asks it. */
const inBits =
  (bits: PageBits) =>
  (p: number): boolean =>
    bits.get(p)

/** The tracker thread of `host` (spawn it with Sim.Scheduler.spawn). */
export function tracker(host: VmmHost, state: TrackerState): Effect.Effect<void, never, Sim.Services> {
  const t = new Tracker(host, state)
  return Effect.gen(function* () {
    yield* t.run()
  })
}

/** A range whose pwrite is in flight: its words were read from io_mem when it was submitted. */
interface Pwrite {
  readonly r: PageRange
  readonly done: number
  /** The range's words as the pwrite read them (what storage got). */
  readonly words: Uint32Array
}

/** The tracker thread's arrays and steps. */
class Tracker extends VmmThread<TrackerState> {
  readonly all: ByteRange
  /** This cycle's judgement: a bit per page, set for a page judged accessed. */
  readonly hot: PageBits
  /** The previous cycle's judgement (only for the deliberate bug tracker-stale-scan). */
  readonly previous: PageBits
  /** What PAGE_IS_PRESENT found (anonymous memory only: a file's are the VMM's own populated bits). */
  readonly present: PageBits
  /**
   * idle-page: a byte per base page of the bitmap read and a bit per tracking page mapped. Both
   * exist only for that tracker.
   */
  readonly idleBits: Uint8Array
  readonly mapped: PageBits
  /** completePwrite's record of which pages of its range were resident before the punch. */
  #resident = new Uint8Array(16)

  constructor(host: VmmHost, state: TrackerState) {
    super(host, state)
    const { layout, config } = host
    this.all = { start: layout.guest_mem, len: layout.size }
    this.hot = new PageBits(layout.pages)
    this.previous = new PageBits(config.bug === "tracker-stale-scan" ? layout.pages : 0)
    this.present = new PageBits(layout.backing === "anon" ? layout.pages : 0)
    const idle = config.tracker === "idle-page"
    this.idleBits = new Uint8Array(idle ? layout.size / host.kernel.page_size : 0)
    this.mapped = new PageBits(idle ? layout.pages : 0)
  }

  byteRange(r: PageRange): ByteRange {
    return { start: this.host.layout.guest_mem + r.first * this.pb, len: r.count * this.pb }
  }

  check(what: string, r: { ok: boolean; errno?: string }): void {
    if (!r.ok) this.host.observer.vmmError(`${what}: ${r.errno}`)
  }

  *run() {
    const { state, sys, host } = this
    const config = host.config
    yield* this.beginCycle()
    let next = (yield* sys.now) + config.interval
    for (;;) {
      if (next >= config.end_ns) {
        state.doing = "done (the run ends before the next scan)"
        yield* sys.sleep(config.end_ns - (yield* sys.now))
        return
      }
      state.doing = `sleeping until the scan at t=${next}`
      yield* sys.sleep(next - (yield* sys.now))
      if (config.tracker === "rwp") yield* this.rwpCycle()
      else yield* this.fallbackCycle()
      state.cycles++
      next += config.interval
      yield* this.beginCycle()
    }
  }

  /** Starts a cycle's detection window. */
  *beginCycle() {
    const { sys, all, state } = this
    const { config, observer } = this.host
    state.doing = "arming the detection window"
    if (config.tracker === "rwp") {
      const r = yield* sys.ioctl.rwprotect(all, K.UFFDIO_RWPROTECT_MODE_RWP)
      this.check("UFFDIO_RWPROTECT(RWP) of guest memory", r)
      if (r.ok) observer.protected(all.start, all.len)
    } else if (config.tracker === "uffd-wp") {
      this.check(
        "UFFDIO_WRITEPROTECT(WP) of guest memory",
        yield* sys.ioctl.writeprotect(all, K.UFFDIO_WRITEPROTECT_MODE_WP)
      )
    } else if (config.tracker === "idle-page") {
      this.check("page_idle bitmap write over guest memory", yield* sys.pageIdleMark(all))
    }
    observer.cycleStart(config.tracker)
  }

  /** PAGEMAP_SCAN over guest memory into `out` (a page's bit set: in a returned region); the pages marked. */
  *scanInto(out: PageBits, category_mask: number, category_inverted: number, whole = false) {
    const { all } = this
    const regions = yield* this.sys.ioctl.pagemapScan({
      start: all.start,
      end: all.start + all.len,
      category_mask,
      category_inverted,
      return_mask: category_mask
    })
    out.fill(false)
    if (regions === null) {
      this.host.observer.vmmError("PAGEMAP_SCAN of guest memory failed")
      return 0
    }
    return markRegions(regions, this.host.layout.guest_mem, this.pb, out, whole)
  }

  /** idle-page: sets the bit of a tracking page that is mapped and no longer idle; the count. */
  *idleInto(out: PageBits) {
    const { host, mapped, idleBits } = this
    const layout = host.layout
    yield* this.scanInto(mapped, K.PAGE_IS_PRESENT, 0)
    const r = yield* this.sys.pageIdleRead(this.all, idleBits)
    if (!r.ok) host.observer.vmmError(`page_idle bitmap read: ${r.errno}`)
    const per = this.pb / host.kernel.page_size
    let n = 0
    for (let p = 0; p < layout.pages; p++) {
      const hotp = mapped.get(p) && idleBits[p * per] === 0
      out.set(p, hotp)
      if (hotp) n++
    }
    return n
  }

  /** Pages the VMM may evict: populated ones (what it copied in; for anon, what is present now). */
  *populatedSet() {
    if (this.host.layout.backing !== "anon") return inBits(this.host.pages.populated)
    yield* this.scanInto(this.present, K.PAGE_IS_PRESENT, 0)
    return inBits(this.present)
  }

  /**
   * pwrite(storage_fd, io_mem + off, len, off) of one range of shmem/hugetlbfs pages: the copy reads
   * io_mem now (it bypasses RWP) and the I/O completes at the returned time (null: io_mem failed).
   */
  *submitPwrite(r: PageRange) {
    const { host, pb, sys } = this
    const { kernel, layout, observer, device, store } = host
    const off = r.first * pb
    // the range's own buffer, as the VMM's pwrite has: no per-page array over all guest memory
    const words = new Uint32Array(r.count)
    for (let i = 0; i < r.count; i++) {
      const code = kernel.access(host.tasks.tracker, layout.io_mem + off + i * pb, false, 0, false)
      if (code !== K.ACCESS_DONE) {
        observer.vmmError(`pwrite from io_mem page ${r.first + i}: the read of io_mem returned ${code}`)
        return null
      }
      words[i] = kernel.access_value >>> 0
    }
    host.kernelCalled()
    observer.pwritten(r.first, words, r.count)
    const t0 = yield* sys.now
    const done = device.submit(t0, r.count * pb)
    for (let i = 0; i < r.count; i++) store.write(r.first + i, words[i])
    yield* sys.emit("vmm.pwrite", { first: r.first, pages: r.count, done })
    return { r, done, words } satisfies Pwrite
  }

  /** Once its pwrite is done: punch the range out of the file, then wake its waiters. */
  *completePwrite(w: Pwrite, wake: boolean) {
    const { state, sys, pb } = this
    const { pages, config, observer } = this.host
    const { r } = w
    state.evicting(r, " (waiting for its pwrite)")
    yield* sys.sleep(w.done - (yield* sys.now))
    // The bookkeeping is done before the punch, because from the punch on the fault handler may
    // run: a MISSING fault must find the copy in storage (else it is answered with a zero page),
    // and a page the handler copies back in while the punch's call has not yet returned must stay
    // marked resident (marked after the punch, it would be called evicted while mapped).
    const resident = this.#residentBuffer(r.count)
    for (let i = 0; i < r.count; i++) {
      const p = r.first + i
      resident[i] = pages.populated.get(p) ? 1 : 0
      if (resident[i] === 0) continue
      pages.evicted.set(p, true)
      pages.populated.set(p, false)
      state.pages_evicted++
    }
    // fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len)
    state.evicting(r, " (punching)")
    if (config.bug !== "tracker-skips-punch")
      this.check("fallocate(PUNCH_HOLE)", yield* sys.punchHole(r.first * pb, r.count * pb))
    for (let i = 0; i < r.count; i++) observer.evicted(r.first + i, w.words[i]!, resident[i] === 1)
    pages.evicting.setRange(r, false)
    // the punch does not iterate fault_pending_wqh: wake the vCPUs blocked on this range
    if (wake && config.bug !== "tracker-forgets-wake")
      this.check("UFFDIO_WAKE", yield* sys.ioctl.wake(this.byteRange(r)))
    state.ranges_evicted++
  }

  /**
   * completePwrite's buffer of `count` resident flags, reused by every range (one completePwrite
   * runs at a time: the tracker is one thread).
   */
  #residentBuffer(count: number): Uint8Array {
    if (this.#resident.length < count) this.#resident = new Uint8Array(Math.max(count, 2 * this.#resident.length))
    return this.#resident
  }

  /** MADV_PAGEOUT → (wake) of one range of anonymous pages; swap I/O at the storage device's pace. */
  *evictAnon(r: PageRange, wake: boolean) {
    const { state, sys, pb } = this
    const { kernel, pages, config, observer, device } = this.host
    const before = kernel.stats.swapouts
    this.check("madvise(MADV_PAGEOUT)", yield* sys.pageout(this.byteRange(r)))
    // swap-outs count base pages (a THP is split first); the metric counts tracking pages
    const bytes = (kernel.stats.swapouts - before) * kernel.page_size
    if (bytes > 0) {
      const t0 = yield* sys.now
      yield* sys.sleep(device.submit(t0, bytes) - t0)
    }
    state.pages_evicted += Math.ceil(bytes / pb)
    for (let i = 0; i < r.count; i++) observer.evicted(r.first + i, 0, true)
    pages.evicting.setRange(r, false)
    if (wake && config.bug !== "tracker-forgets-wake")
      this.check("UFFDIO_WAKE", yield* sys.ioctl.wake(this.byteRange(r)))
  }

  /**
   * Evicts every range of `victims`. Anonymous memory: MADV_PAGEOUT range by range. Files: up to
   * queue_depth pwrites in flight (as with io_uring or a thread pool), each range punched and woken
   * as its pwrite completes, in submission order.
   */
  *evictAll(victims: readonly PageRange[], wake: boolean) {
    const { state } = this
    const { layout, pages, device } = this.host
    for (const r of victims) pages.evicting.setRange(r, true)
    if (layout.backing === "anon") {
      for (const r of victims) {
        state.evicting(r, "")
        yield* this.evictAnon(r, wake)
        state.ranges_evicted++
      }
      return
    }
    const inflight: Pwrite[] = []
    for (const r of victims) {
      if (inflight.length >= device.params.queue_depth) yield* this.completePwrite(inflight.shift()!, wake)
      state.evicting(r, " (pwrite)")
      const w = yield* this.submitPwrite(r)
      if (w !== null) inflight.push(w)
      else pages.evicting.setRange(r, false)
    }
    while (inflight.length > 0) yield* this.completePwrite(inflight.shift()!, wake)
  }

  /** Ages every page by the judgement in `hot` and returns the victims among `candidates`. */
  victimsOf(candidates: ((p: number) => boolean) | null): PageRange[] {
    const { hot } = this
    const { pages, layout } = this.host
    pages.age_cycle(hot)
    // cold-scan takes the scan's cold ranges as they come (holes included) but not pages already in
    // storage: a pwrite of such a hole would overwrite the stored copy with a zero page
    const stored = pages.evicted
    return candidates === null
      ? rangesWhere(layout.pages, (p) => pages.old_enough(hot, p) && !stored.get(p))
      : rangesWhere(layout.pages, (p) => candidates(p) && pages.old_enough(hot, p))
  }

  /** UFFDIO_SET_MODE(sync) before eviction (skipped by the deliberate bug tracker-evicts-async). */
  *toSync() {
    if (this.host.config.bug === "tracker-evicts-async") return
    this.state.doing = "switching to sync mode"
    this.check(
      "UFFDIO_SET_MODE(disable RWP_ASYNC)",
      yield* this.sys.ioctl.setMode({ disable: K.UFFD_FEATURE_RWP_ASYNC })
    )
    this.host.observer.modeSet(false)
  }

  /** One end-of-cycle pass of the rwp tracker. */
  *rwpCycle() {
    const { state, sys, hot, previous } = this
    const { layout, pages, config, observer } = this.host
    const t_sync = { t: 0 }
    if (config.strategy === "cold-scan") {
      state.doing = "scanning for cold pages (async mode)"
      // a tracking page is cold only if none of it was accessed (a split THP's base pages differ)
      const cold = yield* this.scanInto(hot, K.PAGE_IS_ACCESSED, K.PAGE_IS_ACCESSED, true)
      hot.invert()
      observer.scanned(hot, layout.pages - cold, "cold")
      state.estimated_sum += layout.pages - cold
      const victims = this.victimsOf(null)
      // the cold pages are under eviction from here: a sync fault on one is left to the wake
      for (const r of victims) pages.evicting.setRange(r, true)
      yield* this.toSync()
      t_sync.t = yield* sys.now
      yield* this.evictAll(victims, true)
    } else {
      yield* this.toSync()
      t_sync.t = yield* sys.now
      state.doing = "scanning for the hot set (sync mode)"
      // From the scan on, every page it does not find accessed is under eviction: a fault that
      // arrives while the walk is in progress must be left to the wake, not resolved (resolving it
      // would unprotect a page the scan has already called cold, and a write to it between the
      // pwrite and the punch would be lost, the cold-scan race again). Pages the scan finds hot
      // cannot fault (they are unprotected); a fault left on a page that is then kept (younger than
      // cold_age) is released by the SET_MODE(async) below, which wakes every waiter.
      pages.evicting.fill(true)
      // and only what was in memory at the scan can be judged by it: a page the fault handler copies
      // in after the walk is unprotected (a write to it would not trap) and the scan never saw it
      const atScan = layout.backing === "anon" ? null : inBits(pages.populated.copy())
      let n = yield* this.scanInto(hot, K.PAGE_IS_ACCESSED, 0)
      if (config.bug === "tracker-stale-scan") {
        // the deliberate bug: judge this cycle by the previous cycle's scan
        const fresh = hot.copy()
        hot.words.set(previous.words)
        previous.words.set(fresh.words)
        n = hot.countSet()
      }
      observer.scanned(hot, n, "hot")
      state.estimated_sum += n
      const victims = this.victimsOf(atScan ?? (yield* this.populatedSet()))
      pages.evicting.fill(false)
      yield* this.evictAll(victims, true)
    }
    state.doing = "switching back to async mode"
    this.check("UFFDIO_SET_MODE(enable RWP_ASYNC)", yield* sys.ioctl.setMode({ enable: K.UFFD_FEATURE_RWP_ASYNC }))
    observer.modeSet(true)
    state.eviction_ns += (yield* sys.now) - t_sync.t
  }

  /** One end-of-cycle pass of a fallback tracker: judge, then evict with the vCPUs paused. */
  *fallbackCycle() {
    const { state, sys, hot, host } = this
    const { config, observer } = host
    let n = 0
    if (config.tracker === "uffd-wp") {
      state.doing = "scanning for written pages"
      n = yield* this.scanInto(hot, K.PAGE_IS_WRITTEN, 0)
    } else if (config.tracker === "idle-page") {
      state.doing = "reading the page_idle bitmap"
      n = yield* this.idleInto(hot)
    } else hot.fill(false)
    observer.scanned(hot, n, "hot")
    state.estimated_sum += n
    if (config.tracker === "none") return
    const victims = this.victimsOf(yield* this.populatedSet())
    if (victims.length === 0) return
    const t0 = yield* sys.now
    state.doing = "pausing the vCPUs to evict"
    host.pauseVcpus()
    yield* this.evictAll(victims, false)
    host.resumeVcpus()
    state.eviction_ns += (yield* sys.now) - t0
  }
}
