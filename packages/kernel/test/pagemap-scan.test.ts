// PAGEMAP_SCAN with the RWP series: argument validation in the kernel's order, PAGE_IS_ACCESSED only in
// RWP VMAs and never on unpopulated pages, inverted scans, max_pages / vec_len truncation and walk_end,
// WP_MATCHING and CHECK_WPASYNC over RWP VMAs (seed 004; fs/proc/task_mmu.c; scenario-format
// PAGEMAP_SCAN; rwp-semantics §10 and §17.7 M1-M16).
import { describe, expect, it } from "vitest"
import { F_UFFD, F_WRITE } from "../src/mm/pgtable.ts"
import * as U from "../src/uapi.ts"
import {
  type Backing,
  BACKINGS,
  fails,
  isRwpProtected,
  MODE_RWP,
  MODE_WP,
  map,
  newKernel,
  ok,
  PAGE,
  pteFlags,
  populate,
  RESOLVE,
  RWP,
  RWP_ASYNC,
  readOk,
  regions,
  scan,
  type Setup,
  setup,
  uffd,
  VCPU0,
  VMM,
  write
} from "./helpers.ts"

const {
  PAGE_IS_ACCESSED: ACC,
  PAGE_IS_PRESENT: PRESENT,
  PAGE_IS_WRITTEN: WRITTEN,
  PAGE_IS_SWAPPED: SWAPPED,
  PAGE_IS_HUGE: HUGE,
  PM_SCAN_WP_MATCHING,
  PM_SCAN_CHECK_WPASYNC
} = U

/** M1: `pages` pages written and protected (async), pages [0, touched) then read. */
function touched(b: Backing, pages = 8, touchedPages = 4, populated = pages): Setup {
  const s = setup(b, { pages, features: RWP | RWP_ASYNC, populate: false })
  for (let i = 0; i < populated; i++) expect(s.k.access(VMM, s.m.at(i), true, i + 1, true)).toBe(U.ACCESS_DONE)
  ok(s.k.uffdio_rwprotect(s.fd, s.m.addr, s.m.len, U.UFFDIO_RWPROTECT_MODE_RWP))
  for (let i = 0; i < touchedPages; i++) readOk(s.k, VCPU0, s.m.at(i))
  return s
}

describe("PAGEMAP_SCAN: argument validation (fs/proc/task_mmu.c pagemap_scan_get_args)", () => {
  const { k, m } = touched("anon")

  it("fs/proc/task_mmu.c: EINVAL when size is not sizeof(struct pm_scan_arg) = 96 (M7)", () => {
    fails(scan(k, m.addr, m.end, { size: 95 }), "EINVAL")
    fails(scan(k, m.addr, m.end, { size: 97 }), "EINVAL")
    ok(scan(k, m.addr, m.end, { size: 96 }))
  })

  it("fs/proc/task_mmu.c: EINVAL for a flag outside WP_MATCHING | CHECK_WPASYNC", () => {
    fails(scan(k, m.addr, m.end, { flags: 1 << 2 }), "EINVAL")
  })

  it("seed 004 (PM_SCAN_CATEGORIES gains PAGE_IS_ACCESSED): EINVAL for category bit 1<<10 in any mask; 1<<9 is accepted (M8)", () => {
    for (const f of ["category_mask", "category_inverted", "category_anyof_mask", "return_mask"] as const) {
      fails(scan(k, m.addr, m.end, { [f]: 1 << 10 }), "EINVAL")
      ok(scan(k, m.addr, m.end, { [f]: ACC }))
    }
  })

  it("fs/proc/task_mmu.c: EINVAL for an unaligned start (M9); EFAULT for end < start", () => {
    fails(scan(k, m.addr + 1, m.end), "EINVAL")
    fails(scan(k, m.end, m.addr), "EFAULT")
  })

  it("fs/proc/task_mmu.c: the checks run in order: size, flags, categories, start alignment, then the range (EINVAL before EFAULT)", () => {
    fails(scan(k, m.addr + 1, m.addr, {}), "EINVAL") // unaligned start wins over end < start
    fails(scan(k, m.end, m.addr, { return_mask: 1 << 11 }), "EINVAL") // bad category wins over the range
    fails(scan(k, m.end, m.addr, { size: 0 }), "EINVAL")
  })

  it("fs/proc/task_mmu.c: an unaligned end is rounded up to the page (M16)", () => {
    const r = ok(scan(k, m.addr, m.addr + 1, { return_mask: ACC }))
    expect(r.regions).toEqual([{ start: m.addr, end: m.addr + PAGE, categories: ACC }])
    expect(r.walk_end).toBe(m.addr + PAGE)
  })

  it("seed 004 / scenario-format: before the series (Linux 7.1) PAGE_IS_ACCESSED is EINVAL; before 6.7 there is no PAGEMAP_SCAN (ENOTTY)", () => {
    const k71 = newKernel({ kernel: [7, 1] })
    const m71 = map(k71, "anon", 1)
    fails(scan(k71, m71.addr, m71.end, { return_mask: ACC }), "EINVAL")
    ok(scan(k71, m71.addr, m71.end, { return_mask: U.PAGE_IS_GUARD }))
    const k66 = newKernel({ kernel: [6, 6] })
    fails(scan(k66, m71.addr, m71.end, {}), "ENOTTY")
  })
})

