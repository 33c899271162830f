// The VMM's fault-handler thread. It polls the userfaultfd (parks until the driver says a message
// is queued), reads every queued message, and answers each:
// - MISSING on a page the VMM evicted: read it back from storage, then UFFDIO_COPY the stored word;
//   MISSING on a page never evicted: UFFDIO_COPY a zero page (first touch);
// - a sync RWP fault on a page being evicted: left alone (the UFFDIO_WAKE after the punch releases
//   it, and its retry faults as MISSING); on any other page: resolved with UFFDIO_RWPROTECT(!RWP).
// Storage reads of one batch are submitted together, so they overlap up to the queue depth.
import * as K from "@rwpsim/kernel"
import type { Sim } from "@rwpsim/sched"
import { Effect } from "effect"
import type { VmmHost } from "./host.ts"
import { syscalls } from "./sys.ts"

/** One message the handler took from the userfaultfd. */
interface Fault {
  readonly kind: "missing" | "rwp" | "wp" | "other"
  readonly page: number
  readonly address: number
}

/** The fault handler's state, readable by the driver for the wait-for chain of a hung vCPU. */
export class HandlerState {
  /** What the handler is doing now. */
  doing = "starting"
  /** Per page: the last thing the handler did with a fault on it (sparse, pages with faults only). */
  readonly last = new Map<number, { readonly t_ns: number; readonly kind: string; readonly action: string }>()
  messages = 0
  rwp_messages = 0
  missing_messages = 0
  copies_from_storage = 0
  zero_fills = 0
  rwp_resolved = 0
  rwp_left = 0
}

/** The fault-handler thread of `host` (spawn it with Sim.Scheduler.spawn). */
export function faultHandler(host: VmmHost, state: HandlerState): Effect.Effect<void, never, Sim.Services> {
  const sys = syscalls(host)
  const { kernel, layout, pages, observer, device, store } = host
  const pb = layout.page_bytes
  const bug = host.config.bug

  const drain = (): Fault[] => {
    const out: Fault[] = []
    for (;;) {
      const r = kernel.read_msg(layout.uffd)
      if (!r.ok) {
        if (!("blocked" in r) && r.errno !== "EAGAIN") observer.vmmError(`read_msg on the userfaultfd: ${r.errno}`)
        return out
      }
      const m = r.msg
      const page = Math.floor((m.address - layout.guest_mem) / pb)
      let kind: Fault["kind"] = "other"
      if (m.event === K.UFFD_EVENT_PAGEFAULT && page >= 0 && page < layout.pages) {
        if (m.flags & K.UFFD_PAGEFAULT_FLAG_RWP) kind = "rwp"
        else if (m.flags & K.UFFD_PAGEFAULT_FLAG_WP) kind = "wp"
        else kind = "missing"
      }
      out.push({ kind, page, address: m.address })
    }
  }

  return Effect.gen(function* () {
    for (;;) {
      const batch = drain()
      host.kernelCalled()
      if (batch.length === 0) {
        state.doing = `parked on the userfaultfd (poll) since t=${yield* sys.now}`
        yield* sys.park(host.uffd_poll_key)
        continue
      }
      state.messages += batch.length
      const reads: { page: number; done_ns: number }[] = []
      const queued = new Set<number>()
      for (const f of batch) {
        const t = yield* sys.now
        const note = (action: string) => {
          state.last.set(f.page, { t_ns: t, kind: f.kind, action })
          observer.message(f.kind, f.page, action)
        }
        const at = layout.guest_mem + f.page * pb
        if (f.kind === "rwp") {
          state.rwp_messages++
          if (pages.evicting[f.page] === 1 && bug !== "handler-resolves-evicting") {
            state.rwp_left++
            note("left to the wake after the punch (page under eviction)")
            continue
          }
          state.doing = `resolving an RWP fault at page ${f.page}`
          const r = yield* sys.ioctl.rwprotect({ start: at, len: pb }, 0)
          if (!r.ok) observer.vmmError(`UFFDIO_RWPROTECT(!RWP) of page ${f.page}: ${r.errno}`)
          state.rwp_resolved++
          note("resolved with UFFDIO_RWPROTECT(!RWP)")
        } else if (f.kind === "missing") {
          state.missing_messages++
          if (bug === "handler-ignores-missing") {
            note("read and never answered (deliberate bug handler-ignores-missing)")
            continue
          }
          if (queued.has(f.page)) continue
          queued.add(f.page)
          if (pages.evicted[f.page] === 1) {
            const done_ns = device.submit(t, pb)
            reads.push({ page: f.page, done_ns })
            yield* sys.emit("vmm.pread", { page: f.page, done: done_ns })
            note("storage read submitted")
          } else {
            state.doing = `zero-filling page ${f.page}`
            yield* copyIn(f.page, 0, false)
            state.zero_fills++
            note("answered with UFFDIO_COPY of a zero page")
          }
        } else if (f.kind === "wp") {
          const r = yield* sys.ioctl.writeprotect({ start: at, len: pb }, 0)
          if (!r.ok) observer.vmmError(`UFFDIO_WRITEPROTECT(!WP) of page ${f.page}: ${r.errno}`)
          note("resolved with UFFDIO_WRITEPROTECT(!WP)")
        } else note(`ignored a message at ${f.address}`)
      }
      // storage completes in submission order (one transfer pipe): copy each in as it lands
      for (const rd of reads) {
        state.doing = `waiting for the storage read of page ${rd.page} (done at t=${rd.done_ns})`
        yield* sys.sleep(rd.done_ns - (yield* sys.now))
        // the deliberate bug handler-copy-wrong-offset: the storage offset of the next page
        const word = store.read(bug === "handler-copy-wrong-offset" ? (rd.page + 1) % layout.pages : rd.page)
        yield* copyIn(rd.page, word, true)
        state.copies_from_storage++
        state.last.set(rd.page, {
          t_ns: yield* sys.now,
          kind: "missing",
          action: "answered with UFFDIO_COPY from storage"
        })
      }
    }
  })

  function copyIn(page: number, word: number, from_storage: boolean) {
    return Effect.gen(function* () {
      const at = layout.guest_mem + page * pb
      const r = yield* sys.ioctl.copy(at, pb, word)
      if (!r.ok && r.errno === "EEXIST") {
        // someone populated it meanwhile: the faulting vCPUs still wait for a wake
        yield* sys.ioctl.wake({ start: at, len: pb })
        return
      }
      if (!r.ok) {
        observer.vmmError(`UFFDIO_COPY to page ${page}: ${r.errno}`)
        return
      }
      pages.populated[page] = 1
      pages.evicted[page] = 0
      observer.populated(page, word, from_storage)
    })
  }
}
