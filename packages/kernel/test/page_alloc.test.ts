// mm/page_alloc.ts: the frame table. Freed frames are reused last in, first out, then new ones
// taken in order; a frame is never handed out twice, however allocations and frees interleave, and
// the table is as large as the most frames in use at once.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FrameTable, ZERO_PFN } from "../src/mm/page_alloc.ts"

describe("FrameTable", () => {
  it("gives the last freed frame, else the next never used; never the zero page", () => {
    const t = new FrameTable(4)
    expect([t.alloc(7), t.alloc(8), t.alloc(9)]).toEqual([1, 2, 3])
    expect(t.word[1]).toBe(7)
    t.put(1)
    t.put(3)
    expect(t.alloc(4)).toBe(3) // the last freed
    expect(t.alloc(5)).toBe(1)
    expect(t.alloc(6)).toBe(4) // beyond the first 4 slots: it grows
    expect(t.word[4]).toBe(6)
    expect(t.used).toBe(4)
  })

  it("never hands out a frame in use, and holds no more slots than half again the most in use", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(-1), fc.nat()), { maxLength: 300 }), (ops) => {
        const t = new FrameTable(8)
        const live: number[] = []
        let most = 0
        for (const op of ops) {
          if (op === -1) {
            const pfn = t.alloc(5)
            expect(pfn).not.toBe(ZERO_PFN)
            expect(live).not.toContain(pfn)
            live.push(pfn)
            most = Math.max(most, live.length)
          } else if (live.length > 0) t.put(live.splice(op % live.length, 1)[0]!)
        }
        expect(t.used).toBe(live.length)
        expect(t.word.length).toBeLessThanOrEqual(Math.max(8, Math.ceil((most + 1) * 1.5)))
      })
    )
  })

  it("counts references in 16 bits: the 65536th is an error, not a wrap to a free frame", () => {
    const t = new FrameTable(4)
    const pfn = t.alloc(9)
    for (let i = 1; i < 0xffff; i++) t.get(pfn)
    expect(t.refs[pfn]).toBe(0xffff)
    expect(() => t.get(pfn)).toThrow("get_page: pfn 1 has 65536 references")
    const other = t.alloc(1)
    t.put(other)
    expect(() => t.put(other)).toThrow("put_page: pfn 2 has no reference")
  })
})
