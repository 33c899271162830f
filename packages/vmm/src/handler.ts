// The VMM's fault-handler thread. It polls the userfaultfd (parks until the driver says a message
// is queued), reads every queued message, and answers each:
// - MISSING on a page the VMM evicted: read it back from storage, then UFFDIO_COPY the stored word;
//   MISSING on a page never evicted: UFFDIO_COPY a zero page (first touch);
// - a sync RWP fault on a page being evicted: left alone (the UFFDIO_WAKE after the punch releases
//   it, and its retry faults as MISSING); on any other page: resolved with UFFDIO_RWPROTECT(!RWP).
// Storage reads of one batch are submitted together, so they overlap up to the queue depth.
//
// A userfault round trip is the run's most frequent VMM event (one per first touch and refault),
// so the loop allocates nothing per message: the batch and the reads in flight live in reusable
// arrays, and the notes (what the handler last did with a fault on a page, for the checker's and
// the hung-vCPU chain's messages) in a ring of typed arrays, their texts built when read.
import * as K from "@rwpsim/kernel"
import type { Sim } from "@rwpsim/sched"
import * as Effect from "effect/Effect"
import type { VmmHost } from "./host.ts"
import { VmmThread } from "./sys.ts"

/** The kind of a message the handler took from the userfaultfd. */
export type FaultKind = "missing" | "rwp" | "wp" | "other"

const KIND_MISSING = 0
const KIND_RWP = 1
const KIND_WP = 2
const KIND_OTHER = 3
const KIND_NAMES: readonly FaultKind[] = ["missing", "rwp", "wp", "other"]

/** What the handler did with a fault (the action codes of HandlerNotes; 0 is "nothing yet"). */
export const HandlerAction = {
  LeftToWake: 1,
  RwpResolved: 2,
  IgnoredMissing: 3,
  ReadSubmitted: 4,
  ZeroFilled: 5,
  WpResolved: 6,
  CopiedFromStorage: 7,
  /** A message of another kind: its text is kept aside (rare). */
  Other: 8
} as const

const ACTION_TEXT: readonly string[] = [
  "",
  "left to the wake after the punch (page under eviction)",
  "resolved with UFFDIO_RWPROTECT(!RWP)",
  "read and never answered (deliberate bug handler-ignores-missing)",
  "storage read submitted",
  "answered with UFFDIO_COPY of a zero page",
  "resolved with UFFDIO_WRITEPROTECT(!WP)",
  "answered with UFFDIO_COPY from storage"
]

/** The last thing the handler did with a fault on a page. */
export interface HandlerNote {
  readonly t_ns: number
  readonly kind: string
  readonly action: string
}

/** Notes the handler keeps: its last this many actions (about 1.1 MiB, whatever the guest's size). */
export const HANDLER_NOTES_KEPT = 1 << 16
const NOTES_FIRST_ROOM = 256

/**
 * The last HANDLER_NOTES_KEPT things the handler did with a fault, in a ring of typed arrays (page,
 * time, one byte of kind and action); `get` finds a page's newest note and builds its object.
 * Not one note per page: 9 B per guest page would be over a quarter of the 64 GiB guest's state
 * budget, and the notes are read only to explain a failure (a data loss, a hung vCPU), which is
 * about recent faults. `kept_since_ns` says how far back they go. Messages of another kind (and
 * pages outside guest memory) keep their text in a Map.
 */
export class HandlerNotes {
  readonly kept: number
  // The arrays start at NOTES_FIRST_ROOM slots and double until they hold `kept`: most runs note a
  // few hundred faults, and 1.1 MiB per run up front was a tenth of a small sweep's time.
  #page: Float64Array
  #t_ns: Float64Array
  /** kind << 4 | action. */
  #code: Uint8Array
  /** Notes written so far; the newest is at (#written - 1) % kept. */
  #written = 0
  readonly #aside = new Map<number, HandlerNote>()

  constructor(kept = HANDLER_NOTES_KEPT) {
    this.kept = kept
    const room = Math.min(kept, NOTES_FIRST_ROOM)
    this.#page = new Float64Array(room)
    this.#t_ns = new Float64Array(room)
    this.#code = new Uint8Array(room)
  }

