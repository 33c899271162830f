// mm/page_alloc.ts: the frame table. A hint names the frame a caller would like (a page-cache page
// asks for its file index); freed frames are reused last in, first out; a frame is never handed out
// twice, however hints and frees interleave.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FrameTable, ZERO_PFN } from "../src/mm/page_alloc.ts"

describe("FrameTable", () => {
  it("gives the hinted frame when it is free, else the last freed, else the next never used", () => {
    const t = new FrameTable(4)
    expect(t.alloc(7, 10)).toBe(10) // beyond the table: it grows
    expect(t.word[10]).toBe(7)
    expect(t.alloc(1)).toBe(1)
    expect(t.alloc(2, 10)).toBe(2) // 10 is taken: the next never used
    t.put(1)
    expect(t.alloc(3, 10)).toBe(1) // the last freed
    expect(t.alloc(4, ZERO_PFN)).toBe(3) // the zero page is never a hint
  })

  it("skips free-stack entries a hint took, and bump entries a hint took", () => {
    const t = new FrameTable(4)
    expect(t.alloc(0)).toBe(1)
    t.put(1)
    expect(t.alloc(0, 1)).toBe(1) // the hint takes the freed frame
    expect(t.alloc(0, 2)).toBe(2)
    expect(t.alloc(0)).toBe(3) // 1 sits in the free stack but is in use, 2 was taken by a hint
  })

  it("never hands out a frame in use, over any sequence of hinted and plain allocations and frees", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ hint: fc.integer({ min: 0, max: 40 }) }), fc.record({ free: fc.nat() })), {
          maxLength: 200
        }),
        (ops) => {
          const t = new FrameTable(8)
          const live: number[] = []
          for (const op of ops) {
            if ("hint" in op) {
              const pfn = t.alloc(5, op.hint)
              expect(pfn).not.toBe(ZERO_PFN)
              expect(live).not.toContain(pfn)
              if (op.hint >= 1 && !live.includes(op.hint)) expect(pfn).toBe(op.hint)
              live.push(pfn)
            } else if (live.length > 0) t.put(live.splice(op.free % live.length, 1)[0]!)
          }
          expect(t.used).toBe(live.length)
        }
      )
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
