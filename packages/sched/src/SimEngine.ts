/**
 * The engine with simulated threads. A thread (an Effect fiber, see Sim.ts) runs only when the
 * event queue resumes it: it blocks by awaiting a Resume event (`resume.wait`), put on the queue
 * by sleep or, through a wait queue, by unpark. The engine tracks which thread runs so the driver
 * can let each woken thread reach its next block before the next event.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { Engine, type EngineOptions } from "./Engine.ts"
import { assert } from "./internal/assert.ts"

/** Where a simulated thread is: queued to run, running, blocked, or finished. */
export type ThreadState = "runnable" | "running" | "sleeping" | "parked" | "done"

/** A simulated thread (spawn order gives its id). */
export class Thread {
  state: ThreadState = "runnable"
  /** The wait key it is parked on, or "sleep"; null while runnable, running or done. */
  on: string | null = null

  constructor(
    readonly id: number,
    readonly name: string
  ) {}
}

/**
 * The event that resumes `thread`, which awaits `wait`. A one-shot latch, lighter than a Deferred
 * (a thread blocks once per sleep, park and ioctl): `fire` completes it, `wait` suspends the
 * awaiting fiber until then (or goes on at once if it already fired).
 */
export class Resume {
  #fired = false
  #waiter: ((effect: Effect.Effect<void>) => void) | undefined = undefined
  /** Suspends the calling fiber until `fire` (a single-argument register: no AbortSignal). */
  readonly wait: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (this.#fired) resume(Effect.void)
    else this.#waiter = resume
  })

  constructor(readonly thread: Thread) {}

  /** Resumes the fiber awaiting `wait` (synchronously, if it is suspended there). */
  fire(): void {
    if (this.#fired) return
    this.#fired = true
    const waiter = this.#waiter
    this.#waiter = undefined
    if (waiter !== undefined) waiter(Effect.void)
  }
}

/** How unpark picks among waiters: first come first served, or a recorded scheduler choice. */
export type WakeOrder = "fifo" | "choice"

/** Options of a SimEngine: those of Engine, with `dispatch` for the caller's own events only. */
export interface SimEngineOptions<E> extends Omit<EngineOptions<E | Resume>, "dispatch"> {
  readonly dispatch?: (ev: E, engine: SimEngine<E>) => void
}

/** An Engine whose queue also carries thread resumptions. */
export class SimEngine<E = never> extends Engine<E | Resume> {
  readonly #threads: Thread[] = []
  readonly #waitqueues = new Map<string, Resume[]>()
  #running = 0
  #failure: Cause.Cause<never> | undefined

  constructor(options: SimEngineOptions<E>) {
    const user = options.dispatch
    super({
      ...options,
      dispatch: (ev, engine) => {
        if (ev instanceof Resume) (engine as SimEngine<E>).#resume(ev)
        else {
          assert(user !== undefined, "SimEngine: an event of the caller's type, but no dispatch was given")
          user(ev, engine as SimEngine<E>)
        }
      }
    })
  }

  /** How many threads are running (resumed and not yet blocked again). */
  get running(): number {
    return this.#running
  }

  /** Every thread spawned so far, in spawn order. */
  threads(): readonly Thread[] {
    return this.#threads
  }

  /** How many threads are parked on `key`. */
  waiters(key: string): number {
    return this.#waitqueues.get(key)?.length ?? 0
  }

  /** Wakes one thread parked on `key` (the first, or a choice); false if none was parked. */
  unpark(key: string, order: WakeOrder = "fifo"): boolean {
    const queue = this.#waitqueues.get(key)
    if (queue === undefined || queue.length === 0) return false
    const i = order === "choice" ? this.choose("unpark", queue.length) : 0
    const resume = queue[i]!
    // in place (splice would allocate the array of what it removed)
    for (let j = i + 1; j < queue.length; j++) queue[j - 1] = queue[j]!
    queue.length--
    this.#wake(resume)
    return true
  }

  /** Wakes every thread parked on `key`, in FIFO order or a chosen one; returns how many. */
  unparkAll(key: string, order: WakeOrder = "fifo"): number {
    const queue = this.#waitqueues.get(key)
    if (queue === undefined || queue.length === 0) return 0
    this.#waitqueues.delete(key)
    const picks = order === "choice" ? this.tape.order("unpark_all", queue.length) : queue.map((_, i) => i)
    for (const i of picks) this.#wake(queue[i]!)
    return queue.length
  }

  /** Registers a new thread, to be started by the Resume the caller queues. */
  newThread(name: string): Thread {
    const thread = new Thread(this.#threads.length, name)
    this.#threads.push(thread)
    if (this.trace.enabled) this.emit("spawn", { thread: name })
    return thread
  }

  /** Marks the running `thread` blocked (sleeping, or parked on `on`) and returns the Resume that will wake it. */
  block(thread: Thread, state: "sleeping" | "parked", on: string): Resume {
    if (thread.state !== "running")
      assert(false, `SimEngine.block: thread ${thread.name} is ${thread.state}, not running`)
    thread.state = state
    thread.on = on
    this.#running--
    const resume = new Resume(thread)
    if (state === "parked") {
      const queue = this.#waitqueues.get(on)
      if (queue === undefined) this.#waitqueues.set(on, [resume])
      else queue.push(resume)
    }
    return resume
  }

  /** Records a thread's end; a failure other than interruption is kept for the driver to raise. */
  exit(thread: Thread, exit: Exit.Exit<void>): void {
    if (thread.state === "running") this.#running--
    if (thread.state === "parked") {
      const queue = this.#waitqueues.get(thread.on!)!
      queue.splice(
        queue.findIndex((r) => r.thread === thread),
        1
      )
    }
    thread.state = "done"
    thread.on = null
    if (Exit.isSuccess(exit)) {
      if (this.trace.enabled) this.emit("exit", { thread: thread.name })
    } else if (!Cause.hasInterruptsOnly(exit.cause)) this.#failure ??= exit.cause
  }

  /** The first thread failure not yet raised, if any. */
  takeFailure(): Cause.Cause<never> | undefined {
    const failure = this.#failure
    this.#failure = undefined
    return failure
  }

  #wake(resume: Resume): void {
    const thread = resume.thread
    if (thread.state !== "parked") assert(false, `SimEngine.unpark: thread ${thread.name} is ${thread.state}`)
    thread.state = "runnable"
    if (this.trace.enabled) this.emit("unpark", { thread: thread.name, on: thread.on! })
    thread.on = null
    this.schedule(this.now_ns, resume)
  }

  #resume(resume: Resume): void {
    const thread = resume.thread
    if (thread.state === "done") return // interrupted while queued
    if (thread.state === "running") assert(false, `SimEngine: thread ${thread.name} resumed while running`)
    thread.state = "running"
    thread.on = null
    this.#running++
    if (this.trace.enabled) this.emit("resume", { thread: thread.name })
    resume.fire()
  }
}
