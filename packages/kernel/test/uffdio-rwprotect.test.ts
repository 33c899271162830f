// UFFDIO_RWPROTECT: mode and range errnos, the all-or-nothing pre-scan of seed 003, what protect and
// resolve do to entries, wake-ups, and the TLB shootdown before return (UFFDIO_RWPROTECT.2const of
// seed 002; seed 003; rwp-semantics §5 and §17.3 P1-P17).
import { describe, expect, it } from "vitest"
import { F_PRESENT, F_PROTNONE, F_SWAP, F_UFFD, F_WRITE, F_ZERO } from "../src/mm/pgtable.ts"
import * as U from "../src/uapi.ts"
import {
  BACKINGS,
  categoriesOf,
  DONTWAKE,
  fails,
  HPAGE,
  isRwpProtected,
  MODE_MISSING,
  MODE_RWP,
  MODE_WP,
  map,
  newKernel,
  nextMsg,
  noMsg,
  ok,
  PAGE,
  PROTECT,
  pteFlags,
  populate,
  RESOLVE,
  RWP,
  read,
  readOk,
  setup,
  tlbHas,
  uffd,
  VCPU0,
  VCPU1,
  VMM,
  write
} from "./helpers.ts"

const { PAGE_IS_ACCESSED, PAGE_IS_PRESENT, PAGE_IS_SWAPPED, PAGE_IS_PFNZERO } = U

