import { Cause, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import * as Sim from "../src/Sim.ts"
import { SimEngine } from "../src/SimEngine.ts"
import { Trace } from "../src/Trace.ts"

function traced(seed: number, schedule?: readonly number[]) {
  const lines: string[] = []
  const trace = new Trace({ write: (s) => lines.push(s) }, { scenario: "fibers", seed })
  const engine = new SimEngine({ seed, trace, ...(schedule === undefined ? {} : { schedule }) })
  return { engine, trace, lines }
}

// Three threads that sleep and park on each other: a producer hands items to two consumers
// through wait queue "item", and each consumer acknowledges on "ack".
function pingPong(seed: number, order: "fifo" | "choice" = "fifo", schedule?: readonly number[]) {
  const { engine, trace, lines } = traced(seed, schedule)
  const log: string[] = []
  const program = Effect.gen(function* () {
    const sched = yield* Sim.Scheduler
    const clock = yield* Sim.Clock
    const note = (s: string) => Effect.map(clock.now_ns, (t) => void log.push(`${t} ${s}`))
    const consumer = (name: string) =>
      Effect.gen(function* () {
        for (let i = 0; i < 3; i++) {
          yield* sched.park("item")
          yield* note(`${name} got item`)
          yield* sched.sleep(name === "a" ? 30 : 20)
          yield* sched.unpark("ack")
        }
      })
    const producer = Effect.gen(function* () {
      for (let i = 0; i < 3; i++) {
        yield* sched.sleep(100)
        const woken = yield* sched.unparkAll("item", order)
        yield* note(`producer woke ${woken}`)
        yield* sched.park("ack")
        yield* note("producer acked")
      }
    })
    yield* sched.spawn("a", consumer("a"))
    yield* sched.spawn("b", consumer("b"))
    yield* sched.spawn("producer", producer)
    yield* sched.run_until(1_000)
    return yield* clock.now_ns
  })
  const exit = Sim.runSyncExit(engine, program)
  trace.close()
  return { exit, log, bytes: lines.join(""), recorded: engine.tape.recorded(), engine }
}

describe("Sim (Effect layer)", () => {
  it("threads sleeping and parking on each other interleave by (t, seq), the same on every run", () => {
    const a = pingPong(0)
    expect(Exit.isSuccess(a.exit) && a.exit.value).toBe(1_000)
    // FIFO wakes: at first a parked before b, so a gets the first item. b sleeps 20 and a 30, so b
    // acks first (a's later ack finds no waiter and is lost) and parks first: from then on b leads.
    expect(a.log).toEqual([
      "100 producer woke 2",
      "100 a got item",
      "100 b got item",
      "120 producer acked",
      "220 producer woke 2",
      "220 b got item",
      "220 a got item",
      "240 producer acked",
      "340 producer woke 2",
      "340 b got item",
      "340 a got item",
      "360 producer acked"
    ])
    for (let i = 0; i < 3; i++) {
      const b = pingPong(0)
      expect(b.log).toEqual(a.log)
      expect(b.bytes).toBe(a.bytes)
    }
    expect(a.recorded).toEqual([])
  })

  it("the trace shows every spawn, block, wake and resume, with t and seq", () => {
    const lines = pingPong(0)
      .bytes.split("\n")
      .filter((l) => l !== "")
    expect(lines[0]).toBe('{"rwpsim":"0.1.0","scenario":"fibers","seed":0}')
    expect(lines[1]).toBe('{"t":0,"seq":0,"ev":"spawn","thread":"a"}')
    expect(lines).toContain('{"t":0,"seq":3,"ev":"resume","thread":"a"}')
    expect(lines).toContain('{"t":0,"seq":4,"ev":"park","thread":"a","on":"item"}')
    const events = lines.slice(1).map((l) => JSON.parse(l) as { t: number; seq: number; ev: string })
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i))
    for (let i = 1; i < events.length; i++) expect(events[i]!.t).toBeGreaterThanOrEqual(events[i - 1]!.t)
    expect(new Set(events.map((e) => e.ev))).toEqual(new Set(["spawn", "resume", "park", "sleep", "unpark", "exit"]))
  })

  it("a recorded choice decides the wake order when asked, and its replay reproduces the run", () => {
    const runs = [0, 1, 2, 3, 4, 5, 6, 7].map((seed) => pingPong(seed, "choice"))
    for (const r of runs) expect(r.recorded).toHaveLength(3)
    const orders = new Set(runs.map((r) => r.log.filter((l) => l.includes("got")).join()))
    expect(orders.size).toBeGreaterThan(1)
    for (const [seed, r] of runs.entries()) {
      const replay = pingPong(seed + 100, "choice", r.recorded)
      expect(replay.log).toEqual(r.log)
    }
    const forced = pingPong(0, "choice", [1, 1, 1])
    expect(forced.log.filter((l) => l.includes("got")).slice(0, 2)).toEqual(["100 b got item", "100 a got item"])
    const fifo = pingPong(0, "choice", [0, 0, 0])
    expect(fifo.log).toEqual(pingPong(0).log)
    expect(forced.bytes).toContain('"ev":"choice","kind":"unpark_all","n":2,"pick":1')
  })

  it("a woken thread runs to its next block before the next event, even if it yields or loops long", () => {
    const { engine } = traced(0)
    const log: string[] = []
    const program = Effect.gen(function* () {
      const sched = yield* Sim.Scheduler
      const busy = (name: string) =>
        Effect.gen(function* () {
          yield* sched.sleep(10)
          log.push(`${name} start`)
          yield* Effect.yieldNow
          let sum = 0
          for (let i = 0; i < 5_000; i++) sum += yield* Effect.succeed(i)
          log.push(`${name} done ${sum}`)
          yield* sched.sleep(10)
          log.push(`${name} again`)
        })
      yield* sched.spawn("x", busy("x"))
      yield* sched.spawn("y", busy("y"))
      yield* sched.run_until(100)
    })
    expect(Exit.isSuccess(Sim.runSyncExit(engine, program))).toBe(true)
    expect(log).toEqual(["x start", "x done 12497500", "y start", "y done 12497500", "x again", "y again"])
  })

  it("the caller's own events share the queue: a vCPU event unparks a handler thread", () => {
    type Ev = { readonly vcpu: number }
    const log: string[] = []
    const engine: SimEngine<Ev> = new SimEngine<Ev>({
      seed: 0,
      dispatch: (ev, e) => {
        log.push(`${e.now_ns} vcpu${ev.vcpu} faults`)
        e.unpark("uffd")
      }
    })
    engine.schedule(50, { vcpu: 0 })
    engine.schedule(50, { vcpu: 1 })
    const program = Effect.gen(function* () {
      const sched = yield* Sim.Scheduler
      const clock = yield* Sim.Clock
      yield* sched.spawn(
        "handler",
        Effect.gen(function* () {
          for (;;) {
            yield* sched.park("uffd")
            log.push(`${yield* clock.now_ns} handler runs`)
            yield* sched.sleep(5)
          }
        })
      )
      return yield* sched.run_until(() => log.length === 3)
    })
    expect(Sim.runSync(engine, program)).toBe(true)
    // vcpu1's wake at t=50 finds the handler not yet parked again: that wake is lost.
    expect(log).toEqual(["50 vcpu0 faults", "50 vcpu1 faults", "50 handler runs"])
    expect(engine.now_ns).toBe(50)
  })

  it("unpark with no waiter wakes nothing and returns false", () => {
    const { engine } = traced(0)
    const woke = Sim.runSync(
      engine,
      Effect.gen(function* () {
        const sched = yield* Sim.Scheduler
        return [yield* sched.unpark("nobody"), yield* sched.unparkAll("nobody")] as const
      })
    )
    expect(woke).toEqual([false, 0])
  })

  it("run_until(predicate) is false when nothing left can make it true; parked threads end with the run", () => {
    const { engine, lines } = traced(0)
    const ok = Sim.runSync(
      engine,
      Effect.gen(function* () {
        const sched = yield* Sim.Scheduler
        yield* sched.spawn("waiter", sched.park("never"))
        return yield* sched.run_until(() => false)
      })
    )
    expect(ok).toBe(false)
    expect(engine.threads().map((t) => [t.name, t.state])).toEqual([["waiter", "done"]])
    expect(lines.join("")).not.toContain('"ev":"exit"')
  })

  it("a thread that dies fails the run with its defect", () => {
    const { engine } = traced(0)
    const exit = Sim.runSyncExit(
      engine,
      Effect.gen(function* () {
        const sched = yield* Sim.Scheduler
        yield* sched.spawn(
          "crash",
          Effect.gen(function* () {
            yield* sched.sleep(5)
            return yield* Effect.die("tracker bug")
          })
        )
        return yield* sched.run_until(100)
      })
    )
    expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toBe("tracker bug")
  })

  it("a thread blocked outside the scheduler is reported, not a silent hang", () => {
    const { engine } = traced(0)
    const exit = Sim.runSyncExit(
      engine,
      Effect.gen(function* () {
        const sched = yield* Sim.Scheduler
        yield* sched.spawn("stuck", Effect.never)
        return yield* sched.run_until(100)
      })
    )
    expect(Exit.isFailure(exit) && String(Cause.squash(exit.cause))).toMatch(/blocked outside the scheduler: stuck/)
  })

  it("only simulated threads can block, and only the driver can drive", () => {
    const { engine } = traced(0)
    const parkInDriver = Sim.runSyncExit(
      engine,
      Effect.flatMap(Sim.Scheduler, (s) => s.park("k"))
    )
    expect(Exit.isFailure(parkInDriver) && String(Cause.squash(parkInDriver.cause))).toMatch(/only a simulated thread/)
    const drive = Sim.runSyncExit(
      new SimEngine({ seed: 0 }),
      Effect.gen(function* () {
        const sched = yield* Sim.Scheduler
        yield* sched.spawn("t", Effect.asVoid(Effect.orDie(sched.run_until(10))))
        return yield* sched.run_until(10)
      })
    )
    expect(Exit.isFailure(drive) && String(Cause.squash(drive.cause))).toMatch(/a simulated thread cannot/)
  })

  it("Prng and Trace services are the engine's streams and trace", () => {
    const { engine, trace, lines } = traced(9)
    const draws = Sim.runSync(
      engine,
      Effect.gen(function* () {
        const prng = yield* Sim.Prng
        const tr = yield* Sim.Trace
        yield* tr.emit("hello", { n: 1 })
        return [prng.stream("storage").nextU32(), tr.enabled] as const
      })
    )
    trace.close()
    const again = new SimEngine({ seed: 9 }).streams.stream("storage").nextU32()
    expect(draws).toEqual([again, true])
    expect(lines[1]).toBe('{"t":0,"seq":0,"ev":"hello","n":1}\n')
  })

  it("a sleep of a duration that is not a virtual time fails the run when it runs, not when it is built", () => {
    const { engine } = traced(0)
    const exit = Sim.runSyncExit(
      engine,
      Effect.gen(function* () {
        const sched = yield* Sim.Scheduler
        const bad = sched.sleep(-1) // built, not run: nothing happens
        yield* sched.spawn(
          "sleeper",
          Effect.gen(function* () {
            yield* sched.sleep(5)
            yield* bad
          })
        )
        return yield* sched.run_until(100)
      })
    )
    expect(Exit.isFailure(exit) && String(Cause.squash(exit.cause))).toMatch(
      /Scheduler.sleep: not a virtual time in ns: -1/
    )
  })

  it("a parked thread woken by another thread runs on at the waker's time, then sleeps and exits", () => {
    const { engine, lines } = traced(0)
    const log: string[] = []
    const program = Effect.gen(function* () {
      const sched = yield* Sim.Scheduler
      const clock = yield* Sim.Clock
      yield* sched.spawn(
        "a",
        Effect.gen(function* () {
          yield* sched.park("k")
          log.push(`a ${yield* clock.now_ns}`)
          yield* sched.sleep(3)
          log.push(`a ${yield* clock.now_ns}`)
        })
      )
      yield* sched.spawn(
        "b",
        Effect.gen(function* () {
          yield* sched.sleep(7)
          log.push(`b wakes ${yield* sched.unparkAll("k")}`)
        })
      )
      return yield* sched.run_until(20)
    })
    expect(Sim.runSync(engine, program)).toBe(true)
    expect(log).toEqual(["b wakes 1", "a 7", "a 10"])
    expect(lines.join("")).toContain('"ev":"exit","thread":"a"')
  })

  it("Clock.nowUnsafe and Trace.emitUnsafe read and write like now_ns and emit", () => {
    const { engine, trace, lines } = traced(3)
    const got = Sim.runSync(
      engine,
      Effect.gen(function* () {
        const clock = yield* Sim.Clock
        const tr = yield* Sim.Trace
        const sched = yield* Sim.Scheduler
        yield* sched.run_until(42)
        tr.emitUnsafe("hello", { n: 2 })
        return [clock.nowUnsafe(), yield* clock.now_ns] as const
      })
    )
    trace.close()
    expect(got).toEqual([42, 42])
    expect(lines[1]).toBe('{"t":42,"seq":0,"ev":"hello","n":2}\n')
  })
})
