/**
 * The synchronous engine: one clock, one event queue, the run's PRNG streams, its choice tape and
 * its trace. Events are plain values of the caller's type E; `dispatch` handles each one when its
 * time comes. Nothing but the queue's (t_ns, seq) order decides what runs next.
 */
import { type ChoicePolicy, ChoiceTape } from "./ChoiceTape.ts"
import { type EventHandle, EventQueue } from "./EventQueue.ts"
import { assert } from "./internal/assert.ts"
import { PrngStreams } from "./Prng.ts"
import { NullTrace, type Trace, type TraceFields } from "./Trace.ts"
import { assertTime, VirtualClock } from "./VirtualClock.ts"

/** How an engine is set up. */
export interface EngineOptions<E> {
  /** Root seed, an integer in [0, 2^53). */
  readonly seed: number
  /** Handles one event; the clock already reads the event's time. */
  readonly dispatch: (ev: E, engine: Engine<E>) => void
  /** Defaults to NullTrace. */
  readonly trace?: Trace
  /** Recorded scheduler choices to replay before drawing from the seed. */
  readonly schedule?: readonly number[]
  /** Makes the choices after the schedule instead of the seed (explorers, property tests). */
  readonly policy?: ChoicePolicy
}

/** A discrete-event engine over events of type E. */
export class Engine<E> {
  readonly clock = new VirtualClock()
  readonly queue = new EventQueue<E>()
  readonly streams: PrngStreams
  readonly tape: ChoiceTape
  readonly trace: Trace
  readonly #dispatch: (ev: E, engine: Engine<E>) => void

  constructor(options: EngineOptions<E>) {
    this.streams = new PrngStreams(options.seed)
    this.trace = options.trace ?? NullTrace
    this.tape = new ChoiceTape(this.streams.stream("sched"), this.clock, this.trace, options.schedule, options.policy)
    this.#dispatch = options.dispatch
  }

  /** The current virtual time in ns. */
  get now_ns(): number {
    return this.clock.now_ns
  }

  /** Queues `ev` at absolute time `t_ns` (not in the past). */
  schedule(t_ns: number, ev: E): EventHandle {
    // the message only when it fails: a template literal would format two numbers on every event
    if (!(t_ns >= this.clock.now_ns)) assert(false, `Engine.schedule: ${t_ns} is before now (${this.clock.now_ns})`)
    return this.queue.push(t_ns, ev)
  }

  /** Queues `ev` `delay_ns` from now. */
  schedule_in(delay_ns: number, ev: E): EventHandle {
    assertTime(delay_ns, "Engine.schedule_in")
    return this.schedule(this.clock.now_ns + delay_ns, ev)
  }

  /** Cancels a pending event; false if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    return this.queue.cancel(handle)
  }

  /** Pops the next event and moves the clock to its time, without dispatching it; undefined if none. */
  next(): E | undefined {
    const t_ns = this.queue.peekTime()
    if (t_ns === undefined) return undefined
    this.clock.advance_to(t_ns)
    return this.queue.pop()
  }

  /** Runs the next event; false when the queue is empty. */
  step(): boolean {
    if (this.queue.size === 0) return false
    this.#dispatch(this.next() as E, this)
    return true
  }

  /**
   * With a time: runs every event up to and including `t_ns`, then moves the clock to `t_ns`.
   * With a predicate: runs events until it holds (true) or nothing is left to run before
   * `deadline_ns` (false).
   */
  run_until(target: number | (() => boolean), deadline_ns: number = Number.MAX_SAFE_INTEGER - 1): boolean {
    if (typeof target === "number") {
      assertTime(target, "Engine.run_until")
      assert(target >= this.clock.now_ns, `Engine.run_until: ${target} is before now (${this.clock.now_ns})`)
      for (let t = this.queue.peekTime(); t !== undefined && t <= target; t = this.queue.peekTime()) this.step()
      this.clock.advance_to(target)
      return true
    }
    for (;;) {
      if (target()) return true
      const t = this.queue.peekTime()
      if (t === undefined || t > deadline_ns) return false
      this.step()
    }
  }

  /** A scheduler choice in [0, n) through the tape (drawn, replayed, recorded, traced). */
  choose(kind: string, n: number): number {
    return this.tape.choose(kind, n)
  }

  /** Writes a trace event at the current time. */
  emit(ev: string, fields?: TraceFields): void {
    this.trace.emit(this.clock.now_ns, ev, fields)
  }
}
