// A workload run is a function of its scenario and seed: the same seed gives the same trace bytes
// and the same metrics; another seed another run; and a recorded schedule replays the choices.
import { describe, expect, it } from "vitest"
import { events, load, run, workload } from "./support.ts"
import { runScenario } from "@rwpsim/sim"

const text = workload({ extra: "" }).replace(
  "machine: { arch: x86_64, vcpus: 2 }",
  "machine: { arch: x86_64, vcpus: 3 }"
)

describe("workload determinism", () => {
  it("the same seed gives byte-identical traces and identical metrics (JSON)", () => {
    const a = run(text)
    const b = run(text)
    expect(a.lines.length).toBeGreaterThan(100)
    expect(a.lines.join("")).toBe(b.lines.join(""))
    expect(JSON.stringify(a.metrics)).toBe(JSON.stringify(b.metrics))
    expect(a.schedule).toEqual(b.schedule)
  })

  it("the trace does not change the run: metrics and choices are the same with the trace off", () => {
    const traced = run(text)
    const plain = runScenario(load(text))
    expect(plain.metrics).toEqual(traced.metrics)
    expect(plain.schedule).toEqual(traced.schedule)
  })

  it("another seed is another run", () => {
    const a = run(text, { seed: 1 })
    const b = run(text, { seed: 2 })
    expect(a.lines.join("")).not.toBe(b.lines.join(""))
    expect(a.metrics.guest_accesses).not.toBe(b.metrics.guest_accesses)
  })

  it("the trace is in time order, starts with the header and names the scenario's choices", () => {
    const r = run(text)
    expect(JSON.parse(r.lines[0])).toEqual({ rwpsim: "0.1.0", scenario: "small workload", seed: 1 })
    const evs = events(r.lines)
    for (let i = 1; i < evs.length; i++) expect(evs[i].t).toBeGreaterThanOrEqual(evs[i - 1].t)
    expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i))
    const choices = evs.filter((e) => e.ev === "choice")
    expect(choices.length).toBe(r.schedule.length)
    expect(choices.map((c) => c.pick)).toEqual(r.schedule)
  })

  it("a recorded schedule replays the run (the choices come from the schedule, the guest from the seed)", () => {
    const a = run(text, { seed: 5 })
    expect(a.schedule.length).toBeGreaterThan(0)
    // the schedule fixes the scheduler's choices; the guest's own streams still come from the seed
    const replay = runScenario({ ...load(text), schedule: a.schedule, seed: 5 })
    expect(replay.schedule).toEqual(a.schedule)
    expect(replay.metrics).toEqual(a.metrics)
    // flipping one choice is a different run of the same workload
    const flipped = [...a.schedule]
    flipped[0] = flipped[0] === 0 ? 1 : 0
    const other = runScenario({ ...load(text), schedule: flipped, seed: 5 })
    expect(other.schedule[0]).toBe(flipped[0])
  })
})
