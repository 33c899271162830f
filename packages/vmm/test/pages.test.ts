import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { markRegions, PageBits, rangesWhere, VmmPages } from "../src/pages.ts"

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
  it("cold_age 1 (the default) keeps no ages: a page is old enough when this cycle judged it cold", () => {
    const pages = new VmmPages(64)
    expect(pages.bytes()).toBe(3 * 8) // three bits per page, no age
    const hot = new PageBits(64)
    hot.set(1, true)
    pages.age_cycle(hot)
    expect([pages.old_enough(hot, 0), pages.old_enough(hot, 1)]).toEqual([true, false])
  })

  it("cold_age N: a page is a victim after N cycles judged cold in a row; a hot cycle starts it again", () => {
    const pages = new VmmPages(4, 3)
    expect(pages.bytes()).toBe(3 * 4 + 4)
    const hot = new PageBits(4)
    const old = () => [0, 1, 2, 3].map((p) => pages.old_enough(hot, p))
    hot.set(1, true)
    pages.age_cycle(hot) // ages 1 0 1 1
    expect(old()).toEqual([false, false, false, false])
    hot.fill(false)
    hot.set(2, true)
    pages.age_cycle(hot) // 2 1 0 2
    pages.age_cycle(new PageBits(4)) // 3 2 1 3
    expect(old()).toEqual([true, false, false, true])
    hot.fill(false)
    for (let i = 0; i < 500; i++) pages.age_cycle(hot) // counts no further than cold_age
    expect(old()).toEqual([true, true, true, true])
  })

  it("a cold_age past 255 is kept in wider ages (a byte saturated at 255 and never evicted)", () => {
    const pages = new VmmPages(2, 300)
    expect(pages.bytes()).toBe(3 * 4 + 2 * 2)
    const cold = new PageBits(2)
    for (let i = 0; i < 299; i++) pages.age_cycle(cold)
    expect(pages.old_enough(cold, 0)).toBe(false)
    pages.age_cycle(cold)
    expect(pages.old_enough(cold, 0)).toBe(true)
    expect(rangesWhere(2, (p) => pages.old_enough(cold, p))).toEqual([{ first: 0, count: 2 }])
  })

  /** A scan's result buffer: (start, end, categories) triples. */
  const vec = (...ranges: [number, number][]) => new Float64Array(ranges.flatMap(([a, b]) => [a, b, 0]))

  it("markRegions sets the bits of the pages a scan's regions cover and counts the newly set", () => {
    const mark = new PageBits(16)
    const base = 0x1000_0000
    expect(markRegions(vec([base + 4096, base + 3 * 4096]), base, 4096, mark)).toBe(2)
    expect(markRegions(vec([base + 2048, base + 3 * 4096 + 2048]), base, 4096, mark)).toBe(2)
    expect(markRegions(vec([base + 2048, base + 3 * 4096 + 2048]), base, 4096, mark, true)).toBe(0)
    expect([0, 1, 2, 3, 4].map((p) => mark.get(p))).toEqual([true, true, true, true, false])
    mark.invert()
    expect([mark.get(0), mark.get(4), mark.countSet()]).toEqual([false, true, 12])
  })
})