describe.each(BACKINGS)("UFFDIO_RWPROTECT [%s]", (b) => {
  const file = b !== "anon"

  it(`UFFDIO_RWPROTECT.2const: MODE_RWP puts PAGE_NONE + uffd on every present page; pagemap present + bit 57; scan PRESENT without ACCESSED (P1) [${b}]`, () => {
    const { k, m, fd } = setup(b)
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    for (let i = 0; i < m.pages; i++) {
      const f = pteFlags(k, m.at(i))
      expect(f & (F_PRESENT | F_PROTNONE | F_UFFD)).toBe(F_PRESENT | F_PROTNONE | F_UFFD)
      expect(f & F_WRITE).toBe(0)
      const pm = k.pagemap_read(m.at(i))
      expect([pm.present, pm.swapped, pm.uffd, pm.file_or_shared]).toEqual([true, false, true, file])
      expect(categoriesOf(k, m.at(i)) & (PAGE_IS_PRESENT | PAGE_IS_ACCESSED)).toBe(PAGE_IS_PRESENT)
    }
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: EINVAL when MODE_DONTWAKE is combined with MODE_RWP; nothing changes (P2) [${b}]`, () => {
    const { k, m, fd } = setup(b)
    fails(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT | DONTWAKE), "EINVAL")
    expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: EINVAL for an invalid mode bit (1<<2, 1<<2|RWP, 1<<40) (P3) [${b}]`, () => {
    const { k, m, fd } = setup(b)
    fails(k.uffdio_rwprotect(fd, m.addr, m.len, 1 << 2), "EINVAL")
    fails(k.uffdio_rwprotect(fd, m.addr, m.len, (1 << 2) | PROTECT), "EINVAL")
    fails(k.uffdio_rwprotect(fd, m.addr, m.len, 2 ** 40), "EINVAL")
    expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: EINVAL when start or len is not a page multiple or len is zero (P4) [${b}]`, () => {
    const { k, m, fd } = setup(b)
    fails(k.uffdio_rwprotect(fd, m.addr + 1, m.pb, PROTECT), "EINVAL")
    fails(k.uffdio_rwprotect(fd, m.addr, PAGE + 1, PROTECT), "EINVAL")
    fails(k.uffdio_rwprotect(fd, m.addr, 0, PROTECT), "EINVAL")
    fails(k.uffdio_rwprotect(fd, m.addr, 0, RESOLVE), "EINVAL")
  })

  it(`seed 003 (pre-scan): ENOENT when the range also covers an unregistered VMA, and the registered VMA before it is left unchanged (P5) [${b}]`, () => {
    const k = newKernel()
    const reg = map(k, b, 2)
    const un = map(k, b, 1)
    populate(reg)
    populate(un)
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, reg.addr, reg.len, MODE_RWP))
    const before = [pteFlags(k, reg.at(0)), pteFlags(k, reg.at(1))]
    fails(k.uffdio_rwprotect(fd, reg.addr, un.end - reg.addr, PROTECT), "ENOENT")
    expect([pteFlags(k, reg.at(0)), pteFlags(k, reg.at(1))]).toEqual(before)
    expect(k.pagemap_read(reg.at(0)).uffd).toBe(false)
    expect(k.stats.tlb_shootdowns).toBe(0)
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: ENOENT for a MISSING-only VMA (P6) and a WP VMA (P7) [${b}]`, () => {
    const k = newKernel()
    const a = map(k, b, 1)
    const w = map(k, b, 1)
    populate(a)
    populate(w)
    const fd = uffd(k, RWP | U.UFFD_FEATURE_PAGEFAULT_FLAG_WP | U.UFFD_FEATURE_WP_HUGETLBFS_SHMEM)
    ok(k.uffdio_register(fd, a.addr, a.len, MODE_MISSING))
    ok(k.uffdio_register(fd, w.addr, w.len, MODE_WP))
    fails(k.uffdio_rwprotect(fd, a.addr, a.len, PROTECT), "ENOENT")
    fails(k.uffdio_rwprotect(fd, w.addr, w.len, PROTECT), "ENOENT")
    fails(k.uffdio_rwprotect(fd, w.addr, w.len, RESOLVE), "ENOENT")
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: ENOENT when no VMA is in the range (P8) [${b}]`, () => {
    const { k, m, fd } = setup(b)
    fails(k.uffdio_rwprotect(fd, m.end + HPAGE, m.pb, PROTECT), "ENOENT")
    fails(k.uffdio_rwprotect(fd, m.end + HPAGE, m.pb, RESOLVE), "ENOENT")
  })

  it(`seed 003 (holes skipped): a range over two RWP VMAs with a hole between protects both (P10) [${b}]`, () => {
    const k = newKernel()
    const m1 = map(k, b, 1)
    const m2 = map(k, b, 1)
    populate(m1)
    populate(m2)
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, m1.addr, m2.end - m1.addr, MODE_RWP))
    ok(k.uffdio_rwprotect(fd, m1.addr, m2.end - m1.addr, PROTECT))
    expect(isRwpProtected(k, m1.addr)).toBe(true)
    expect(isRwpProtected(k, m2.addr)).toBe(true)
  })

  it(`UFFDIO_RWPROTECT.2const: only populated pages are protected; an untouched page faults in unprotected (P11) [${b}]`, () => {
    const { k, m, fd } = setup(b, { populate: false })
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(pteFlags(k, m.at(0))).toBe(0)
    expect(k.pagemap_read(m.at(0)).present).toBe(false)
    expect(readOk(k, VCPU0, m.at(0))).toBe(0)
    noMsg(k, fd)
    expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
    expect(categoriesOf(k, m.at(0)) & PAGE_IS_ACCESSED).toBe(PAGE_IS_ACCESSED)
  })

  it(`UFFDIO_RWPROTECT.2const: with MODE_MISSING too, first touch of an unpopulated protected page is a MISSING fault (flags 0) (P11) [${b}]`, () => {
    const { k, m, fd } = setup(b, { populate: false, mode: MODE_RWP | MODE_MISSING })
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(read(k, VCPU0, m.at(0)).code).toBe(U.ACCESS_BLOCKED)
    const msg = nextMsg(k, fd)
    expect([msg.event, msg.flags, msg.address]).toEqual([U.UFFD_EVENT_PAGEFAULT, 0, m.at(0)])
  })

  it(`rwp-semantics §5: protecting an already protected page changes nothing (P12) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    const before = pteFlags(k, m.at(0))
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(pteFlags(k, m.at(0))).toBe(before)
  })

  it(`UFFDIO_RWPROTECT.2const: !MODE_RWP restores the VMA permissions and clears bit 57; the page reads as ACCESSED (P13) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, RESOLVE))
    for (let i = 0; i < m.pages; i++) {
      expect(pteFlags(k, m.at(i)) & (F_PROTNONE | F_UFFD)).toBe(0)
      expect(k.pagemap_read(m.at(i)).uffd).toBe(false)
      expect(categoriesOf(k, m.at(i)) & PAGE_IS_ACCESSED).toBe(PAGE_IS_ACCESSED)
    }
    // accessible again without a fault
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    expect(write(k, VCPU0, m.at(1), 9)).toBe(U.ACCESS_DONE)
    expect(k.stats.rwp_faults_sync + k.stats.rwp_faults_async).toBe(0)
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS / rwp-semantics §13: EAGAIN while a non-cooperative event (UFFD_EVENT_REMOVE) is unread; checked before the range (P14) [${b}]`, () => {
    const { k, m, fd } = setup(b, { features: RWP | U.UFFD_FEATURE_EVENT_REMOVE })
    ok(k.madvise(m.at(0), m.pb, U.MADV_DONTNEED))
    fails(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT), "EAGAIN")
    fails(k.uffdio_rwprotect(fd, m.addr + 1, 0, 7), "EAGAIN")
    expect(k.pagemap_read(m.at(1)).uffd).toBe(false)
    expect(nextMsg(k, fd).event).toBe(U.UFFD_EVENT_REMOVE)
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
  })

  it(`rwp-semantics §5 step 8 [I]: no check that the range belongs to this userfaultfd; another uffd of the process may protect it (P15) [${b}]`, () => {
    const { k, m } = setup(b)
    const other = uffd(k, 0)
    ok(k.uffdio_rwprotect(other, m.addr, m.len, PROTECT))
    expect(isRwpProtected(k, m.at(0))).toBe(true)
  })

  it(`UFFDIO_RWPROTECT.2const: protect never wakes a blocked thread; resolve wakes it [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU0, m.at(1)).code).toBe(U.ACCESS_BLOCKED)
    k.drain_woken()
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(k.drain_woken()).toEqual([])
    expect(k.blockedOn(VCPU0)).not.toBe(null)
    ok(k.uffdio_rwprotect(fd, m.at(1), m.pb, RESOLVE))
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(readOk(k, VCPU0, m.at(1))).toBe(2)
  })

  it(`UFFDIO_RWPROTECT.2const: MODE_DONTWAKE resolves without waking; UFFDIO_WAKE then releases the thread with no new message (F4) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU0, m.at(0)).code).toBe(U.ACCESS_BLOCKED)
    nextMsg(k, fd)
    k.drain_woken()
    ok(k.uffdio_rwprotect(fd, m.at(0), m.pb, DONTWAKE))
    expect(isRwpProtected(k, m.at(0))).toBe(false)
    expect(k.drain_woken()).toEqual([])
    ok(k.uffdio_wake(fd, m.at(0), m.pb))
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    noMsg(k, fd)
  })

  it(`rwp-semantics §8.3 step 4: resolve wakes only waiters whose address is in the range [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU0, m.at(0)).code).toBe(U.ACCESS_BLOCKED)
    expect(read(k, VCPU1, m.at(2)).code).toBe(U.ACCESS_BLOCKED)
    k.drain_woken()
    ok(k.uffdio_rwprotect(fd, m.at(2), m.pb, RESOLVE))
    expect(k.drain_woken()).toEqual([VCPU1])
    expect(k.blockedOn(VCPU0)).not.toBe(null)
  })

  it(`rwp-semantics §5 step 9 / §14: after protect returns, a vCPU whose TLB held the page faults (one shootdown) [${b}]`, () => {
    const { k, m, fd } = setup(b)
    expect(readOk(k, VCPU1, m.at(0))).toBe(1)
    expect(write(k, VCPU0, m.at(1), 22)).toBe(U.ACCESS_DONE)
    expect(tlbHas(k, VCPU1, m.at(0))).toBe(true)
    expect(tlbHas(k, VCPU0, m.at(1))).toBe(true)
    const shootdowns = k.stats.tlb_shootdowns
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(k.stats.tlb_shootdowns).toBe(shootdowns + 1)
    expect(tlbHas(k, VCPU1, m.at(0))).toBe(false)
    expect(tlbHas(k, VCPU0, m.at(1))).toBe(false)
    // the next access blocks on every vCPU, read or write
    expect(read(k, VCPU1, m.at(0)).code).toBe(U.ACCESS_BLOCKED)
    expect(write(k, VCPU0, m.at(1), 23)).toBe(U.ACCESS_BLOCKED)
    expect(nextMsg(k, fd).flags).toBe(U.UFFD_PAGEFAULT_FLAG_RWP)
    expect(nextMsg(k, fd).flags).toBe(U.UFFD_PAGEFAULT_FLAG_RWP | U.UFFD_PAGEFAULT_FLAG_WRITE)
    expect(k.stats.rwp_faults_sync).toBe(2)
  })

  it(`rwp-semantics §5: protect and resolve of a sub-range touch only that part [${b}]`, () => {
    const { k, m, fd } = setup(b)
    ok(k.uffdio_rwprotect(fd, m.at(1), 2 * m.pb, PROTECT))
    expect([0, 1, 2, 3].map((i) => isRwpProtected(k, m.at(i)))).toEqual([false, true, true, false])
    ok(k.uffdio_rwprotect(fd, m.at(2), m.pb, RESOLVE))
    expect([0, 1, 2, 3].map((i) => isRwpProtected(k, m.at(i)))).toEqual([false, true, false, false])
  })

  it(`rwp-semantics §5: resolving pages never protected is a no-op that still succeeds [${b}]`, () => {
    const { k, m, fd } = setup(b)
    const before = pteFlags(k, m.at(0))
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, RESOLVE))
    expect(pteFlags(k, m.at(0))).toBe(before)
  })

  it(`rwp-semantics §5 (pre-scan): an uninitialized fd is EINVAL before anything else [${b}]`, () => {
    const { k, m } = setup(b)
    const raw = ok(k.userfaultfd(U.O_NONBLOCK)).fd
    fails(k.uffdio_rwprotect(raw, m.addr, m.len, PROTECT), "EINVAL")
  })
})

describe("UFFDIO_RWPROTECT: hugetlb and mixed ranges", () => {
  it("seed 003: hugetlb RWP VMA with start aligned and len 4 KiB is EINVAL (P9)", () => {
    const { k, m, fd } = setup("hugetlb")
    fails(k.uffdio_rwprotect(fd, m.addr, PAGE, PROTECT), "EINVAL")
    fails(k.uffdio_rwprotect(fd, m.addr + PAGE, HPAGE, PROTECT), "EINVAL")
    fails(k.uffdio_rwprotect(fd, m.addr, HPAGE + PAGE, RESOLVE), "EINVAL")
    expect(k.pagemap_read(m.addr).uffd).toBe(false)
  })

  it("seed 003 (pre-scan): [anon RWP][hugetlb RWP] with a len that is not a huge-page multiple is EINVAL and the anon VMA is untouched", () => {
    const k = newKernel()
    const h = map(k, "hugetlb", 1)
    const a = map(k, "anon", 1, { addr: h.addr - PAGE })
    populate(a)
    populate(h)
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, a.addr, a.len, MODE_RWP))
    ok(k.uffdio_register(fd, h.addr, h.len, MODE_RWP))
    // start is the anon page: misaligned for the huge page
    fails(k.uffdio_rwprotect(fd, a.addr, h.end - a.addr, PROTECT), "EINVAL")
    expect(k.pagemap_read(a.addr).uffd).toBe(false)
    expect(k.pagemap_read(h.addr).uffd).toBe(false)
  })

  it("seed 003 (pre-scan): the first failing VMA in address order decides: ENOENT before a later hugetlb EINVAL", () => {
    const k = newKernel()
    const h = map(k, "hugetlb", 1)
    const a = map(k, "anon", 1, { addr: h.addr - PAGE })
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, h.addr, h.len, MODE_RWP)) // the anon VMA stays unregistered
    fails(k.uffdio_rwprotect(fd, a.addr, h.end - a.addr, PROTECT), "ENOENT")
  })

  it("rwp-semantics §5: an anon page swapped out unprotected gets the swap uffd bit; bit 57 set, SWAPPED without ACCESSED (P16)", () => {
    const { k, m, fd } = setup("anon")
    ok(k.madvise(m.at(0), PAGE, U.MADV_PAGEOUT))
    expect(pteFlags(k, m.at(0)) & (F_SWAP | F_UFFD)).toBe(F_SWAP)
    expect(categoriesOf(k, m.at(0)) & (PAGE_IS_SWAPPED | PAGE_IS_ACCESSED)).toBe(PAGE_IS_SWAPPED | PAGE_IS_ACCESSED)
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(pteFlags(k, m.at(0)) & (F_SWAP | F_UFFD)).toBe(F_SWAP | F_UFFD)
    const pm = k.pagemap_read(m.at(0))
    expect([pm.present, pm.swapped, pm.uffd]).toEqual([false, true, true])
    expect(categoriesOf(k, m.at(0)) & (PAGE_IS_SWAPPED | PAGE_IS_ACCESSED)).toBe(PAGE_IS_SWAPPED)
  })

  it("rwp-semantics §5: the zero page (a read-faulted anon page) is protected too: PFNZERO|PRESENT without ACCESSED (P17)", () => {
    const { k, m, fd } = setup("anon", { populate: false })
    expect(readOk(k, VMM, m.at(0))).toBe(0)
    expect(pteFlags(k, m.at(0)) & F_ZERO).toBe(F_ZERO)
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(isRwpProtected(k, m.at(0))).toBe(true)
    expect(categoriesOf(k, m.at(0)) & (PAGE_IS_PFNZERO | PAGE_IS_PRESENT | PAGE_IS_ACCESSED)).toBe(
      PAGE_IS_PFNZERO | PAGE_IS_PRESENT
    )
    expect(read(k, VCPU0, m.at(0)).code).toBe(U.ACCESS_BLOCKED)
  })

  it("rwp-semantics §8.6: a NUMA-hint protnone entry (no uffd bit) in an RWP VMA is promoted to RWP by protect", () => {
    const { k, m, fd } = setup("anon")
    // make a NUMA hint by hand: PAGE_NONE without the uffd bit
    const s = k.mm.slot
    k.mm.pt.lookup(m.at(0), 0, false, s)
    s.t.flags[s.i] = (s.t.flags[s.i]! | F_PROTNONE) & ~F_WRITE
    expect(categoriesOf(k, m.at(0)) & PAGE_IS_ACCESSED).toBe(PAGE_IS_ACCESSED)
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(isRwpProtected(k, m.at(0))).toBe(true)
  })
})
