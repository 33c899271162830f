/**
 * The Effect layer of the engine: services `Clock`, `Prng`, `Trace` and `Scheduler` over one
 * SimEngine, for the VMM's threads (tracker, fault handler, storage), written with Effect.gen.
 * Each simulated thread is a fiber that runs only when the event queue resumes it; the driver
 * (`Scheduler.run_until`) pops one event at a time and yields until the woken thread has blocked
 * again, so Effect's own scheduling never decides the order of simulated events. Run a program
 * with `runSyncExit(engine, program)`: one synchronous task queue, no host timers or microtasks.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { assert } from "./internal/assert.ts"
import { SyncScheduler } from "./internal/syncScheduler.ts"
import type { Prng as PrngStream } from "./Prng.ts"
import { Resume, type SimEngine, type Thread, type WakeOrder } from "./SimEngine.ts"
import type { TraceFields } from "./Trace.ts"
import { assertTime } from "./VirtualClock.ts"

/** Virtual time. */
export class Clock extends Context.Service<
  Clock,
  {
    readonly now_ns: Effect.Effect<number>
    /** The time now, read synchronously (from inside a primitive that already runs, e.g. Effect.withFiber). */
    readonly nowUnsafe: () => number
  }
>()("@rwpsim/sched/Clock") {}

/** The run's PRNG streams, one per purpose ("storage", "faults", ...). Draws are plain calls. */
export class Prng extends Context.Service<Prng, { readonly stream: (purpose: string) => PrngStream }>()(
  "@rwpsim/sched/Prng"
) {}

/** The run's trace, stamped with the current virtual time. */
export class Trace extends Context.Service<
  Trace,
  {
    readonly enabled: boolean
    readonly emit: (ev: string, fields?: TraceFields) => Effect.Effect<void>
    /** Writes the line now, synchronously (from inside a primitive that already runs). */
    readonly emitUnsafe: (ev: string, fields?: TraceFields) => void
  }
>()("@rwpsim/sched/Trace") {}

/** Simulated threads: spawn them, let them sleep and park, and drive the run. */
export class Scheduler extends Context.Service<
  Scheduler,
  {
    /** Starts a thread at the current time (after the events already queued for now). */
    readonly spawn: <R>(name: string, thread: Effect.Effect<void, never, R>) => Effect.Effect<void, never, R>
    /** Blocks the calling thread for `duration_ns` of virtual time. */
    readonly sleep: (duration_ns: number) => Effect.Effect<void>
    /** Blocks the calling thread on wait queue `key` until an unpark wakes it. */
    readonly park: (key: string) => Effect.Effect<void>
    /** Wakes one thread parked on `key`; false if none was (a wake with no waiter is lost, as in Linux). */
    readonly unpark: (key: string, order?: WakeOrder) => Effect.Effect<boolean>
    /** Wakes every thread parked on `key`; returns how many. */
    readonly unparkAll: (key: string, order?: WakeOrder) => Effect.Effect<number>
    /** A scheduler choice in [0, n), drawn or replayed and recorded on the tape. */
    readonly choose: (kind: string, n: number) => Effect.Effect<number>
    /**
     * The driver: runs events (and the threads they wake) until virtual time `t_ns`, then moves
     * the clock there; or until `predicate` holds (true) or nothing is left before `deadline_ns` (false).
     * A failing thread fails the run.
     */
    readonly run_until: (target: number | (() => boolean), deadline_ns?: number) => Effect.Effect<boolean>
  }
>()("@rwpsim/sched/Scheduler") {}

/** Everything a simulation program may use. */
export type Services = Clock | Prng | Trace | Scheduler

/** The thread a fiber runs as; undefined in the driver. */
const CurrentThread = Context.Reference<Thread | undefined>("@rwpsim/sched/CurrentThread", {
  defaultValue: () => undefined
})

/** How many times the driver yields for one running thread before calling it stuck. */
const SETTLE_YIELDS_MAX = 10_000