describe.each(BACKINGS)("PAGEMAP_SCAN over an RWP VMA [%s]", (b) => {
  it(`seed 004: mask = return = ACCESSED reports exactly the pages touched since protect (M1) [${b}]`, () => {
    const { k, m } = touched(b)
    const r = ok(scan(k, m.addr, m.end, { category_mask: ACC, return_mask: ACC, vec_len: 16 }))
    expect(r.regions).toEqual([{ start: m.addr, end: m.at(4), categories: ACC }])
    expect(r.count).toBe(1)
    expect(r.walk_end).toBe(m.end)
  })

  it(`seed 001 (cold-page detection): an inverted ACCESSED scan reports the still-protected pages with categories 0 (M2) [${b}]`, () => {
    const { k, m } = touched(b)
    expect(regions(scan(k, m.addr, m.end, { category_mask: ACC, category_inverted: ACC, return_mask: ACC }))).toEqual([
      { start: m.at(4), end: m.end, categories: 0 }
    ])
  })

  it(`scenario-format PAGEMAP_SCAN: an unpopulated page is never ACCESSED, so an inverted scan also matches holes (M3) [${b}]`, () => {
    const { k, m } = touched(b, 10, 4, 8)
    expect(regions(scan(k, m.addr, m.end, { category_mask: ACC, category_inverted: ACC, return_mask: ACC }))).toEqual([
      { start: m.at(4), end: m.at(10), categories: 0 }
    ])
    expect(regions(scan(k, m.at(8), m.end, { category_mask: ACC, return_mask: ACC }))).toEqual([])
  })

  it(`scenario-format PAGEMAP_SCAN: adding PAGE_IS_PRESENT to the mask gives only resident protected pages (M4) [${b}]`, () => {
    const { k, m } = touched(b, 10, 4, 8)
    expect(
      regions(scan(k, m.addr, m.end, { category_mask: ACC | PRESENT, category_inverted: ACC, return_mask: ACC }))
    ).toEqual([{ start: m.at(4), end: m.at(8), categories: 0 }])
  })

  it(`seed 004: PAGE_IS_WRITTEN is not reported in an RWP VMA, even on written pages (M15) [${b}]`, () => {
    const { k, m } = touched(b)
    expect(write(k, VCPU0, m.at(5), 3)).toBe(U.ACCESS_DONE)
    expect(regions(scan(k, m.addr, m.end, { category_mask: WRITTEN, return_mask: WRITTEN }))).toEqual([])
    expect(ok(scan(k, m.addr, m.end, { return_mask: WRITTEN })).regions).toEqual([
      { start: m.addr, end: m.end, categories: 0 }
    ])
  })

  it(`fs/proc/task_mmu.c: max_pages truncates the region and the walk ends there (M11) [${b}]`, () => {
    const { k, m } = touched(b)
    const r = ok(scan(k, m.addr, m.end, { category_mask: ACC, return_mask: ACC, max_pages: 2 }))
    expect(r.regions).toEqual([{ start: m.addr, end: m.addr + 2 * PAGE, categories: ACC }])
    expect(r.walk_end).toBe(m.addr + 2 * PAGE)
  })

  it(`fs/proc/task_mmu.c: a full vector stops the walk where the next region would start (M12) [${b}]`, () => {
    const { k, m, fd } = touched(b, 8, 8)
    // protect pages 1, 3, 5, 7 again: runs alternate accessed / protected
    for (const i of [1, 3, 5, 7]) ok(k.uffdio_rwprotect(fd, m.at(i), m.pb, U.UFFDIO_RWPROTECT_MODE_RWP))
    const r = ok(scan(k, m.addr, m.end, { return_mask: ACC, vec_len: 2 }))
    expect(r.count).toBe(2)
    expect(r.regions).toEqual([
      { start: m.at(0), end: m.at(1), categories: ACC },
      { start: m.at(1), end: m.at(2), categories: 0 }
    ])
    expect(r.walk_end).toBe(m.at(2))
    const one = ok(scan(k, m.addr, m.end, { return_mask: ACC, vec_len: 1 }))
    expect([one.count, one.walk_end]).toEqual([1, m.at(1)])
  })

  it(`fs/proc/task_mmu.c: vec_len 0 records nothing, walks the whole range and returns 0 [${b}]`, () => {
    const { k, m } = touched(b)
    expect(ok(scan(k, m.addr, m.end, { category_mask: ACC, return_mask: ACC, vec_len: 0 }))).toMatchObject({
      count: 0,
      regions: [],
      walk_end: m.end
    })
  })

  it(`rwp-semantics §10.4: PM_SCAN_WP_MATCHING skips an RWP VMA silently: no regions, no change to any entry (M6) [${b}]`, () => {
    const { k, m } = touched(b)
    const before = Array.from({ length: m.pages }, (_, i) => pteFlags(k, m.at(i)))
    for (const vec_len of [0, 16]) {
      const r = ok(
        scan(k, m.addr, m.end, { flags: PM_SCAN_WP_MATCHING, category_mask: ACC, return_mask: ACC, vec_len })
      )
      expect([r.count, r.regions]).toEqual([0, []])
    }
    expect(Array.from({ length: m.pages }, (_, i) => pteFlags(k, m.at(i)))).toEqual(before)
  })

  it(`rwp-semantics §10.4: PM_SCAN_CHECK_WPASYNC over an RWP VMA is EPERM (M5) [${b}]`, () => {
    const { k, m } = touched(b)
    fails(scan(k, m.addr, m.end, { flags: PM_SCAN_CHECK_WPASYNC, return_mask: ACC }), "EPERM")
    fails(scan(k, m.addr, m.end, { flags: PM_SCAN_CHECK_WPASYNC | PM_SCAN_WP_MATCHING, return_mask: ACC }), "EPERM")
  })

  it(`seed 004: ACCESSED is reported only inside VM_UFFD_RWP VMAs; after UNREGISTER it is gone (M13) [${b}]`, () => {
    const { k, m, fd } = touched(b)
    ok(k.uffdio_unregister(fd, m.addr, m.len))
    expect(regions(scan(k, m.addr, m.end, { category_mask: ACC, return_mask: ACC }))).toEqual([])
    // and so an inverted scan matches all of the non-RWP memory
    expect(regions(scan(k, m.addr, m.end, { category_mask: ACC, category_inverted: ACC, return_mask: ACC }))).toEqual([
      { start: m.addr, end: m.end, categories: 0 }
    ])
  })

  it(`rwp-semantics §10.4: return_mask 0 is legal and yields one merged region with categories 0 [${b}]`, () => {
    const { k, m } = touched(b)
    expect(regions(scan(k, m.addr, m.end, { return_mask: 0 }))).toEqual([{ start: m.addr, end: m.end, categories: 0 }])
  })
})

