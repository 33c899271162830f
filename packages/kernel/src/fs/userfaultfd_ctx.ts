// fs/userfaultfd.c: struct userfaultfd_ctx, its wait queues and messages. A faulting task sleeps on
// fault_pending_wqh until its message is read, then on fault_wqh; a wake removes it from either
// (userfaultfd_wake_function), so a message nobody read yet disappears with its waiter.
import { UFFD_EVENT_PAGEFAULT } from "../uapi.ts"

export interface UffdMsg {
  readonly event: number
  readonly flags: number
  /** pagefault: the (page-aligned unless EXACT_ADDRESS) fault address; remove/unmap: start. */
  readonly address: number
  /** remove/unmap: the end of the range. */
  readonly end?: number
  /** UFFD_FEATURE_THREAD_ID: the faulting task. */
  readonly ptid?: number
}

/** Something a task can sleep on; describe() names it for hang reports. */
export interface WaitObject {
  describe(): string
}

/** struct userfaultfd_wait_queue: one task asleep in handle_userfault(). */
export class UffdWaiter implements WaitObject {
  /** The message has been read (the waiter moved to fault_wqh). */
  read = false
  constructor(
    readonly task: number,
    readonly ctx: UffdCtx,
    /** Page-aligned fault address (what wakes match against). */
    readonly address: number,
    readonly msg: UffdMsg
  ) {}

  describe(): string {
    const kind = reasonName(this.msg.flags)
    const state = this.read ? "message read, waiting for a wake" : "message queued, not read"
    return `userfaultfd ${this.ctx.fd} (${kind} fault at 0x${this.address.toString(16)}, ${state})`
  }
}

function reasonName(flags: number): string {
  if (flags & 0x8) return "RWP"
  if (flags & 0x2) return "WP"
  if (flags & 0x4) return "MINOR"
  return "MISSING"
}

/** Moves the waiters of `q` in [start, start + len) (all for len 0) to `out`, in order. */
function takeFrom(q: UffdWaiter[], start: number, len: number, out: UffdWaiter[]): void {
  let j = 0
  for (let i = 0; i < q.length; i++) {
    const w = q[i]!
    if (len === 0 || (w.address >= start && w.address < start + len)) out.push(w)
    else q[j++] = w
  }
  // (an array's length set is a runtime call: only when something left)
  if (j < q.length) q.length = j
}

export class UffdCtx {
  /** UFFDIO_API succeeded (UFFD_FEATURE_INITIALIZED). */
  initialized = false
  /** The features asked for in UFFDIO_API, as changed by UFFDIO_SET_MODE. */
  features = 0
  /** close() ran: userfaultfd_release(). */
  released = false
  readonly fault_pending_wqh: UffdWaiter[] = []
  readonly fault_wqh: UffdWaiter[] = []
  /** Non-cooperative events not yet read; each holds mmap_changing up. */
  readonly events: UffdMsg[] = []

  constructor(
    readonly fd: number,
    /** O_NONBLOCK, UFFD_USER_MODE_ONLY */
    readonly flags: number,
    readonly nonblock: boolean,
    readonly user_mode_only: boolean
  ) {}

  /** ctx->mmap_changing */
  get mmap_changing(): boolean {
    return this.events.length > 0
  }

  hasMessages(): boolean {
    return this.fault_pending_wqh.length > 0 || this.events.length > 0
  }

  /** Removes and returns the waiters whose address is in [start, start + len) (len 0: all). */
  takeWaiters(start: number, len: number): UffdWaiter[] {
    const out: UffdWaiter[] = []
    takeFrom(this.fault_pending_wqh, start, len, out)
    takeFrom(this.fault_wqh, start, len, out)
    return out
  }

  remove(w: UffdWaiter): void {
    for (const q of [this.fault_pending_wqh, this.fault_wqh]) {
      const i = q.indexOf(w)
      if (i >= 0) q.splice(i, 1)
    }
  }
}

export const isPagefault = (m: UffdMsg) => m.event === UFFD_EVENT_PAGEFAULT
