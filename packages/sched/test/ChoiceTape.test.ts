import { describe, expect, it } from "vitest"
import { type ChoicePoint, ChoiceTape, ScheduleMismatch } from "../src/ChoiceTape.ts"
import { PrngStreams } from "../src/Prng.ts"
import { NullTrace, Trace } from "../src/Trace.ts"
import { VirtualClock } from "../src/VirtualClock.ts"

function tape(seed: number, schedule?: number[], trace = NullTrace, clock = new VirtualClock()) {
  return new ChoiceTape(new PrngStreams(seed).stream("sched"), clock, trace, schedule)
}

const NS = [3, 5, 2, 7, 4, 6, 3, 9, 2, 8]

describe("ChoiceTape", () => {
  it("draws from the sched stream and records every choice", () => {
    const t = tape(11)
    const sched = new PrngStreams(11).stream("sched")
    const picks = NS.map((n) => t.choose("wake_order", n))
    expect(picks).toEqual(NS.map((n) => sched.nextInt(n)))
    expect(t.recorded()).toEqual(picks)
  })

  it("choices with n == 1 are not drawn and not recorded", () => {
    const t = tape(11)
    expect(t.choose("only", 1)).toBe(0)
    expect(t.recorded()).toEqual([])
    expect(t.choose("two", 2)).toBe(new PrngStreams(11).stream("sched").nextInt(2))
  })

  it("schedule: choices come from it while it lasts, then from the seed", () => {
    const free = tape(11)
    const seeded = NS.map((n) => free.choose("k", n))
    const schedule = [2, 0, 1]
    const t = tape(11, schedule)
    expect(t.replaying).toBe(true)
    const picks = NS.map((n) => t.choose("k", n))
    expect(picks.slice(0, 3)).toEqual(schedule)
    // After the schedule, the seed's choices at the same positions (the stream advanced during replay).
    expect(picks.slice(3)).toEqual(seeded.slice(3))
    expect(t.replaying).toBe(false)
    expect(t.recorded()).toEqual(picks)
  })

  it("schedule: replaying a run's recorded choices reproduces it, from a different seed too", () => {
    const original = tape(5)
    const picks = NS.map((n) => original.choose("k", n))
    const replay = tape(99, original.recorded())
    expect(NS.map((n) => replay.choose("k", n))).toEqual(picks)
  })

  it("schedule: a value that does not fit the choice is a ScheduleMismatch", () => {
    const t = tape(1, [1, 4])
    expect(t.choose("k", 2)).toBe(1)
    let err: unknown
    try {
      t.choose("wake_order", 3)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ScheduleMismatch)
    expect(err).toMatchObject({ _tag: "ScheduleMismatch", index: 1, kind: "wake_order", n: 3, pick: 4 })
    expect((err as Error).message).toContain("schedule[1] is 4")
  })

  it("order(kind, n) is a permutation made of n-1 recorded choices", () => {
    const t = tape(3)
    const perm = t.order("wake_order", 5)
    expect(perm.slice().sort()).toEqual([0, 1, 2, 3, 4])
    expect(t.recorded()).toHaveLength(4)
    const replay = tape(4, t.recorded())
    expect(replay.order("wake_order", 5)).toEqual(perm)
    expect(tape(3, [0, 0, 0, 0]).order("w", 5)).toEqual([0, 1, 2, 3, 4])
    expect(tape(3, [4, 3, 2, 1]).order("w", 5)).toEqual([4, 3, 2, 1, 0])
  })

  it("reports each choice to the trace (ev choice, kind, n, pick) at the current time", () => {
    const lines: string[] = []
    const trace = new Trace({ write: (s) => lines.push(s) }, { scenario: "s", seed: 0 })
    const clock = new VirtualClock()
    const t = tape(0, [1], trace, clock)
    clock.advance_to(250)
    t.choose("wake_order", 3)
    t.choose("none", 1)
    expect(lines.slice(1)).toEqual(['{"t":250,"seq":0,"ev":"choice","kind":"wake_order","n":3,"pick":1}\n'])
  })
  it("policy: picks after the schedule instead of the seed; the stream still advances; recorded picks replay", () => {
    const seen: ChoicePoint[] = []
    const policy = (c: ChoicePoint) => {
      seen.push(c)
      return c.n - 1
    }
    const t = new ChoiceTape(new PrngStreams(11).stream("sched"), new VirtualClock(), NullTrace, [1, 0], policy)
    const picks = NS.map((n) => t.choose("k", n))
    expect(picks).toEqual([1, 0, ...NS.slice(2).map((n) => n - 1)])
    // the policy is not asked while the schedule lasts; it sees what the seed would have drawn
    const sched = new PrngStreams(11).stream("sched")
    const drawn = NS.map((n) => sched.nextInt(n))
    expect(seen.map((c) => c.index)).toEqual(NS.slice(2).map((_, i) => i + 2))
    expect(seen.map((c) => c.drawn)).toEqual(drawn.slice(2))
    expect(seen.every((c) => c.among === undefined)).toBe(true)
    // the recorded picks, loaded as a schedule, replay the run without the policy
    const replay = tape(0, t.recorded())
    expect(NS.map((n) => replay.choose("k", n))).toEqual(picks)
  })

  it("policy: order() tells it which original positions are left; a bad pick is an assertion", () => {
    const seen: (readonly number[] | undefined)[] = []
    const t = new ChoiceTape(new PrngStreams(1).stream("sched"), new VirtualClock(), NullTrace, [], (c) => {
      seen.push(c.among)
      return c.among!.indexOf(Math.max(...c.among!))
    })
    expect(t.order("w", 4)).toEqual([3, 2, 1, 0])
    expect(seen).toEqual([
      [0, 1, 2, 3],
      [0, 1, 2],
      [0, 1]
    ])
    const bad = new ChoiceTape(new PrngStreams(1).stream("sched"), new VirtualClock(), NullTrace, [], () => 5)
    expect(() => bad.choose("k", 3)).toThrow(/picked 5 of 3/)
  })
})