  /** The newest note of `page` among those kept, if any (a scan of the ring: a failure's path). */
  get(page: number): HandlerNote | undefined {
    const kept = this.kept
    const n = Math.min(this.#written, kept)
    for (let i = 1; i <= n; i++) {
      const slot = (this.#written - i) % kept
      if (this.#page[slot] !== page) continue
      const code = this.#code[slot]!
      const action = code & 15
      if (action === HandlerAction.Other) return this.#aside.get(page)
      return { t_ns: this.#t_ns[slot]!, kind: KIND_NAMES[code >> 4]!, action: ACTION_TEXT[action]! }
    }
    return this.#aside.get(page)
  }

  has(page: number): boolean {
    return this.get(page) !== undefined
  }

  /**
   * From when the notes are complete: the time of the oldest note kept once the ring has dropped
   * one, -Infinity before. A page with no note since then had no fault the handler read.
   */
  get kept_since_ns(): number {
    return this.#written <= this.kept ? Number.NEGATIVE_INFINITY : this.#t_ns[this.#written % this.kept]!
  }

  /** Notes `action` (a HandlerAction other than Other) on a fault of `kind` at `page` (a guest page). */
  set(page: number, t_ns: number, kind: number, action: number): void {
    if (this.#written === this.#page.length && this.#written < this.kept) this.#grow()
    const slot = this.#written % this.kept
    this.#page[slot] = page
    this.#t_ns[slot] = t_ns
    this.#code[slot] = (kind << 4) | action
    this.#written++
  }

  /** Doubles the arrays (up to `kept`); the ring has not wrapped yet, so slots keep their index. */
  #grow(): void {
    const room = Math.min(this.kept, this.#page.length * 2)
    const page = new Float64Array(room)
    const t_ns = new Float64Array(room)
    const code = new Uint8Array(room)
    page.set(this.#page)
    t_ns.set(this.#t_ns)
    code.set(this.#code)
    this.#page = page
    this.#t_ns = t_ns
    this.#code = code
  }

  /** Notes a message of another kind, with its own text (`page` may lie outside guest memory). */
  setOther(page: number, t_ns: number, action: string): void {
    this.#aside.set(page, { t_ns, kind: "other", action })
    this.set(page, t_ns, KIND_OTHER, HandlerAction.Other)
  }
}

const DOING_TEXT = 0
const DOING_PARKED = 1
const DOING_RWP = 2
const DOING_ZERO = 3
const DOING_READ = 4

/** The fault handler's state, readable by the driver for the wait-for chain of a hung vCPU. */
export class HandlerState {
  // what the handler is doing, as numbers (the text is built when someone reads `doing`)
  #doing = DOING_TEXT
  #doing_text = "starting"
  #doing_a = 0
  #doing_b = 0
  /** The last things the handler did with faults, by page (the newest HANDLER_NOTES_KEPT). */
  readonly last: HandlerNotes
  messages = 0
  rwp_messages = 0
  missing_messages = 0
  copies_from_storage = 0
  zero_fills = 0
  rwp_resolved = 0
  rwp_left = 0

  /** `notes_kept`: how many of its last actions the handler keeps notes of. */
  constructor(notes_kept = HANDLER_NOTES_KEPT) {
    this.last = new HandlerNotes(notes_kept)
  }

  /** What the handler is doing now. */
  get doing(): string {
    switch (this.#doing) {
      case DOING_PARKED:
        return `parked on the userfaultfd (poll) since t=${this.#doing_a}`
      case DOING_RWP:
        return `resolving an RWP fault at page ${this.#doing_a}`
      case DOING_ZERO:
        return `zero-filling page ${this.#doing_a}`
      case DOING_READ:
        return `waiting for the storage read of page ${this.#doing_a} (done at t=${this.#doing_b})`
      default:
        return this.#doing_text
    }
  }

  set doing(text: string) {
    this.#doing = DOING_TEXT
    this.#doing_text = text
  }

  /** Parked on the userfaultfd since t_ns. */
  parked(t_ns: number): void {
    this.#doing = DOING_PARKED
    this.#doing_a = t_ns
  }

  resolvingRwp(page: number): void {
    this.#doing = DOING_RWP
    this.#doing_a = page
  }

  zeroFilling(page: number): void {
    this.#doing = DOING_ZERO
    this.#doing_a = page
  }

  waitingForRead(page: number, done_ns: number): void {
    this.#doing = DOING_READ
    this.#doing_a = page
    this.#doing_b = done_ns
  }
}

/** The fault-handler thread of `host` (spawn it with Sim.Scheduler.spawn). */
export function faultHandler(host: VmmHost, state: HandlerState): Effect.Effect<void, never, Sim.Services> {
  const h = new FaultHandler(host, state)
  return Effect.gen(function* () {
    yield* h.run()
  })
}

/** The handler thread's batch and loop (the loop alone took about 55 ms of TurboFan per compile). */
class FaultHandler extends VmmThread<HandlerState> {
  readonly notes: HandlerNotes
  // the batch of messages read (reused: a batch is at most one message per blocked vCPU, or so)
  readonly kinds: number[] = []
  readonly faultPages: number[] = []
  readonly addresses: number[] = []
  // the batch's MISSING pages answered or queued so far, and its storage reads in submission order
  readonly queued: number[] = []
  readonly readPages: number[] = []
  readonly readDone: number[] = []

  constructor(host: VmmHost, state: HandlerState) {
    super(host, state)
    this.notes = state.last
  }

  /** Reads every queued message into the batch; returns how many. */
  drain(): number {
    const { kernel, layout, observer } = this.host
    const { kinds, faultPages, addresses, pb } = this
    let n = 0
    for (;;) {
      const r = kernel.read_msg(layout.uffd)
      if (!r.ok) {
        if (!("blocked" in r) && r.errno !== "EAGAIN") observer.vmmError(`read_msg on the userfaultfd: ${r.errno}`)
        return n
      }
      const m = r.msg
      const page = Math.floor((m.address - layout.guest_mem) / pb)
      let kind = KIND_OTHER
      if (m.event === K.UFFD_EVENT_PAGEFAULT && page >= 0 && page < layout.pages) {
        if (m.flags & K.UFFD_PAGEFAULT_FLAG_RWP) kind = KIND_RWP
        else if (m.flags & K.UFFD_PAGEFAULT_FLAG_WP) kind = KIND_WP
        else kind = KIND_MISSING
      }
      kinds[n] = kind
      faultPages[n] = page
      addresses[n] = m.address
      n++
    }
  }

  note(page: number, t_ns: number, kind: number, action: number): void {
    this.notes.set(page, t_ns, kind, action)
    this.host.observer.message(KIND_NAMES[kind]!, page, ACTION_TEXT[action]!)
  }

  /** After UFFDIO_COPY of `word` to `page`: the bookkeeping; true if the faulting vCPUs still need a wake. */
  copied(r: { ok: boolean; errno?: string }, page: number, word: number, from_storage: boolean): boolean {
    const { pages, observer } = this.host
    // EEXIST: someone populated it meanwhile: the faulting vCPUs still wait for a wake
    if (!r.ok && r.errno === "EEXIST") return true
    if (!r.ok) {
      observer.vmmError(`UFFDIO_COPY to page ${page}: ${r.errno}`)
      return false
    }
    pages.populated.set(page, true)
    pages.evicted.set(page, false)
    observer.populated(page, word, from_storage)
    return false
  }

  *run() {
    const { host, state, sys, pb, notes, kinds, faultPages, addresses, queued, readPages, readDone } = this
    const { layout, pages, observer, device, store } = host
    const bug = host.config.bug
    for (;;) {
      const n = this.drain()
      host.kernelCalled()
      if (n === 0) {
        state.parked(yield* sys.now)
        yield* sys.park(host.uffd_poll_key)
        continue
      }
      state.messages += n
      // (an array's length set is a runtime call: only when there is something to drop)
      if (queued.length > 0) queued.length = 0
      if (readPages.length > 0) {
        readPages.length = 0
        readDone.length = 0
      }
      for (let i = 0; i < n; i++) {
        const kind = kinds[i]!
        const page = faultPages[i]!
        const t = yield* sys.now
        const at = layout.guest_mem + page * pb
        if (kind === KIND_RWP) {
          state.rwp_messages++
          if (pages.evicting.get(page) && bug !== "handler-resolves-evicting") {
            state.rwp_left++
            this.note(page, t, kind, HandlerAction.LeftToWake)
            continue
          }
          state.resolvingRwp(page)
          const r = yield* sys.ioctl.rwprotect({ start: at, len: pb }, 0)
          if (!r.ok) observer.vmmError(`UFFDIO_RWPROTECT(!RWP) of page ${page}: ${r.errno}`)
          state.rwp_resolved++
          this.note(page, t, kind, HandlerAction.RwpResolved)
        } else if (kind === KIND_MISSING) {
          state.missing_messages++
          if (bug === "handler-ignores-missing") {
            this.note(page, t, kind, HandlerAction.IgnoredMissing)
            continue
          }
          // a page this batch already answered or queued (a linear search: a batch is small)
          if (queued.includes(page)) continue
          queued.push(page)
          if (pages.evicted.get(page)) {
            const done_ns = device.submit(t, pb)
            readPages.push(page)
            readDone.push(done_ns)
            yield* sys.emit("vmm.pread", { page, done: done_ns })
            this.note(page, t, kind, HandlerAction.ReadSubmitted)
          } else {
            state.zeroFilling(page)
            const r = yield* sys.ioctl.copy(at, pb, 0)
            if (this.copied(r, page, 0, false)) yield* sys.ioctl.wake({ start: at, len: pb })
            state.zero_fills++
            this.note(page, t, kind, HandlerAction.ZeroFilled)
          }
        } else if (kind === KIND_WP) {
          const r = yield* sys.ioctl.writeprotect({ start: at, len: pb }, 0)
          if (!r.ok) observer.vmmError(`UFFDIO_WRITEPROTECT(!WP) of page ${page}: ${r.errno}`)
          this.note(page, t, kind, HandlerAction.WpResolved)
        } else {
          const action = `ignored a message at ${addresses[i]}`
          notes.setOther(page, t, action)
          observer.message("other", page, action)
        }
      }
      // storage completes in submission order (one transfer pipe): copy each in as it lands
      for (let j = 0; j < readPages.length; j++) {
        const page = readPages[j]!
        const done_ns = readDone[j]!
        state.waitingForRead(page, done_ns)
        yield* sys.sleep(done_ns - (yield* sys.now))
        // the deliberate bug handler-copy-wrong-offset: the storage offset of the next page
        const word = store.read(bug === "handler-copy-wrong-offset" ? (page + 1) % layout.pages : page)
        const at = layout.guest_mem + page * pb
        const r = yield* sys.ioctl.copy(at, pb, word)
        if (this.copied(r, page, word, true)) yield* sys.ioctl.wake({ start: at, len: pb })
        state.copies_from_storage++
        notes.set(page, yield* sys.now, KIND_MISSING, HandlerAction.CopiedFromStorage)
      }
    }
  }
}
