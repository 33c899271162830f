// W1 of bench/README.md run through Vcpu bursts over a memory that models ref.c (direct-mapped
// 64-entry TLB per vCPU; missing fault populates; async RWP fault unprotects; a tracker every 1M
// accesses counts cold pages, re-protects and flushes): the guest must draw exactly the C's pages.
import { describe, expect, it } from "vitest"
import {
  ACCESS_DONE,
  BenchW1Pattern,
  BenchW2Pattern,
  BURST_DONE_MAX,
  GroundTruth,
  type GuestMemory,
  type RandomSource,
  Vcpu,
  Xorshift32 as RefStream
} from "../../src/index.ts"

const N = 1 << 20
const BASE = 0x7f0000000000
const PRESENT = 1
const RWP = 2
const YOUNG = 4

/** ref.c's xorshift32 stream, seed 0x9E3779B9. */
class Xorshift32 implements RandomSource {
  private x = 0x9e3779b9
  nextU32(): number {
    let x = this.x
    x = (x ^ (x << 13)) >>> 0
    x = (x ^ (x >>> 17)) >>> 0
    x = (x ^ (x << 5)) >>> 0
    this.x = x
    return x
  }
  below(threshold: number): boolean {
    return this.nextU32() < threshold
  }
}

class RefMemory implements GuestMemory {
  access_value = 0
  readonly st = new Uint8Array(N)
  readonly tlb = new Int32Array(4 * 64).fill(-1)
  hits = 0
  misses = 0
  rwp_faults = 0
  missing_faults = 0

  access(task: number, addr: number, _write: boolean, _value: number, _user: boolean): number {
    const page = (addr - BASE) / 4096
    const slot = task * 64 + (page & 63)
    if (this.tlb[slot] === page) {
      this.hits++
      return ACCESS_DONE
    }
    this.misses++
    let s = this.st[page]
    if (!(s & PRESENT)) {
      this.missing_faults++
      s = PRESENT
    } else if (s & RWP) {
      this.rwp_faults++
      s &= ~RWP
    }
    this.st[page] = s | YOUNG
    this.tlb[slot] = page
    return ACCESS_DONE
  }

  access_page(task: number, page: number, write: boolean, value: number): number {
    return this.access(task, BASE + page * 4096, write, value, true)
  }

  tracker(): number {
    let cold = 0
    for (let p = 0; p < N; p++) {
      const s = this.st[p]
      if ((s & (PRESENT | RWP)) === (PRESENT | RWP)) cold++
      if (s & PRESENT) this.st[p] = (s | RWP) & ~YOUNG
    }
    this.tlb.fill(-1)
    return cold
  }
}

describe("BenchW1Pattern", () => {
  it("reproduces ref.c's W1: cold counts of the first three cycles and fault counts", () => {
    const rng = new Xorshift32() // one stream shared by the four vCPUs, as in ref.c
    const gt = new GroundTruth(N)
    const vcpus = [0, 1, 2, 3].map(
      (index) =>
        new Vcpu({
          index,
          vcpus: 4,
          phases: [{ pattern: "uniform", writes: 0, access_ns: 1 }],
          guest_pages: N,
          base_addr: BASE,
          page_bytes: 4096,
          rng,
          ground_truth: gt,
          make_pattern: (p) => new BenchW1Pattern(p.span_first, p.span_count)
        })
    )
    const mem = new RefMemory()
    const cold: number[] = []
    let done = 0
    for (let burst = 0; done < 3_000_000; burst++) {
      const v = vcpus[burst % 4]
      const r = v.run_burst(mem, v.now_ns, Number.POSITIVE_INFINITY, 1000)
      expect(r.kind).toBe(BURST_DONE_MAX)
      done += r.accesses
      if (done % 1_000_000 === 0) cold.push(mem.tracker())
    }
    // bench/README.md: cold per cycle 0, 85035, 161584, ...
    expect(cold).toEqual([0, 85035, 161584])
    expect(mem.hits + mem.misses).toBe(3_000_000)
    expect(gt.data_loss).toBe(0)
  })

  it("hot pages are the first tenth of the span", () => {
    const p = new BenchW1Pattern(0, 1000)
    expect(p.hot_count).toBe(100)
    const rng = new Xorshift32()
    let hot = 0
    for (let i = 0; i < 10_000; i++) if (p.next(rng, 0) < 100) hot++
    expect(Math.abs(hot / 10_000 - 0.9)).toBeLessThan(0.01)
  })
})

describe("BenchW1Pattern's int31 reduction", () => {
  it("draws what ref.c's u32 % draws", () => {
    const p = new BenchW1Pattern(0, N)
    const a = new RefStream()
    const b = new RefStream()
    for (let i = 0; i < 200_000; i++) {
      const r1 = b.nextU32()
      const r2 = b.nextU32()
      const want = r1 % 10 !== 0 ? r2 % p.hot_count : p.hot_count + (r2 % (N - p.hot_count))
      if (p.next(a, 0) !== want) expect.fail(`draw ${i}: ${want} expected`)
    }
  })
})

describe("BenchW2Pattern", () => {
  it("draws r0 first; re-touches the previous page unless r0 & 7 is 0 or the burst starts", () => {
    const p = new BenchW2Pattern(0, N, 4)
    const a = new RefStream()
    const ref = new RefStream()
    const w1 = new BenchW1Pattern(0, N)
    let prev = -1
    for (let i = 0; i < 40_000; i++) {
      const r0 = ref.nextU32()
      const want = i % 4 !== 0 && (r0 & 7) !== 0 ? prev : w1.next(ref, 0)
      prev = want
      if (p.next(a, 0) !== want) expect.fail(`draw ${i}: ${want} expected`)
    }
    expect(p.draws).toBe(40_000)
  })
})
