import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { PageBits, rangesWhere, VmmPages } from "../src/pages.ts"

describe("PageBits (a bit per guest page)", () => {
  it("sets and clears single pages and ranges across word boundaries, and copies", () => {
    const b = new PageBits(100)
    expect(b.words.length).toBe(4)
    b.setRange({ first: 30, count: 5 }, true) // 30..34: the first word's top bits, the second's low ones
    expect([29, 30, 31, 32, 34, 35].map((p) => b.get(p))).toEqual([false, true, true, true, true, false])
    b.set(31, false)
    expect(b.get(31)).toBe(false)
    const c = b.copy()
    b.fill(false)
    expect([b.get(30), c.get(30), c.get(31), c.get(99)]).toEqual([false, true, false, false])
    b.fill(true)
    expect(b.get(0) && b.get(99)).toBe(true)
  })

  it("reads back what a byte per page would, over any sequence of sets, range sets and fills", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 70 }), fc.boolean(), fc.integer({ min: 0, max: 20 })), {
          maxLength: 40
        }),
        (count, ops) => {
          const b = new PageBits(count)
          const model = new Uint8Array(count)
          for (const [at, len, on, kind] of ops) {
            const first = at % count
            const n = Math.min(len, count - first)
            if (kind === 0) {
              b.fill(on)
              model.fill(on ? 1 : 0)
            } else if (kind < 10) {
              b.set(first, on)
              model[first] = on ? 1 : 0
            } else {
              b.setRange({ first, count: n }, on)
              model.fill(on ? 1 : 0, first, first + n)
            }
          }
          for (let p = 0; p < count; p++) expect(b.get(p), `page ${p}`).toBe(model[p] === 1)
        }
      )
    )
  })
})

describe("VmmPages", () => {
  it("holds 3 bits and an age byte per page; ages saturate at 255 and reset when hot", () => {
    const pages = new VmmPages(64)
    expect(pages.bytes()).toBe(3 * 8 + 64)
    const hot = new Uint8Array(64)
    hot[1] = 1
    for (let i = 0; i < 300; i++) pages.age_cycle(hot)
    expect([pages.age[0], pages.age[1]]).toEqual([255, 0])
    expect(rangesWhere(64, (p) => pages.age[p] === 255)).toEqual([
      { first: 0, count: 1 },
      { first: 2, count: 62 }
    ])
  })
})
