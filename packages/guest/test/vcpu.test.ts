import { describe, expect, it } from "vitest"
import {
  ACCESS_BLOCKED,
  ACCESS_SIGBUS,
  AssertionError,
  BURST_BLOCKED,
  BURST_DONE_MAX,
  BURST_DONE_UNTIL,
  BURST_FINISHED,
  BURST_SIGNAL,
  GroundTruth,
  type PhaseSpec,
  type RandomSource,
  Vcpu
} from "../src/index.ts"
import { FakeMemory } from "./support/fake_memory.ts"
import { CountingRng, TestRng } from "./support/rng.ts"

const BASE = 0x7f0000000000
const PAGE = 4096

function setup(
  phases: readonly PhaseSpec[],
  o: { pages?: number; vcpus?: number; index?: number; rng?: RandomSource } = {}
) {
  const pages = o.pages ?? 64
  const gt = new GroundTruth(pages)
  const mem = new FakeMemory(BASE, PAGE, pages)
  const vcpu = new Vcpu({
    index: o.index ?? 0,
    vcpus: o.vcpus ?? 1,
    phases,
    guest_pages: pages,
    base_addr: BASE,
    page_bytes: PAGE,
    rng: o.rng ?? new TestRng(1),
    ground_truth: gt
  })
  return { gt, mem, vcpu }
}

const seqReads: PhaseSpec = { pattern: "sequential", writes: 0, access_ns: 100 }

