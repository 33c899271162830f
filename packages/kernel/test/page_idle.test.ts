// Idle page tracking (Documentation/admin-guide/mm/idle_page_tracking.rst, mm/page_idle.c): the
// fallback tracker where RWP is missing. Marking clears the young bit; an access through the page
// walk sets it again, which clears PG_idle on the next read; x86 does not flush the TLB when it
// clears young, so an access that hits a TLB entry loaded before the marking is not seen.
import { describe, expect, it } from "vitest"
import { BACKINGS, fails, map, newKernel, ok, VCPU0, VCPU1 } from "./helpers.ts"

describe.each(BACKINGS)("page_idle [%s]", (b) => {
  it("idle_page_tracking.rst: pages not accessed since marking read back idle; accessed ones do not", () => {
    const k = newKernel({ vcpus: 2 })
    const m = map(k, b, 4)
    for (let i = 0; i < 4; i++) k.access(VCPU0, m.at(i), true, i + 1, true)
    ok(k.page_idle_mark(m.addr, m.len))
    // a vCPU whose TLB is cold walks the page tables, and the walk sets the young bit
    k.access(VCPU1, m.at(2), false, 0, true)
    const out = new Uint8Array(m.len / 4096)
    const r = ok(k.page_idle_read(m.addr, m.len, out))
    const per = m.pb / 4096
    const want = Array.from({ length: 4 * per }, (_, p) => (Math.floor(p / per) === 2 ? 0 : 1))
    expect(Array.from(out)).toEqual(want)
    expect(r.idle).toBe(3 * per)
  })

  it("mm/page_idle.c: a never-populated page is not reported idle (only mapped LRU pages are)", () => {
    const k = newKernel()
    const m = map(k, b, 2)
    k.access(VCPU0, m.at(0), true, 1, true)
    ok(k.page_idle_mark(m.addr, m.len))
    const out = new Uint8Array(m.len / 4096)
    ok(k.page_idle_read(m.addr, m.len, out))
    expect(out[0]).toBe(1)
    expect(out[out.length - 1]).toBe(0)
  })
})

describe("page_idle", () => {
  it("x86 ptep_clear_young_notify(): no TLB flush, so an access through a stale TLB entry is not seen", () => {
    const k = newKernel()
    const m = map(k, "anon", 1)
    k.access(VCPU0, m.addr, true, 1, true) // loads the TLB
    ok(k.page_idle_mark(m.addr, m.len))
    k.access(VCPU0, m.addr, false, 0, true) // a TLB hit: the young bit stays clear
    const out = new Uint8Array(1)
    ok(k.page_idle_read(m.addr, m.len, out))
    expect(out[0]).toBe(1)
  })

  it("CONFIG_IDLE_PAGE_TRACKING=n: there is no page_idle bitmap (ENOENT)", () => {
    const k = newKernel({ config: { IDLE_PAGE_TRACKING: false } })
    const m = map(k, "anon", 1)
    fails(k.page_idle_mark(m.addr, m.len), "ENOENT")
  })
})
