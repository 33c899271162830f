import { fc, it } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { BURST_BLOCKED, BURST_FINISHED, BURST_SIGNAL, GroundTruth, type PhaseSpec, Vcpu } from "../src/index.ts"
import { FakeMemory } from "./support/fake_memory.ts"
import { TestRng } from "./support/rng.ts"

const BASE = 0x7f0000000000
const PAGE = 4096
const PAGES = 256

const arbShare = fc.integer({ min: 0, max: 100 }).map((n) => n / 100)
const arbPhase: fc.Arbitrary<PhaseSpec> = fc.record({
  duration: fc.integer({ min: 1, max: 5000 }),
  pattern: fc.constantFrom("sequential" as const, "uniform" as const, "zipf" as const, "hot_cold" as const),
  hot_set: arbShare,
  hot_share: arbShare,
  hot_shift: fc.oneof(
    fc.constant("none" as const),
    fc.record({ every: fc.integer({ min: 1, max: 2000 }), by: arbShare })
  ),
  skew: fc.double({ min: 0, max: 3, noNaN: true }),
  writes: arbShare,
  access_ns: fc.integer({ min: 1, max: 300 }),
  span: fc
    .tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 100 }))
    .map(([s, l]) => ({ start: s / 100, len: Math.min(l, 100 - s) / 100 }))
})
const arbPhases = fc.array(arbPhase, { minLength: 1, maxLength: 4 })

function make(phases: readonly PhaseSpec[], seed: number) {
  const gt = new GroundTruth(PAGES)
  const mem = new FakeMemory(BASE, PAGE, PAGES)
  const vcpu = new Vcpu({
    index: 0,
    vcpus: 1,
    phases,
    guest_pages: PAGES,
    base_addr: BASE,
    page_bytes: PAGE,
    rng: new TestRng(seed),
    ground_truth: gt
  })
  return { gt, mem, vcpu }
}

/** Runs to `end` in bursts whose ends come from `cuts` (times) and `maxes` (access limits). */
function runSplit(v: Vcpu, mem: FakeMemory, end: number, cuts: readonly number[], maxes: readonly number[]) {
  let now = 0
  let i = 0
  for (;;) {
    const until = Math.min(end, now + (cuts[i % cuts.length] ?? end))
    const r = v.run_burst(mem, now, until, maxes[i % maxes.length] ?? 1_000_000)
    i++
    now = r.now_ns
    if (r.kind === BURST_FINISHED || now >= end) return
  }
}

describe("Vcpu properties", () => {
  it.prop([
    arbPhases,
    fc.integer(),
    fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 }),
    fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 })
  ])("how a run is cut into bursts never changes the guest's accesses", (phases, seed, cuts, maxes) => {
    const end = 20_000
    const one = make(phases, seed)
    runSplit(one.vcpu, one.mem, end, [end], [1_000_000])
    const many = make(phases, seed)
    runSplit(many.vcpu, many.mem, end, cuts, maxes)
    expect(many.mem.log).toEqual(one.mem.log)
    expect(many.vcpu.now_ns).toBe(one.vcpu.now_ns)
    expect(many.gt.cycle_pages).toBe(one.gt.cycle_pages)
  })

  it.prop([arbPhases, fc.integer(), fc.array(fc.integer({ min: 0, max: PAGES - 1 }), { maxLength: 6 })])(
    "with memory that keeps every write there is no data loss, blocks and wakes included",
    (phases, seed, blocking) => {
      const { gt, mem, vcpu } = make(phases, seed)
      for (const p of blocking) mem.blocking.add(p)
      let now = 0
      let completed = 0
      for (let step = 0; step < 200 && now < 20_000; step++) {
        const r = vcpu.run_burst(mem, now, now + 1000, 100)
        completed += r.accesses
        expect(r.kind).not.toBe(BURST_SIGNAL)
        if (r.kind === BURST_FINISHED) break
        if (r.kind === BURST_BLOCKED) mem.blocking.delete(r.page) // the wake: resolved, retried next burst
        now = r.kind === BURST_BLOCKED ? r.now_ns + 500 : r.now_ns
      }
      expect(gt.data_loss).toBe(0)
      expect(vcpu.accesses).toBe(completed)
      // every write value reached the memory the shadow says it did
      for (let p = 0; p < PAGES; p++) expect(mem.content[p]).toBe(gt.expected(p))
    }
  )
})
