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
import { type ByteRange, syscalls } from "./sys.ts"

/** The tracker's state, for the trace, the wait-for chain and the metrics. */
export class TrackerState {
  doing = "starting"
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
  const sys = syscalls(host)
  const { kernel, layout, pages, observer, config, device, store } = host
  const pb = layout.page_bytes
  const all: ByteRange = { start: layout.guest_mem, len: layout.size }
  /** This cycle's judgement: a bit per page, set for a page judged accessed. */
  const hot = new PageBits(layout.pages)
  /** The previous cycle's judgement (only for the deliberate bug tracker-stale-scan). */
  const previous = new PageBits(config.bug === "tracker-stale-scan" ? layout.pages : 0)
  /** What PAGE_IS_PRESENT found (anonymous memory only: a file's are the VMM's own populated bits). */
  const present = new PageBits(layout.backing === "anon" ? layout.pages : 0)
  const byteRange = (r: PageRange): ByteRange => ({ start: layout.guest_mem + r.first * pb, len: r.count * pb })

  const check = (what: string, r: { ok: boolean; errno?: string }) => {
    if (!r.ok) observer.vmmError(`${what}: ${r.errno}`)
  }

  /** Starts a cycle's detection window. */
  const beginCycle = Effect.gen(function* () {
    state.doing = "arming the detection window"
    if (config.tracker === "rwp") {
      const r = yield* sys.ioctl.rwprotect(all, K.UFFDIO_RWPROTECT_MODE_RWP)
      check("UFFDIO_RWPROTECT(RWP) of guest memory", r)
      if (r.ok) observer.protected(all.start, all.len)
    } else if (config.tracker === "uffd-wp") {
      check(
        "UFFDIO_WRITEPROTECT(WP) of guest memory",
        yield* sys.ioctl.writeprotect(all, K.UFFDIO_WRITEPROTECT_MODE_WP)
      )
    } else if (config.tracker === "idle-page") {
      check("page_idle bitmap write over guest memory", yield* sys.pageIdleMark(all))
    }
    observer.cycleStart(config.tracker)
  })

  /** PAGEMAP_SCAN over guest memory into `out` (a page's bit set: in a returned region); the pages marked. */
  const scanInto = (out: PageBits, category_mask: number, category_inverted: number, whole = false) =>
    Effect.gen(function* () {
      const regions = yield* sys.ioctl.pagemapScan({
        start: all.start,
        end: all.start + all.len,
        category_mask,
        category_inverted,
        return_mask: category_mask
      })
      out.fill(false)
      if (regions === null) {
        observer.vmmError("PAGEMAP_SCAN of guest memory failed")
        return 0
      }
      return markRegions(regions, layout.guest_mem, pb, out, whole)
    })

  /**
   * idle-page: sets the bit of a tracking page that is mapped and no longer idle; the count. Its two
   * arrays (a byte per base page and per tracking page) exist only for that tracker.
   */
  const idle = config.tracker === "idle-page"
  const idleBits = new Uint8Array(idle ? layout.size / host.kernel.page_size : 0)
  const mapped = new PageBits(idle ? layout.pages : 0)
  const idleInto = (out: PageBits) =>
    Effect.gen(function* () {
      yield* scanInto(mapped, K.PAGE_IS_PRESENT, 0)
      const r = yield* sys.pageIdleRead(all, idleBits)
      if (!r.ok) observer.vmmError(`page_idle bitmap read: ${r.errno}`)
      const per = pb / host.kernel.page_size
      let n = 0
      for (let p = 0; p < layout.pages; p++) {
        const hotp = mapped.get(p) && idleBits[p * per] === 0
        out.set(p, hotp)
        if (hotp) n++
      }
      return n
    })

  /** Pages the VMM may evict: populated ones (what it copied in; for anon, what is present now). */
  const populatedSet = Effect.gen(function* () {
    if (layout.backing !== "anon") return inBits(pages.populated)
    yield* scanInto(present, K.PAGE_IS_PRESENT, 0)
    return inBits(present)
  })

  /** A range whose pwrite is in flight: its words were read from io_mem when it was submitted. */
  interface Pwrite {
    readonly r: PageRange
    readonly done: number
    /** The range's words as the pwrite read them (what storage got). */
    readonly words: Uint32Array
  }

