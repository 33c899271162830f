// explore(): one scenario under many schedules. Exhaustive mode enumerates each schedule once;
// random and pct sample them deterministically; outcomes group runs by normalised failure, and
// each outcome's reproducer (a seed, or the run's choices pinned in `schedule`) replays it.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parseScenario, type Scenario } from "@rwpsim/scenario"
import { applyMutants, explore, normaliseMessage, outcomeKey, runScenario } from "@rwpsim/sim"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..", "..", "..")
const file = join(root, "scenarios", "explore", "last-writer.yaml")

function load(text: string): Scenario {
  const r = parseScenario(text, "x.yaml")
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.scenario
}

const lastWriter = load(readFileSync(file, "utf8"))

describe("explore", () => {
  it("exhaustive: every order of three woken vCPUs once (3! = 6), two outcomes", () => {
    const schedules: string[] = []
    const x = explore(lastWriter, {
      runs: 100,
      strategy: "random",
      exhaustive: true,
      onRun: (_, r) => void schedules.push(r.schedule.join(","))
    })
    expect(x.runs).toBe(6)
    expect(x.complete).toBe(true)
    expect(new Set(schedules).size).toBe(6)
    // the tape of an order of 3 is two choices: 3 options, then 2
    expect(new Set(schedules)).toEqual(new Set(["0,0", "0,1", "1,0", "1,1", "2,0", "2,1"]))
    expect(x.outcomes.map((o) => [o.ok, o.runs])).toEqual([
      [true, 2],
      [false, 4]
    ])
    expect(x.outcomes[1]!.key).toBe("step 10 (read): vCPU N: read of m: expected value N, got N")
  })

  it("exhaustive: --runs bounds it, and it says it is incomplete", () => {
    const x = explore(lastWriter, { runs: 4, strategy: "random", exhaustive: true })
    expect(x.runs).toBe(4)
    expect(x.complete).toBe(false)
  })

  it("stop: asked before each run (and inside it); what was found so far comes back, marked interrupted", () => {
    let done = 0
    const onRun = () => void done++
    const x = explore(lastWriter, { runs: 100, strategy: "random", exhaustive: true, onRun, stop: () => done >= 3 })
    expect([x.runs, x.interrupted, x.complete]).toEqual([3, true, false])
    expect(x.outcomes.reduce((n, o) => n + o.runs, 0)).toBe(3)
    for (const strategy of ["random", "pct"] as const) {
      done = 0
      const y = explore(lastWriter, { runs: 100, strategy, onRun, stop: () => done >= 5 })
      expect([y.runs, y.interrupted, y.complete]).toEqual([5, true, null])
    }
    // a run cut short inside is not counted
    const z = explore(lastWriter, { runs: 100, strategy: "random", stop: () => true })
    expect([z.runs, z.interrupted, z.outcomes.length]).toEqual([0, true, 0])
    const w = explore(lastWriter, { runs: 4, strategy: "random", stop: () => false })
    expect([w.runs, w.interrupted]).toEqual([4, false])
  })

  it("each outcome's first run replays from its reproducer alone", () => {
    for (const strategy of ["random", "pct"] as const) {
      const x = explore(lastWriter, { runs: 30, strategy })
      expect(x.outcomes.length, strategy).toBe(2)
      for (const o of x.outcomes) {
        const replay = runScenario(o.first.pinned ? { ...lastWriter, schedule: [...o.first.schedule] } : lastWriter, {
          seed: o.first.seed
        })
        expect(outcomeKey(replay), `${strategy} ${o.key}`).toBe(o.key)
      }
    }
  })

  it("is deterministic: the same options give the same runs; another explore seed, other samples", () => {
    const a = explore(lastWriter, { runs: 25, strategy: "random" })
    const b = explore(lastWriter, { runs: 25, strategy: "random" })
    expect(b).toEqual(a)
    const p = explore(lastWriter, { runs: 25, strategy: "pct", exploreSeed: 9 })
    expect(explore(lastWriter, { runs: 25, strategy: "pct", exploreSeed: 9 })).toEqual(p)
    // run 0 is the scenario's own schedule: reproduced by its seed alone
    expect(a.outcomes[0]!.first).toMatchObject({ run: 0, pinned: false, seed: 0 })
  })

  it("vary seed: every run its own seed, reproduced by --seed alone", () => {
    const x = explore(lastWriter, { runs: 12, strategy: "random", vary: "seed" })
    expect(x.outcomes.length).toBe(2)
    for (const o of x.outcomes) {
      expect(o.first.pinned).toBe(false)
      expect(outcomeKey(runScenario(lastWriter, { seed: o.first.seed }))).toBe(o.key)
    }
  })

  it("pct: with depth 1 (no change point) the priorities alone decide; every run is one of the six orders", () => {
    const x = explore(lastWriter, { runs: 20, strategy: "pct", depth: 1 })
    expect(x.runs).toBe(20)
    expect(x.outcomes.reduce((n, o) => n + o.runs, 0)).toBe(20)
  })

  it("finds the interleavings in which a buggy VMM loses data, where the seed's own schedule passes", () => {
    const text = readFileSync(join(root, "scenarios", "workloads", "x86-shmem-4vcpus-racing.yaml"), "utf8")
    const mutated = applyMutants(load(text), ["handler-resolves-evicting"])
    if (!mutated.ok) throw new Error(mutated.message)
    const x = explore(mutated.scenario, { runs: 6, strategy: "random" })
    expect(x.outcomes[0]).toMatchObject({ ok: true, first: { run: 0, pinned: false } })
    const lost = x.outcomes.find((o) => o.label === "no_data_loss")!
    expect(lost.first.pinned).toBe(true)
    // its choices, pinned, replay the loss with the bug on
    const replay = runScenario({ ...mutated.scenario, schedule: [...lost.first.schedule] })
    expect(outcomeKey(replay)).toBe(lost.key)
  }, 60_000)

  it("a schedule that does not fit its run is a failure that says so, not a crash", () => {
    const r = runScenario({ ...lastWriter, schedule: [5] })
    expect(r.ok).toBe(false)
    expect(r.failures[0]!.message).toMatch(/^schedule: schedule\[0\] is 5, but that wake choice has 3 options/)
  })

  it("normalises the numbers of a message (times, addresses, pages, values)", () => {
    expect(
      normaliseMessage(
        "vCPU 1 read 5 from guest_mem+0x3c5000 (page 965) at t=41465108ns (41.465ms), but the guest's last write there was 7"
      )
    ).toBe("vCPU N read N from guest_mem+0xN (page N) at t=Nns, but the guest's last write there was N")
    // how many more violations there were is not another outcome
    expect(normaliseMessage("lost a write (7 violations in all; the first is shown)")).toBe("lost a write")
  })
})
