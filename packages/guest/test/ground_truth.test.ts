import { describe, expect, it } from "vitest"
import { GroundTruth } from "../src/index.ts"

describe("GroundTruth", () => {
  it("a read of a page never written must return 0", () => {
    const gt = new GroundTruth(8)
    expect(gt.recordAccess(3, 10, 0, false, 0, 0)).toBe(true)
    expect(gt.recordAccess(4, 11, 0, false, 0, 7)).toBe(false)
    expect(gt.data_loss).toBe(1)
    expect(gt.violations).toEqual([{ page: 4, t_ns: 11, vcpu: 0, expected: 0, actual: 7 }])
  })

  it("no_data_loss: a read must return the last write; a lost write is recorded, not thrown", () => {
    const gt = new GroundTruth(8)
    gt.recordAccess(2, 100, 1, true, 41, 0)
    gt.recordAccess(2, 200, 0, true, 42, 0)
    expect(gt.recordAccess(2, 300, 1, false, 0, 42)).toBe(true)
    // the kernel lost the write of 42 and returns the older 41
    expect(gt.recordAccess(2, 400, 0, false, 0, 41)).toBe(false)
    expect(gt.violations).toEqual([{ page: 2, t_ns: 400, vcpu: 0, expected: 42, actual: 41 }])
    expect(gt.written(2)).toBe(true)
    expect(gt.written(3)).toBe(false)
    expect(gt.expected(2)).toBe(42)
  })

  it("every lost read counts; only violations_max are kept in full", () => {
    const gt = new GroundTruth(4, 2)
    for (let i = 0; i < 5; i++) gt.recordAccess(1, i, 0, false, 0, 9)
    expect(gt.data_loss).toBe(5)
    expect(gt.violations.length).toBe(2)
  })

  it("values compare as u32 (a read value of -1 is 0xffffffff)", () => {
    const gt = new GroundTruth(2)
    gt.recordAccess(0, 0, 0, true, 0xffffffff, 0)
    expect(gt.recordAccess(0, 1, 0, false, 0, -1)).toBe(true)
  })

  it("wss: distinct pages per cycle, repeats counted once, reset at each cycle", () => {
    const gt = new GroundTruth(100)
    for (const p of [1, 2, 2, 3, 1]) gt.recordAccess(p, 0, 0, false, 0, 0)
    expect(gt.cycle_pages).toBe(3)
    expect(gt.nextCycle()).toBe(3)
    for (const p of [2, 50, 51, 52, 53, 2]) gt.recordAccess(p, 10, 0, false, 0, 0)
    expect(gt.nextCycle()).toBe(5)
    expect(gt.nextCycle()).toBe(0)
    expect(gt.cycles_completed).toBe(3)
    expect(gt.wssTruePages()).toBe(Math.floor(8 / 3))
  })

  it("wssTruePages is 0 before any cycle completes", () => {
    const gt = new GroundTruth(10)
    gt.recordAccess(1, 0, 0, false, 0, 0)
    expect(gt.wssTruePages()).toBe(0)
  })

  it("a page counts as accessed once an access is recorded, whatever its time", () => {
    const gt = new GroundTruth(4)
    expect(gt.accessed(1)).toBe(false)
    gt.recordAccess(1, 900, 0, false, 0, 0)
    gt.recordAccess(1, 100, 1, false, 0, 0)
    expect(gt.accessed(1)).toBe(true)
    expect(gt.cycle_pages).toBe(1)
    gt.recordAccess(2, 2 ** 40, 1, false, 0, 0)
    expect([gt.accessed(0), gt.accessed(2), gt.accessed(3)]).toEqual([false, true, false])
  })

  it("a page's record keeps its written flag and value when a later cycle re-stamps it", () => {
    const gt = new GroundTruth(3)
    gt.recordAccess(1, 5, 0, true, 77, 0)
    gt.nextCycle()
    expect(gt.cycleOf(1)).toBe(1)
    expect(gt.recordAccess(1, 6, 0, false, 0, 77)).toBe(true)
    expect(gt.cycleOf(1)).toBe(2)
    expect(gt.written(1)).toBe(true)
    expect(gt.expected(1)).toBe(77)
    // neighbours in the shared buffer are untouched
    expect([gt.written(0), gt.written(2), gt.accessed(0), gt.accessed(2), gt.cycleOf(2)]).toEqual([
      false,
      false,
      false,
      false,
      0
    ])
  })
})
