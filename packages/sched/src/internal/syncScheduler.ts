/**
 * An Effect scheduler for the simulation: every fiber shares one FIFO task queue (by priority),
 * which runs only when flush() is called, and no fiber is ever preempted. Effect's MixedScheduler
 * gives each fiber its own dispatcher and runs them on host microtasks, so a fiber that yields
 * would escape Effect.runSync's flush; here the whole run stays on one synchronous queue.
 */
import type * as Fiber from "effect/Fiber"
import type * as Scheduler from "effect/Scheduler"
import { assert } from "./assert.ts"

/** One task queue for all fibers: lower priority first, FIFO within a priority. */
class SyncDispatcher implements Scheduler.SchedulerDispatcher {
  #buckets: [priority: number, tasks: (() => void)[]][] = []
  #flushing = false

  scheduleTask(task: () => void, priority: number): void {
    const buckets = this.#buckets
    let i = 0
    while (i < buckets.length && buckets[i]![0] < priority) i++
    if (i < buckets.length && buckets[i]![0] === priority) buckets[i]![1].push(task)
    else buckets.splice(i, 0, [priority, [task]])
  }

  /** Runs tasks until none are left, including those the tasks schedule. */
  flush(): void {
    assert(!this.#flushing, "SyncDispatcher.flush: re-entered")
    this.#flushing = true
    try {
      while (this.#buckets.length > 0) {
        const drained = this.#buckets
        this.#buckets = []
        for (const [, tasks] of drained) for (const task of tasks) task()
      }
    } finally {
      this.#flushing = false
    }
  }
}

/** A synchronous scheduler whose fibers all share one dispatcher and never yield for a budget. */
export class SyncScheduler implements Scheduler.Scheduler {
  readonly executionMode = "sync" as const
  readonly dispatcher = new SyncDispatcher()

  shouldYield(_fiber: Fiber.Fiber<unknown, unknown>): boolean {
    return false
  }

  makeDispatcher(): Scheduler.SchedulerDispatcher {
    return this.dispatcher
  }
}