  /**
   * pwrite(storage_fd, io_mem + off, len, off) of one range of shmem/hugetlbfs pages: the copy reads
   * io_mem now (it bypasses RWP) and the I/O completes at the returned time (null: io_mem failed).
   */
  const submitPwrite = (r: PageRange) =>
    Effect.gen(function* () {
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
    })

  /** Once its pwrite is done: punch the range out of the file, then wake its waiters. */
  const completePwrite = (w: Pwrite, wake: boolean) =>
    Effect.gen(function* () {
      const { r } = w
      state.doing = `evicting pages ${r.first}..${r.first + r.count - 1} (waiting for its pwrite)`
      yield* sys.sleep(w.done - (yield* sys.now))
      // the copy is in storage before the punch: a MISSING fault from the punch on must find it there
      // (marking after the punch lets a fault in between be answered with a zero page)
      for (let i = 0; i < r.count; i++) if (pages.populated.get(r.first + i)) pages.evicted.set(r.first + i, true)
      // fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len)
      state.doing = `evicting pages ${r.first}..${r.first + r.count - 1} (punching)`
      if (config.bug !== "tracker-skips-punch")
        check("fallocate(PUNCH_HOLE)", yield* sys.punchHole(r.first * pb, r.count * pb))
      for (let i = 0; i < r.count; i++) {
        const p = r.first + i
        const resident = pages.populated.get(p)
        if (resident) {
          pages.evicted.set(p, true)
          state.pages_evicted++
        }
        pages.populated.set(p, false)
        observer.evicted(p, w.words[i]!, resident)
      }
      pages.evicting.setRange(r, false)
      // the punch does not iterate fault_pending_wqh: wake the vCPUs blocked on this range
      if (wake && config.bug !== "tracker-forgets-wake") check("UFFDIO_WAKE", yield* sys.ioctl.wake(byteRange(r)))
      state.ranges_evicted++
    })

  /** MADV_PAGEOUT → (wake) of one range of anonymous pages; swap I/O at the storage device's pace. */
  const evictAnon = (r: PageRange, wake: boolean) =>
    Effect.gen(function* () {
      const before = kernel.stats.swapouts
      check("madvise(MADV_PAGEOUT)", yield* sys.pageout(byteRange(r)))
      // swap-outs count base pages (a THP is split first); the metric counts tracking pages
      const bytes = (kernel.stats.swapouts - before) * kernel.page_size
      if (bytes > 0) {
        const t0 = yield* sys.now
        yield* sys.sleep(device.submit(t0, bytes) - t0)
      }
      state.pages_evicted += Math.ceil(bytes / pb)
      for (let i = 0; i < r.count; i++) observer.evicted(r.first + i, 0, true)
      pages.evicting.setRange(r, false)
      if (wake && config.bug !== "tracker-forgets-wake") check("UFFDIO_WAKE", yield* sys.ioctl.wake(byteRange(r)))
    })

  /**
   * Evicts every range of `victims`. Anonymous memory: MADV_PAGEOUT range by range. Files: up to
   * queue_depth pwrites in flight (as with io_uring or a thread pool), each range punched and woken
   * as its pwrite completes, in submission order.
   */
  const evictAll = (victims: readonly PageRange[], wake: boolean) =>
    Effect.gen(function* () {
      for (const r of victims) pages.evicting.setRange(r, true)
      if (layout.backing === "anon") {
        for (const r of victims) {
          state.doing = `evicting pages ${r.first}..${r.first + r.count - 1}`
          yield* evictAnon(r, wake)
          state.ranges_evicted++
        }
        return
      }
      const inflight: Pwrite[] = []
      for (const r of victims) {
        if (inflight.length >= device.params.queue_depth) yield* completePwrite(inflight.shift()!, wake)
        state.doing = `evicting pages ${r.first}..${r.first + r.count - 1} (pwrite)`
        const w = yield* submitPwrite(r)
        if (w !== null) inflight.push(w)
        else pages.evicting.setRange(r, false)
      }
      while (inflight.length > 0) yield* completePwrite(inflight.shift()!, wake)
    })