function makeScheduler<E>(engine: SimEngine<E>, scope: Scope.Scope): Scheduler["Service"] {
  // One primitive per block: the thread from the fiber's context, the engine's bookkeeping and
  // trace line, then the Resume's wait (no generator, no Deferred, no service lookup).
  const blockOn = (op: string, state: "sleeping" | "parked", on: string, delay_ns?: number): Effect.Effect<void> =>
    Effect.withFiber((fiber) => {
      if (delay_ns !== undefined) assertTime(delay_ns, "Scheduler.sleep")
      const thread = fiber.getRef(CurrentThread)
      if (thread === undefined) assert(false, `Scheduler.${op}: only a simulated thread (see spawn) can block`)
      const resume = engine.block(thread, state, on)
      if (delay_ns !== undefined) engine.schedule_in(delay_ns, resume)
      if (engine.trace.enabled) {
        engine.emit(
          op,
          delay_ns === undefined
            ? { thread: thread.name, on }
            : { thread: thread.name, until: engine.now_ns + delay_ns }
        )
      }
      return resume.wait
    })

  // Lets the thread the last event woke run until it blocks again; raises a thread's failure.
  const settle = Effect.gen(function* () {
    for (let yields = 0; engine.running > 0; yields++) {
      const stuck = engine.threads().filter((t) => t.state === "running")
      assert(
        yields < SETTLE_YIELDS_MAX,
        `threads blocked outside the scheduler: ${stuck.map((t) => t.name).join(", ")}`
      )
      yield* Effect.yieldNow
    }
    const failure = engine.takeFailure()
    if (failure !== undefined) return yield* Effect.failCause(failure)
  })

  return {
    spawn: (name, thread) =>
      Effect.gen(function* () {
        const t = engine.newThread(name)
        const start = new Resume(t)
        engine.schedule(engine.now_ns, start)
        const body = start.wait.pipe(
          Effect.andThen(thread),
          Effect.onExit((exit) => Effect.sync(() => engine.exit(t, exit))),
          Effect.provideService(CurrentThread, t)
        )
        yield* Effect.forkIn(body, scope)
      }),
    sleep: (duration_ns) => blockOn("sleep", "sleeping", "sleep", duration_ns),
    park: (key) => blockOn("park", "parked", key),
    unpark: (key, order) => Effect.sync(() => engine.unpark(key, order)),
    unparkAll: (key, order) => Effect.sync(() => engine.unparkAll(key, order)),
    choose: (kind, n) => Effect.sync(() => engine.choose(kind, n)),
    run_until: (target, deadline_ns = Number.MAX_SAFE_INTEGER - 1) =>
      Effect.gen(function* () {
        assert((yield* CurrentThread) === undefined, "Scheduler.run_until drives the run: a simulated thread cannot")
        const limit_ns = typeof target === "number" ? target : deadline_ns
        if (typeof target === "number") assertTime(target, "Scheduler.run_until")
        for (;;) {
          yield* settle
          if (typeof target === "function" && target()) return true
          const t_ns = engine.queue.peekTime()
          if (t_ns === undefined || t_ns > limit_ns) break
          engine.step()
        }
        if (typeof target === "function") return false
        engine.clock.advance_to(target)
        return true
      })
  }
}

/** The four services over `engine`. Threads spawned through it end (are interrupted) with the layer. */
export const layer = <E>(engine: SimEngine<E>): Layer.Layer<Services> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const nowUnsafe = () => engine.now_ns
      const emitUnsafe = (ev: string, fields?: TraceFields) => engine.emit(ev, fields)
      return Context.make(Clock, { now_ns: Effect.sync(nowUnsafe), nowUnsafe }).pipe(
        Context.add(Prng, { stream: (purpose: string) => engine.streams.stream(purpose) }),
        Context.add(Trace, {
          enabled: engine.trace.enabled,
          emit: (ev: string, fields?: TraceFields) => Effect.sync(() => emitUnsafe(ev, fields)),
          emitUnsafe
        }),
        Context.add(Scheduler, makeScheduler(engine, scope))
      )
    })
  )

/** Runs `program` on `engine` to completion, synchronously, on one deterministic task queue. */
export const runSyncExit = <A, Err, E>(
  engine: SimEngine<E>,
  program: Effect.Effect<A, Err, Services>
): Exit.Exit<A, Err> => {
  const scheduler = new SyncScheduler()
  const fiber = Effect.runFork(Effect.provide(program, layer(engine)), { scheduler })
  scheduler.dispatcher.flush()
  const exit = fiber.pollUnsafe()
  assert(exit !== undefined, "Sim.runSyncExit: the program blocked outside the event queue")
  return exit
}

/** Like runSyncExit, but returns the value and throws the (squashed) cause of a failure. */
export const runSync = <A, Err, E>(engine: SimEngine<E>, program: Effect.Effect<A, Err, Services>): A => {
  const exit = runSyncExit(engine, program)
  if (exit._tag === "Success") return exit.value
  throw Cause.squash(exit.cause)
}
