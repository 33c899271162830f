// The run's driver loop: pops events in (t_ns, seq) order like Sim.Scheduler.run_until, but runs
// the events that resume no thread (vCPU rounds and retries, polls, checks: most of a run) in one
// synchronous stretch, and steps into Effect only when an event resumes a VMM thread; that thread
// runs (Effect.yieldNow) until it blocks again before the next event, as in run_until.
import { assert, Resume, type SimEngine } from "@rwpsim/sched"
import * as Effect from "effect/Effect"

/** How many times the loop yields for one resumed thread before calling it stuck. */
const SETTLE_YIELDS_MAX = 10_000

/**
 * Runs events up to and including time `limit_ns`, or until `stop()` holds (checked between
 * events). True if it stopped on `stop`; false when no event was left before the limit, and then
 * the clock moves to `limit_ns` when `advance` is set.
 */
export function runEvents<E>(
  engine: SimEngine<E>,
  limit_ns: number,
  stop: () => boolean,
  advance: boolean
): Effect.Effect<boolean> {
  return Effect.gen(function* () {
    for (;;) {
      let resumed = false
      while (!resumed) {
        if (stop()) return true
        const t = engine.queue.peekTime()
        if (t === undefined || t > limit_ns) {
          if (advance && engine.now_ns < limit_ns) engine.clock.advance_to(limit_ns)
          return false
        }
        resumed = engine.queue.peek() instanceof Resume
        engine.step()
      }
      for (let yields = 0; engine.running > 0; yields++) {
        assert(yields < SETTLE_YIELDS_MAX, "a VMM thread blocked outside the scheduler")
        yield* Effect.yieldNow
      }
      const failure = engine.takeFailure()
      if (failure !== undefined) return yield* Effect.failCause(failure)
    }
  })
}
