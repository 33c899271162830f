import { describe, expect, it } from "vitest"
import { TLB_USER, TLB_WRITE, Tlb, tlb_single_page_flush_ceiling } from "../src/index.ts"

describe("Tlb", () => {
  it("misses when empty, hits after insert, returns the stored pfn and flags", () => {
    const t = new Tlb(64, 4)
    expect(t.lookup(5)).toBe(-1)
    t.insert(5, 77, TLB_WRITE | TLB_USER)
    const i = t.lookup(5)
    expect(i).toBeGreaterThanOrEqual(0)
    expect(t.entry_pfn(i)).toBe(77)
    expect(t.entry_flags(i)).toBe(TLB_WRITE | TLB_USER)
    expect([t.hits, t.misses]).toEqual([1, 1])
  })

  it("holds VPNs above 32 bits without aliasing", () => {
    const t = new Tlb(64, 4)
    const vpn = 0x7f0000000000 / 4096
    t.insert(vpn, 1, 0)
    expect(t.lookup(vpn)).not.toBe(-1)
    expect(t.lookup(vpn % 2 ** 32)).toBe(-1)
  })

  it("re-inserting a vpn updates its entry instead of duplicating it", () => {
    const t = new Tlb(4, 4)
    t.insert(1, 10, TLB_WRITE)
    t.insert(1, 11, 0)
    const i = t.lookup(1)
    expect([t.entry_pfn(i), t.entry_flags(i)]).toEqual([11, 0])
    for (const v of [2, 3, 4]) t.insert(v, v, 0)
    for (const v of [1, 2, 3, 4]) expect(t.lookup(v)).not.toBe(-1)
  })

  it("evicts round-robin within a set and leaves other sets alone", () => {
    const t = new Tlb(8, 2) // 4 sets
    t.insert(0, 100, 0)
    t.insert(4, 104, 0)
    t.insert(1, 101, 0) // set 1
    t.insert(8, 108, 0) // set 0 full: evicts way 0 (vpn 0)
    expect(t.lookup(0)).toBe(-1)
    expect(t.lookup(4)).not.toBe(-1)
    expect(t.lookup(8)).not.toBe(-1)
    t.insert(12, 112, 0) // evicts way 1 (vpn 4)
    expect(t.lookup(4)).toBe(-1)
    expect(t.lookup(8)).not.toBe(-1)
    expect(t.lookup(12)).not.toBe(-1)
    expect(t.lookup(1)).not.toBe(-1)
  })

  it("flush_range drops exactly [start, end) under the ceiling", () => {
    const t = new Tlb(64, 4)
    for (let v = 0; v < 16; v++) t.insert(v, v, 0)
    t.flush_range(4, 8)
    for (let v = 0; v < 16; v++) expect(t.lookup(v) === -1).toBe(v >= 4 && v < 8)
    expect(t.flushes).toBe(1)
  })

  it("flush_range past tlb_single_page_flush_ceiling flushes everything, cheaply", () => {
    const t = new Tlb(64, 4)
    t.insert(1_000_000, 1, 0)
    t.insert(3, 3, 0)
    t.flush_range(0, tlb_single_page_flush_ceiling + 1)
    expect(t.lookup(1_000_000)).toBe(-1)
    expect(t.lookup(3)).toBe(-1)
    t.insert(3, 3, 0)
    t.flush_range(0, 2 ** 40) // must not loop over the range
    expect(t.lookup(3)).toBe(-1)
    expect(t.flushes).toBe(2)
  })

  it("an empty flush_range is a no-op", () => {
    const t = new Tlb(64, 4)
    t.insert(3, 3, 0)
    t.flush_range(3, 3)
    expect(t.lookup(3)).not.toBe(-1)
    expect(t.flushes).toBe(0)
  })

  it("flush_all empties the TLB and counts one flush", () => {
    const t = new Tlb(16, 4)
    for (let v = 0; v < 16; v++) t.insert(v, v, 0)
    t.flush_all()
    for (let v = 0; v < 16; v++) expect(t.lookup(v)).toBe(-1)
    expect(t.flushes).toBe(1)
    expect(t.misses).toBe(16)
  })

  it("probe does not count hits or misses", () => {
    const t = new Tlb(64, 4)
    t.insert(9, 9, 0)
    expect(t.probe(9)).toBe(true)
    expect(t.probe(10)).toBe(false)
    expect([t.hits, t.misses]).toEqual([0, 0])
  })

  it("asserts on a geometry whose set count is not a power of two", () => {
    expect(() => new Tlb(12, 4)).toThrow()
    expect(() => new Tlb(10, 4)).toThrow()
    expect(() => new Tlb(64, 0)).toThrow()
  })

  it("fill() after a miss loads the entry round-robin in its set; refill() replaces one in place", () => {
    const t = new Tlb(8, 2) // 4 sets of 2 ways
    expect(t.lookup(4)).toBe(-1)
    t.fill(4, 40, 0)
    t.fill(8, 80, TLB_WRITE) // same set (4 & 3 == 8 & 3 == 0), next way
    expect(t.entry_pfn(t.lookup(4))).toBe(40)
    expect(t.entry_pfn(t.lookup(8))).toBe(80)
    t.fill(12, 120, 0) // the set is full: way 0 (vpn 4) is replaced
    expect(t.lookup(4)).toBe(-1)
    const i = t.lookup(12)
    t.refill(i, 121, TLB_WRITE)
    expect([t.entry_pfn(i), t.entry_flags(i)]).toEqual([121, TLB_WRITE])
  })

  it("lookup_rel() and fill_rel() are lookup() and fill() of window_vpn + rel (VPNs above 2^32)", () => {
    const t = new Tlb(64, 1)
    t.window_vpn = 0x7f0000000 // the kernel's window: 0x7f0000000000 in 4 KiB pages
    t.fill_rel(3, 30, TLB_WRITE)
    expect(t.lookup(0x7f0000003)).toBeGreaterThanOrEqual(0)
    expect(t.entry_pfn(t.lookup_rel(3))).toBe(30)
    expect(t.lookup_rel(3 + 64)).toBe(-1) // the same slot, another vpn
    t.insert(0x7f0000000 + 64 * 5 + 9, 90, 0)
    expect(t.entry_pfn(t.lookup_rel(64 * 5 + 9))).toBe(90)
    expect([t.hits, t.misses]).toEqual([3, 1])
  })

  it("behaves like a fully associative map when ways == entries and inserts fit", () => {
    const t = new Tlb(8, 8)
    for (let v = 0; v < 8; v++) t.insert(v * 1000, v, 0)
    for (let v = 0; v < 8; v++) expect(t.entry_pfn(t.lookup(v * 1000))).toBe(v)
  })
})