  /** Ages every page by the judgement in `hot` and returns the victims among `candidates`. */
  const victimsOf = (candidates: ((p: number) => boolean) | null) => {
    pages.age_cycle(hot)
    // cold-scan takes the scan's cold ranges as they come (holes included) but not pages already in
    // storage: a pwrite of such a hole would overwrite the stored copy with a zero page
    const stored = pages.evicted
    return candidates === null
      ? rangesWhere(layout.pages, (p) => pages.old_enough(hot, p) && !stored.get(p))
      : rangesWhere(layout.pages, (p) => candidates(p) && pages.old_enough(hot, p))
  }

  /** UFFDIO_SET_MODE(sync) before eviction (skipped by the deliberate bug tracker-evicts-async). */
  const toSync = Effect.gen(function* () {
    if (config.bug === "tracker-evicts-async") return
    state.doing = "switching to sync mode"
    check("UFFDIO_SET_MODE(disable RWP_ASYNC)", yield* sys.ioctl.setMode({ disable: K.UFFD_FEATURE_RWP_ASYNC }))
    observer.modeSet(false)
  })

  /** One end-of-cycle pass of the rwp tracker. */
  const rwpCycle = Effect.gen(function* () {
    const t_sync = { t: 0 }
    if (config.strategy === "cold-scan") {
      state.doing = "scanning for cold pages (async mode)"
      // a tracking page is cold only if none of it was accessed (a split THP's base pages differ)
      const cold = yield* scanInto(hot, K.PAGE_IS_ACCESSED, K.PAGE_IS_ACCESSED, true)
      hot.invert()
      observer.scanned(hot, layout.pages - cold, "cold")
      state.estimated_sum += layout.pages - cold
      const victims = victimsOf(null)
      // the cold pages are under eviction from here: a sync fault on one is left to the wake
      for (const r of victims) pages.evicting.setRange(r, true)
      yield* toSync
      t_sync.t = yield* sys.now
      yield* evictAll(victims, true)
    } else {
      yield* toSync
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
      let n = yield* scanInto(hot, K.PAGE_IS_ACCESSED, 0)
      if (config.bug === "tracker-stale-scan") {
        // the deliberate bug: judge this cycle by the previous cycle's scan
        const fresh = hot.copy()
        hot.words.set(previous.words)
        previous.words.set(fresh.words)
        n = hot.countSet()
      }
      observer.scanned(hot, n, "hot")
      state.estimated_sum += n
      const victims = victimsOf(atScan ?? (yield* populatedSet))
      pages.evicting.fill(false)
      yield* evictAll(victims, true)
    }
    state.doing = "switching back to async mode"
    check("UFFDIO_SET_MODE(enable RWP_ASYNC)", yield* sys.ioctl.setMode({ enable: K.UFFD_FEATURE_RWP_ASYNC }))
    observer.modeSet(true)
    state.eviction_ns += (yield* sys.now) - t_sync.t
  })

  /** One end-of-cycle pass of a fallback tracker: judge, then evict with the vCPUs paused. */
  const fallbackCycle = Effect.gen(function* () {
    let n = 0
    if (config.tracker === "uffd-wp") {
      state.doing = "scanning for written pages"
      n = yield* scanInto(hot, K.PAGE_IS_WRITTEN, 0)
    } else if (config.tracker === "idle-page") {
      state.doing = "reading the page_idle bitmap"
      n = yield* idleInto(hot)
    } else hot.fill(false)
    observer.scanned(hot, n, "hot")
    state.estimated_sum += n
    if (config.tracker === "none") return
    const victims = victimsOf(yield* populatedSet)
    if (victims.length === 0) return
    const t0 = yield* sys.now
    state.doing = "pausing the vCPUs to evict"
    host.pauseVcpus()
    yield* evictAll(victims, false)
    host.resumeVcpus()
    state.eviction_ns += (yield* sys.now) - t0
  })

  return Effect.gen(function* () {
    yield* beginCycle
    let next = (yield* sys.now) + config.interval
    for (;;) {
      if (next >= config.end_ns) {
        state.doing = "done (the run ends before the next scan)"
        yield* sys.sleep(config.end_ns - (yield* sys.now))
        return
      }
      state.doing = `sleeping until the scan at t=${next}`
      yield* sys.sleep(next - (yield* sys.now))
      if (config.tracker === "rwp") yield* rwpCycle
      else yield* fallbackCycle
      state.cycles++
      next += config.interval
      yield* beginCycle
    }
  })
}
