import { describe, expect, it } from "vitest"
import { Engine } from "../src/Engine.ts"
import { Trace } from "../src/Trace.ts"

type Ev = { readonly kind: "done"; readonly vcpu: number } | { readonly kind: "resolve"; readonly page: number }

// A toy script run: four vCPUs touch pages; pages 1 and 2 are protected, so accesses to them block
// until a resolve wakes every waiter, in an order the scheduler chooses. Access costs come from the
// per-vCPU guest streams.
function toyRun(seed: number, schedule?: readonly number[]) {
  const lines: string[] = []
  const trace = new Trace({ write: (s) => lines.push(s) }, { scenario: "toy", seed })
  const waiters = new Map<number, number[]>([
    [1, []],
    [2, []]
  ])
  const done = [false, false, false, false]
  const engine: Engine<Ev> = new Engine<Ev>({
    seed,
    trace,
    ...(schedule === undefined ? {} : { schedule }),
    dispatch: (ev, e) => {
      if (ev.kind === "done") {
        done[ev.vcpu] = true
        e.emit("access_done", { vcpu: ev.vcpu })
        return
      }
      const woken = waiters.get(ev.page)!.splice(0)
      e.emit("resolve", { page: ev.page, waiters: woken.length })
      for (const i of e.tape.order("wake_order", woken.length)) {
        const vcpu = woken[i]!
        e.emit("wake", { vcpu })
        e.schedule_in(10, { kind: "done", vcpu })
      }
    }
  })
  for (let vcpu = 0; vcpu < 4; vcpu++) {
    const page = engine.streams.stream(`guest.vcpu${vcpu}`).nextInt(3)
    const cost_ns = 1 + engine.streams.stream(`guest.vcpu${vcpu}`).nextInt(100)
    if (page === 0) engine.schedule_in(cost_ns, { kind: "done", vcpu })
    else {
      waiters.get(page)!.push(vcpu)
      engine.emit("block", { vcpu, page })
    }
  }
  engine.schedule(500, { kind: "resolve", page: 1 })
  engine.schedule(500, { kind: "resolve", page: 2 })
  const finished = engine.run_until(() => done.every(Boolean))
  trace.close()
  return { finished, bytes: lines.join(""), recorded: engine.tape.recorded(), now_ns: engine.now_ns }
}

describe("Engine", () => {
  it("determinism: the same seed gives byte-identical traces", () => {
    for (const seed of [0, 1, 2, 3, 2 ** 53 - 1]) {
      const a = toyRun(seed)
      const b = toyRun(seed)
      expect(a.finished).toBe(true)
      expect(a.bytes).toBe(b.bytes)
      expect(a.bytes.startsWith(`{"rwpsim":"0.1.0","scenario":"toy","seed":${seed}}\n`)).toBe(true)
    }
  })

  it("different seeds give different runs", () => {
    const traces = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((seed) => toyRun(seed).bytes.split("\n").slice(1).join("\n")))
    expect(traces.size).toBeGreaterThan(1)
  })

  it("replaying the recorded choices reproduces the trace", () => {
    for (const seed of [0, 1, 2, 3, 4, 5]) {
      const a = toyRun(seed)
      expect(toyRun(seed, a.recorded).bytes).toBe(a.bytes)
    }
  })

  it("a forced schedule changes the wake order and shows in the trace", () => {
    // Find a seed where two vCPUs wait on the same page, then force both orders.
    const seed = [...Array(64).keys()].find((s) => toyRun(s).recorded.length > 0)!
    const a = toyRun(seed, [0, 0, 0, 0])
    const b = toyRun(seed, [1, 1, 1, 1])
    expect(a.bytes).not.toBe(b.bytes)
    expect(a.bytes).toContain('"ev":"choice","kind":"wake_order"')
  })

  it("events at the same time run in schedule order, and step() reports an empty queue", () => {
    const seen: string[] = []
    const engine = new Engine<string>({ seed: 0, dispatch: (ev, e) => seen.push(`${e.now_ns}:${ev}`) })
    engine.schedule(20, "b")
    engine.schedule(10, "a")
    engine.schedule(20, "c")
    const h = engine.schedule(15, "cancelled")
    expect(engine.cancel(h)).toBe(true)
    while (engine.step()) {}
    expect(seen).toEqual(["10:a", "20:b", "20:c"])
    expect(engine.step()).toBe(false)
  })

  it("run_until(t) runs events up to and including t, then moves the clock to t", () => {
    const seen: number[] = []
    const engine = new Engine<number>({ seed: 0, dispatch: (ev) => seen.push(ev) })
    for (const t of [5, 10, 11]) engine.schedule(t, t)
    expect(engine.run_until(10)).toBe(true)
    expect(seen).toEqual([5, 10])
    expect(engine.now_ns).toBe(10)
    engine.run_until(100)
    expect(engine.now_ns).toBe(100)
    expect(seen).toEqual([5, 10, 11])
    expect(() => engine.run_until(50)).toThrow(/before now/)
    expect(() => engine.schedule(99, 0)).toThrow(/before now/)
  })

  it("run_until(predicate) is false when nothing left can make it true, or the deadline passes", () => {
    let n = 0
    const engine = new Engine<number>({
      seed: 0,
      dispatch: (ev, e) => {
        n++
        e.schedule_in(100, ev + 1)
      }
    })
    engine.schedule(0, 0)
    expect(engine.run_until(() => n === 3)).toBe(true)
    expect(engine.now_ns).toBe(200)
    expect(engine.run_until(() => false, 1_000)).toBe(false)
    expect(engine.now_ns).toBe(1_000)
    const idle = new Engine<number>({ seed: 0, dispatch: () => {} })
    expect(idle.run_until(() => false)).toBe(false)
  })
})