describe("PAGEMAP_SCAN: categories and walk details", () => {
  it("fs/proc/task_mmu.c (pagemap_scan_output: total_pages > max_pages): reaching max_pages exactly does not stop the walk; walk_end is the next matching page, or end", () => {
    const { k, m, fd } = touched("anon", 8, 8)
    ok(k.uffdio_rwprotect(fd, m.at(2), 2 * PAGE, U.UFFDIO_RWPROTECT_MODE_RWP)) // ACCESSED: 0 1 _ _ 4 5 6 7
    const r = ok(scan(k, m.addr, m.end, { category_mask: ACC, return_mask: ACC, max_pages: 2 }))
    expect(r.regions).toEqual([{ start: m.addr, end: m.at(2), categories: ACC }])
    expect(r.walk_end).toBe(m.at(4))
    ok(k.uffdio_rwprotect(fd, m.at(4), 4 * PAGE, U.UFFDIO_RWPROTECT_MODE_RWP)) // ACCESSED: 0 1 only
    const r2 = ok(scan(k, m.addr, m.end, { category_mask: ACC, return_mask: ACC, max_pages: 2 }))
    expect(r2.regions).toEqual([{ start: m.addr, end: m.at(2), categories: ACC }])
    expect(r2.walk_end).toBe(m.end)
  })

  it("rwp-semantics §10.3: hugetlb entries carry PAGE_IS_HUGE; a protected one is PRESENT|HUGE without ACCESSED", () => {
    const { k, m } = touched("hugetlb", 2, 1)
    expect(regions(scan(k, m.addr, m.end, { return_mask: HUGE | PRESENT | ACC }))).toEqual([
      { start: m.at(0), end: m.at(1), categories: HUGE | PRESENT | ACC },
      { start: m.at(1), end: m.at(2), categories: HUGE | PRESENT }
    ])
  })

  it("rwp-semantics §10.3: a protected anon page swapped out is SWAPPED without ACCESSED; swapped after access it is SWAPPED|ACCESSED", () => {
    const { k, m } = touched("anon", 2, 1)
    ok(k.madvise(m.addr, m.len, U.MADV_PAGEOUT))
    expect(regions(scan(k, m.addr, m.end, { return_mask: SWAPPED | ACC | PRESENT }))).toEqual([
      { start: m.at(0), end: m.at(1), categories: SWAPPED | ACC },
      { start: m.at(1), end: m.at(2), categories: SWAPPED }
    ])
  })

  it("rwp-semantics §10.4: regions merge across adjacent VMAs; a gap with no VMA produces nothing", () => {
    const k = newKernel()
    const a = map(k, "anon", 2)
    const c = map(k, "anon", 2, { addr: a.end }) // adjacent
    const d = map(k, "anon", 2) // after a gap
    for (const x of [a, c, d]) populate(x)
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, a.addr, d.end - a.addr, MODE_RWP))
    ok(k.uffdio_rwprotect(fd, a.addr, d.end - a.addr, U.UFFDIO_RWPROTECT_MODE_RWP))
    expect(d.addr).toBeGreaterThan(c.end)
    expect(regions(scan(k, a.addr, d.end, { category_mask: ACC, category_inverted: ACC, return_mask: ACC }))).toEqual([
      { start: a.addr, end: c.end, categories: 0 },
      { start: d.addr, end: d.end, categories: 0 }
    ])
  })

  it("seed 004: PAGE_IS_WRITTEN is reported only inside VM_UFFD_WP VMAs (M14), not on plain memory", () => {
    const k = newKernel()
    const wp = map(k, "anon", 2)
    const plain = map(k, "anon", 2)
    populate(wp)
    populate(plain)
    const fd = uffd(k, U.UFFD_FEATURE_WP_ASYNC)
    ok(k.uffdio_register(fd, wp.addr, wp.len, MODE_WP))
    ok(k.uffdio_writeprotect(fd, wp.addr, wp.len, U.UFFDIO_WRITEPROTECT_MODE_WP))
    expect(write(k, VCPU0, wp.at(1), 9)).toBe(U.ACCESS_DONE)
    expect(regions(scan(k, wp.addr, plain.end, { category_mask: WRITTEN, return_mask: WRITTEN }))).toEqual([
      { start: wp.at(1), end: wp.at(2), categories: WRITTEN }
    ])
  })

  it("seed 004 (the narrowing is new in 7.2): on Linux 7.1 PAGE_IS_WRITTEN is reported on every present page outside WP VMAs", () => {
    const k = newKernel({ kernel: [7, 1] })
    const plain = map(k, "anon", 2)
    populate(plain)
    expect(regions(scan(k, plain.addr, plain.end, { category_mask: WRITTEN, return_mask: WRITTEN }))).toEqual([
      { start: plain.addr, end: plain.end, categories: WRITTEN }
    ])
  })

  it("fs/proc/task_mmu.c (pagemap_scan_pmd_entry flushes the TLB after make_uffd_wp_pte): after WP_MATCHING a write through a warm TLB still faults and is seen as WRITTEN", () => {
    const k = newKernel()
    const m = map(k, "anon", 2)
    const fd = uffd(k, U.UFFD_FEATURE_WP_ASYNC)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_WP))
    ok(k.uffdio_writeprotect(fd, m.addr, m.len, U.UFFDIO_WRITEPROTECT_MODE_WP))
    expect(write(k, VCPU0, m.at(0), 5)).toBe(U.ACCESS_DONE) // async WP fault: WRITTEN, TLB now writable
    const wpScan = { flags: PM_SCAN_WP_MATCHING, category_mask: WRITTEN, return_mask: WRITTEN }
    expect(regions(scan(k, m.addr, m.end, wpScan))).toEqual([{ start: m.at(0), end: m.at(1), categories: WRITTEN }])
    expect(pteFlags(k, m.at(0)) & (F_UFFD | F_WRITE)).toBe(F_UFFD) // write-protected again
    expect(write(k, VCPU0, m.at(0), 6)).toBe(U.ACCESS_DONE)
    expect(pteFlags(k, m.at(0)) & F_UFFD).toBe(0)
    expect(regions(scan(k, m.addr, m.end, wpScan))).toEqual([{ start: m.at(0), end: m.at(1), categories: WRITTEN }])
  })

  it("rwp-semantics §17.3 P13: after resolve every page of the range reads as ACCESSED, touched or not", () => {
    const { k, m, fd } = touched("anon", 8, 0)
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, RESOLVE))
    expect(isRwpProtected(k, m.addr)).toBe(false)
    expect(regions(scan(k, m.addr, m.end, { category_mask: ACC, return_mask: ACC }))).toEqual([
      { start: m.addr, end: m.end, categories: ACC }
    ])
  })
})
