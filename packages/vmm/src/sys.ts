// The VMM's system calls as Effects, so its threads read like the admin guide's C:
//   yield* ioctl.rwprotect(all, UFFDIO_RWPROTECT_MODE_RWP)
// Each call happens at the current virtual time, then the calling thread sleeps for what the call
// costs (machine.costs); the vCPUs the call woke retry at once (host.kernelCalled). A failure the
// VMM cannot handle is reported to the observer and ends nothing: the caller decides.
import * as K from "@rwpsim/kernel"
import { Sim, type TraceFields } from "@rwpsim/sched"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type { VmmHost } from "./host.ts"

/** An address range in bytes. */
export interface ByteRange {
  readonly start: number
  readonly len: number
}

/** A result of a VMM call: ok, or the kernel's errno name. */
export type CallResult = { readonly ok: true } | { readonly ok: false; readonly errno: string }

/** The result of every call that succeeded (results are read-only: one object for all). */
const OK: CallResult = { ok: true }

const errnoOf = (r: { ok: boolean; errno?: string }): CallResult =>
  r.ok ? OK : { ok: false, errno: r.errno ?? "EINVAL" }

/** The Sim services a call uses, read off the calling fiber's context. */
interface CallServices {
  readonly clock: Sim.Clock["Service"]
  readonly trace: Sim.Trace["Service"]
  readonly sched: Sim.Scheduler["Service"]
}