describe("Vcpu.run_burst", () => {
  it("stops when its time reaches until_ns; no access is issued at or after until_ns", () => {
    const { mem, vcpu } = setup([seqReads])
    const r = vcpu.run_burst(mem, 0, 1000, 1_000_000)
    expect([r.kind, r.accesses, r.now_ns]).toEqual([BURST_DONE_UNTIL, 10, 1000])
    expect(mem.donePages()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // the access issued at 1000 < 1050 completes at 1100, past until
    const r2 = vcpu.run_burst(mem, 1000, 1050, 1_000_000)
    expect([r2.kind, r2.accesses, r2.now_ns]).toEqual([BURST_DONE_UNTIL, 1, 1100])
    const r3 = vcpu.run_burst(mem, 1100, 1100, 1_000_000)
    expect([r3.kind, r3.accesses, r3.now_ns]).toEqual([BURST_DONE_UNTIL, 0, 1100])
    expect(vcpu.accesses).toBe(11)
  })

  it("stops after accesses_max accesses", () => {
    const { mem, vcpu } = setup([seqReads])
    const r = vcpu.run_burst(mem, 0, Number.POSITIVE_INFINITY, 5)
    expect([r.kind, r.accesses, r.now_ns]).toEqual([BURST_DONE_MAX, 5, 500])
  })

  it("a blocked access stays pending and is retried first, with the same page and value", () => {
    const { gt, mem, vcpu } = setup([{ pattern: "sequential", writes: 1, access_ns: 100 }])
    mem.clock = () => vcpu.now_ns
    mem.blocking.add(3)
    const r = vcpu.run_burst(mem, 0, 1_000_000, 1_000_000)
    expect([r.kind, r.code, r.accesses, r.now_ns, r.page, r.addr]).toEqual([
      BURST_BLOCKED,
      ACCESS_BLOCKED,
      3,
      300,
      3,
      BASE + 3 * PAGE
    ])
    expect(vcpu.pending).toBe(true)
    // still blocked (a spurious wake): no progress
    const again = vcpu.run_burst(mem, 1000, 1_000_000, 1_000_000)
    expect([again.kind, again.accesses, again.now_ns]).toEqual([BURST_BLOCKED, 0, 1000])
    mem.blocking.delete(3)
    const r2 = vcpu.run_burst(mem, 2000, 2500, 1_000_000)
    expect([r2.kind, r2.accesses, r2.now_ns]).toEqual([BURST_DONE_UNTIL, 5, 2500])
    const tries = mem.log.filter((e) => e.page === 3)
    expect(tries.map((e) => e.value)).toEqual([4, 4, 4]) // values 1, 2, 3 went to pages 0..2
    expect(mem.content[3]).toBe(4)
    // inside each access the vCPU's now_ns is that access's time: the retry's is the burst's start
    expect(mem.log.map((e) => e.t_ns)).toEqual([0, 100, 200, 300, 1000, 2000, 2100, 2200, 2300, 2400])
    expect(gt.cycleOf(3)).toBe(1)
    expect(mem.donePages()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(vcpu.blocks).toBe(2)
    expect(vcpu.accesses).toBe(8) // the retried access counts once
  })

  it("a pending access is not retried when the burst starts at until_ns", () => {
    const { mem, vcpu } = setup([seqReads])
    mem.blocking.add(0)
    vcpu.run_burst(mem, 0, 1000, 100)
    mem.blocking.delete(0)
    const r = vcpu.run_burst(mem, 500, 500, 100)
    expect([r.kind, r.accesses]).toEqual([BURST_DONE_UNTIL, 0])
    expect(vcpu.pending).toBe(true)
  })

  it("a signal stops the burst and abandons that access", () => {
    const { mem, vcpu } = setup([seqReads])
    mem.sigbus.add(2)
    const r = vcpu.run_burst(mem, 0, 10_000, 1000)
    expect([r.kind, r.code, r.page, r.accesses, r.now_ns]).toEqual([BURST_SIGNAL, ACCESS_SIGBUS, 2, 2, 200])
    expect(vcpu.pending).toBe(false)
    mem.sigbus.delete(2)
    vcpu.run_burst(mem, 200, 400, 1000)
    expect(mem.donePages()).toEqual([0, 1, 3, 4])
    expect(vcpu.signals).toBe(1)
  })

  it("crosses a phase boundary inside a burst, switching pattern, span and access_ns", () => {
    const { mem, vcpu } = setup([
      { duration: 500, pattern: "sequential", writes: 0, access_ns: 100, span: { start: 0, len: 0.5 } },
      { pattern: "sequential", writes: 0, access_ns: 50, span: { start: 0.5, len: 0.5 } }
    ])
    expect(vcpu.phase_end_ns).toBe(500)
    const r = vcpu.run_burst(mem, 0, 1000, 1000)
    expect(r.accesses).toBe(15)
    expect(mem.donePages()).toEqual([0, 1, 2, 3, 4, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41])
    expect(vcpu.phase_index).toBe(1)
  })

  it("idles (FINISHED) once every phase has ended", () => {
    const { mem, vcpu } = setup([{ ...seqReads, duration: 300 }])
    const r = vcpu.run_burst(mem, 0, 1000, 1000)
    expect([r.kind, r.accesses, r.now_ns]).toEqual([BURST_FINISHED, 3, 300])
    const r2 = vcpu.run_burst(mem, 5000, 6000, 1000)
    expect([r2.kind, r2.accesses]).toEqual([BURST_FINISHED, 0])
    expect(vcpu.phase).toBeUndefined()
    expect(vcpu.phase_end_ns).toBe(Number.POSITIVE_INFINITY)
  })

  it("hot_shift runs on phase time: the window starts at the span when its phase starts", () => {
    const { mem, vcpu } = setup([
      { ...seqReads, duration: 1000 },
      {
        pattern: "hot_cold",
        hot_set: 0.125,
        hot_share: 1,
        hot_shift: { every: 1000, by: 0.5 },
        writes: 0,
        access_ns: 10
      }
    ])
    vcpu.run_burst(mem, 0, 2000, 1_000_000)
    const first = mem.donePages().slice(10)
    expect(first.length).toBe(100)
    expect(first.every((p) => p < 8)).toBe(true)
    mem.log.length = 0
    vcpu.run_burst(mem, 2000, 3000, 1_000_000)
    expect(mem.donePages().every((p) => p >= 32 && p < 40)).toBe(true)
  })

  it("is deterministic: the same seed gives the same accesses; another seed does not", () => {
    const phases: PhaseSpec[] = [{ pattern: "hot_cold", hot_set: 0.2, hot_share: 0.8, writes: 0.4, access_ns: 7 }]
    const run = (seed: number) => {
      const { mem, vcpu } = setup(phases, { pages: 4096, rng: new TestRng(seed) })
      vcpu.run_burst(mem, 0, 7 * 5000, 1_000_000)
      return mem.log.map((e) => `${e.page}:${e.write ? e.value : "r"}`)
    }
    expect(run(5)).toEqual(run(5))
    expect(run(5)).not.toEqual(run(6))
  })

  it("writes the share `writes` of accesses (30% +- 1% over 100k)", () => {
    const { mem, vcpu } = setup([{ pattern: "uniform", writes: 0.3, access_ns: 1 }], { pages: 1024 })
    vcpu.run_burst(mem, 0, 100_000, 1_000_000)
    const writes = mem.log.filter((e) => e.write).length
    expect(Math.abs(writes / 100_000 - 0.3)).toBeLessThan(0.01)
    expect(vcpu.writes).toBe(writes)
  })

  it("every write of a run is distinct and nonzero across vCPUs", () => {
    const phases: PhaseSpec[] = [{ pattern: "uniform", writes: 1, access_ns: 10 }]
    const a = setup(phases, { vcpus: 2, index: 0, rng: new TestRng(1) })
    const b = setup(phases, { vcpus: 2, index: 1, rng: new TestRng(2) })
    a.vcpu.run_burst(a.mem, 0, 10_000, 1_000_000)
    b.vcpu.run_burst(b.mem, 0, 10_000, 1_000_000)
    const values = [...a.mem.log, ...b.mem.log].map((e) => e.value)
    expect(values.length).toBe(2000)
    expect(new Set(values).size).toBe(2000)
    expect(values.includes(0)).toBe(false)
    expect(a.mem.log.every((e) => e.value % 2 === 1)).toBe(true)
  })

  it("no_data_loss through the burst loop: a write the memory loses shows on the next read", () => {
    const { gt, mem, vcpu } = setup(
      [
        { duration: 200, pattern: "sequential", writes: 1, access_ns: 100 },
        { pattern: "sequential", writes: 0, access_ns: 100 }
      ],
      { pages: 2 }
    )
    mem.lose_next_write.add(1)
    vcpu.run_burst(mem, 0, 400, 1000)
    expect(gt.data_loss).toBe(1)
    expect(gt.violations).toEqual([{ page: 1, t_ns: 300, vcpu: 0, expected: 2, actual: 0 }])
  })

  it("counts distinct pages per cycle in the ground truth", () => {
    const { gt, mem, vcpu } = setup([{ pattern: "sequential", writes: 0, access_ns: 1, span: { start: 0, len: 0.25 } }])
    vcpu.run_burst(mem, 0, 100, 1000) // 100 accesses over 16 pages
    expect(gt.nextCycle()).toBe(16)
    vcpu.run_burst(mem, 100, 105, 1000)
    expect(gt.cycle_pages).toBe(5)
  })

  it("charges the hook's extra time per completed access", () => {
    const pages = 16
    const gt = new GroundTruth(pages)
    const mem = new FakeMemory(BASE, PAGE, pages)
    const charged: number[] = []
    const vcpu = new Vcpu({
      index: 0,
      vcpus: 1,
      phases: [seqReads],
      guest_pages: pages,
      base_addr: BASE,
      page_bytes: PAGE,
      rng: new TestRng(1),
      ground_truth: gt,
      charge: {
        extra_ns: (task) => {
          charged.push(task)
          return 50
        }
      }
    })
    const r = vcpu.run_burst(mem, 0, 1500, 1000)
    expect([r.accesses, r.now_ns]).toEqual([10, 1500])
    expect(charged.length).toBe(10)
  })

  it("reuses one result object and refuses to go back in time", () => {
    const { mem, vcpu } = setup([seqReads])
    const r1 = vcpu.run_burst(mem, 0, 1000, 1000)
    const r2 = vcpu.run_burst(mem, 1000, 2000, 1000)
    expect(r1).toBe(r2)
    expect(() => vcpu.run_burst(mem, 500, 3000, 1000)).toThrow(AssertionError)
  })

  it("writes 0% and 100% decide without a PRNG draw; other shares draw once per access", () => {
    for (const [writes, draws] of [
      [0, 0],
      [1, 0],
      [0.5, 10]
    ] as const) {
      const rng = new CountingRng(new TestRng(3))
      const { mem, vcpu } = setup([{ pattern: "sequential", writes, access_ns: 1 }], { rng })
      vcpu.run_burst(mem, 0, 10, 100)
      expect(rng.draws).toBe(draws)
      const written = mem.log.filter((e) => e.write).length
      if (writes === 0) expect(written).toBe(0)
      if (writes === 1) expect(written).toBe(10)
    }
  })
})