/** The system calls a VMM thread makes, bound to one host. */
export function syscalls(host: VmmHost) {
  const k = host.kernel
  const c = host.costs
  const fd = host.layout.uffd
  const pages = (len: number) => Math.ceil(len / host.layout.page_bytes)

  // Each call is one primitive (Effect.withFiber): the services come from the fiber's context,
  // looked up again only when the context is not the one of the last call (a thread's context
  // does not change between its calls), so a call costs no generator and no service lookups.
  let context: Context.Context<never> | undefined
  let services: CallServices | undefined
  const servicesOf = (fiber: Fiber.Fiber<unknown, unknown>): CallServices => {
    if (fiber.context !== context || services === undefined) {
      const ctx = fiber.context as Context.Context<Sim.Services>
      services = {
        clock: Context.get(ctx, Sim.Clock),
        trace: Context.get(ctx, Sim.Trace),
        sched: Context.get(ctx, Sim.Scheduler)
      }
      context = fiber.context
    }
    return services
  }
  /** An Effect over the Sim services: `f` runs synchronously when the Effect runs. */
  const withServices = <A>(f: (s: CallServices) => Effect.Effect<A>): Effect.Effect<A, never, Sim.Services> =>
    Effect.withFiber((fiber) => f(servicesOf(fiber)))

  /** Runs `f` now, lets woken vCPUs retry, traces, then sleeps `cost_ns`. */
  const call = <A extends { ok: boolean; errno?: string }>(
    ev: string,
    fields: TraceFields,
    cost_ns: number,
    f: () => A
  ): Effect.Effect<A, never, Sim.Services> =>
    Effect.withFiber((fiber) => {
      const s = servicesOf(fiber)
      const r = f()
      host.kernelCalled()
      if (s.trace.enabled) s.trace.emitUnsafe(ev, r.ok ? fields : { ...fields, errno: r.errno ?? "?" })
      return cost_ns > 0 ? Effect.as(s.sched.sleep(cost_ns), r) : Effect.succeed(r)
    })

  const now = withServices((s) => s.clock.now_ns)

  return {
    now,
    /** Sleeps `ns` of virtual time (0 is no sleep). */
    sleep: (ns: number) => (ns > 0 ? withServices((s) => s.sched.sleep(ns)) : Effect.void),
    /** Parks the calling thread on `key` until the driver unparks it. */
    park: (key: string) => withServices((s) => s.sched.park(key)),
    emit: (ev: string, fields?: TraceFields) =>
      withServices((s) => {
        if (s.trace.enabled) s.trace.emitUnsafe(ev, fields)
        return Effect.void
      }),

    ioctl: {
      /** fs/userfaultfd.c: userfaultfd_rwprotect() — a walk of the range and one shootdown. */
      rwprotect: (r: ByteRange, mode: number) =>
        call(
          "vmm.rwprotect",
          { start: r.start, len: r.len, mode },
          // only taking permissions away needs the other CPUs' TLBs flushed
          c.ioctl + c.scan_per_page * pages(r.len) + (mode & K.UFFDIO_RWPROTECT_MODE_RWP ? c.tlb_shootdown : 0),
          () => errnoOf(k.uffdio_rwprotect(fd, r.start, r.len, mode))
        ),
      /** fs/userfaultfd.c: userfaultfd_writeprotect() */
      writeprotect: (r: ByteRange, mode: number) =>
        call(
          "vmm.writeprotect",
          { start: r.start, len: r.len, mode },
          c.ioctl + c.scan_per_page * pages(r.len) + (mode & K.UFFDIO_WRITEPROTECT_MODE_WP ? c.tlb_shootdown : 0),
          () => errnoOf(k.uffdio_writeprotect(fd, r.start, r.len, mode))
        ),
      /** fs/userfaultfd.c: userfaultfd_set_mode() */
      setMode: (m: { readonly enable?: number; readonly disable?: number }) =>
        call("vmm.set_mode", { enable: m.enable ?? 0, disable: m.disable ?? 0 }, c.ioctl, () =>
          errnoOf(k.uffdio_set_mode(fd, m.enable ?? 0, m.disable ?? 0))
        ),
      /** fs/userfaultfd.c: userfaultfd_wake() */
      wake: (r: ByteRange) =>
        call("vmm.wake", { start: r.start, len: r.len }, c.ioctl, () => errnoOf(k.uffdio_wake(fd, r.start, r.len))),
      /** fs/userfaultfd.c: userfaultfd_copy() with one word per page, all `word`. */
      copy: (dst: number, len: number, word: number) =>
        call("vmm.copy", { dst, len, word }, c.ioctl, () => errnoOf(k.uffdio_copy(fd, dst, null, word, len, 0))),
      /** fs/proc/task_mmu.c: do_pagemap_scan() over [start, end), unlimited vector. */
      pagemapScan: (a: {
        readonly start: number
        readonly end: number
        readonly category_mask: number
        readonly category_inverted?: number
        readonly return_mask: number
      }) =>
        withServices((s) => {
          const r = k.pagemap_scan({
            size: 96,
            flags: 0,
            start: a.start,
            end: a.end,
            vec_len: Number.POSITIVE_INFINITY,
            max_pages: 0,
            category_inverted: a.category_inverted ?? 0,
            category_mask: a.category_mask,
            category_anyof_mask: 0,
            return_mask: a.return_mask
          })
          host.kernelCalled()
          if (s.trace.enabled) {
            s.trace.emitUnsafe(
              "vmm.pagemap_scan",
              r.ok
                ? { mask: a.category_mask, inverted: a.category_inverted ?? 0, regions: r.count }
                : { errno: r.errno }
            )
          }
          return Effect.as(s.sched.sleep(c.ioctl + c.scan_per_page * pages(a.end - a.start)), r.ok ? r.vec : null)
        })
    },
    /** mm/shmem.c: shmem_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) */
    punchHole: (offset: number, len: number) =>
      call("vmm.punch_hole", { offset, len }, c.ioctl, () =>
        errnoOf(k.fallocate(host.layout.memfd, K.FALLOC_FL_PUNCH_HOLE | K.FALLOC_FL_KEEP_SIZE, offset, len))
      ),
    /** mm/page_idle.c: write 1s to /sys/kernel/mm/page_idle/bitmap for guest memory's PFNs. */
    pageIdleMark: (r: ByteRange) =>
      call("vmm.page_idle_mark", { start: r.start, len: r.len }, c.ioctl + c.scan_per_page * pages(r.len), () =>
        errnoOf(k.page_idle_mark(r.start, r.len))
      ),
    /** mm/page_idle.c: read the bitmap back; out[i] = 1 for base page i still idle. */
    pageIdleRead: (r: ByteRange, out: Uint8Array) =>
      call("vmm.page_idle_read", { start: r.start, len: r.len }, c.ioctl + c.scan_per_page * pages(r.len), () =>
        k.page_idle_read(r.start, r.len, out)
      ),
    /** mm/madvise.c: madvise(MADV_PAGEOUT) */
    pageout: (r: ByteRange) =>
      call("vmm.madvise_pageout", { start: r.start, len: r.len }, c.ioctl + c.scan_per_page * pages(r.len), () =>
        errnoOf(k.madvise(r.start, r.len, K.MADV_PAGEOUT))
      )
  }
}

export type Syscalls = ReturnType<typeof syscalls>

/**
 * A VMM thread: its host, its state (for the trace, the wait-for chain and the metrics), its
 * system calls and the tracking page's size. The threads are classes whose steps are generator
 * methods, not closures made per run: V8 keeps optimized code with its function, and a closure's
 * code dies with its last instance at the next full GC, so a sweep worker would compile every
 * run's closures again.
 */
export abstract class VmmThread<S> {
  readonly sys: Syscalls
  readonly pb: number

  constructor(
    readonly host: VmmHost,
    readonly state: S
  ) {
    this.sys = syscalls(host)
    this.pb = host.layout.page_bytes
  }
}
