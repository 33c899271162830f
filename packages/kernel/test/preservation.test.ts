// What keeps and what drops RWP protection: reclaim, swap-in, migration, mprotect, MADV_DONTNEED, hole
// punch, truncate, THP split (UFFDIO_RWPROTECT.2const and userfaultfd.2 of seed 002: "For anonymous
// mappings, protection is preserved across page reclaim ... and migration. For shmem and file-backed
// mappings, protection is dropped when the backing page is reclaimed ... MADV_DONTNEED ..., hole-punch
// ..., truncation"; rwp-semantics §9 and §17.6).
import { describe, expect, it } from "vitest"
import { F_PRESENT, F_PROTNONE, F_SWAP, F_UFFD, PMD_LEVEL } from "../src/mm/pgtable.ts"
import * as U from "../src/uapi.ts"
import {
  type Backing,
  BACKINGS,
  categoriesOf,
  fails,
  HPAGE,
  isRwpProtected,
  MODE_MISSING,
  MODE_RWP,
  map,
  newKernel,
  nextMsg,
  noMsg,
  ok,
  PAGE,
  PROTECT,
  PTE_LEVEL,
  pteFlags,
  pteLevel,
  pteVal,
  RESOLVE,
  RWP,
  RWP_ASYNC,
  read,
  readOk,
  regions,
  scan,
  setup,
  type Setup,
  uffd,
  VCPU0,
  VCPU1,
  VMM,
  write
} from "./helpers.ts"

const { ACCESS_BLOCKED, ACCESS_DONE, PAGE_IS_ACCESSED, PAGE_IS_HUGE, PAGE_IS_PRESENT, PAGE_IS_SWAPPED } = U
const PUNCH = U.FALLOC_FL_PUNCH_HOLE | U.FALLOC_FL_KEEP_SIZE

/** The protected page 0 faults (sync) on the next access, and resolving it gives back `value`. */
function expectStillProtected(s: Setup, value: number): void {
  const { k, m, fd } = s
  expect(k.pagemap_read(m.at(0)).uffd).toBe(true)
  expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
  expect(nextMsg(k, fd).flags).toBe(U.UFFD_PAGEFAULT_FLAG_RWP)
  ok(k.uffdio_rwprotect(fd, m.at(0), m.pb, RESOLVE))
  expect(readOk(k, VCPU0, m.at(0))).toBe(value)
}

/** Page 0 lost its protection: bit 57 clear, the next access completes with `value` and no message. */
function expectDropped(s: Setup, value: number): void {
  const { k, m, fd } = s
  expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
  expect(isRwpProtected(k, m.at(0))).toBe(false)
  expect(readOk(k, VCPU0, m.at(0))).toBe(value)
  noMsg(k, fd)
  expect(k.stats.rwp_faults_sync).toBe(0)
  expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
  expect(categoriesOf(k, m.at(0)) & PAGE_IS_ACCESSED).toBe(PAGE_IS_ACCESSED)
}

interface Row {
  op: string
  backing: Backing
  result: "keeps" | "drops" | "EINVAL"
  /** page 0's word after the operation (it held 1) */
  value: number
  source: string
  run: (s: Setup) => void
}

const pageout = (s: Setup) => s.k.madvise(s.m.at(0), s.m.pb, U.MADV_PAGEOUT)
const rows: Row[] = []
for (const b of BACKINGS) {
  rows.push({
    op: "MADV_PAGEOUT (reclaim)",
    backing: b,
    result: b === "anon" ? "keeps" : b === "shmem" ? "drops" : "EINVAL",
    value: 1,
    source:
      b === "anon"
        ? "UFFDIO_RWPROTECT.2const: anon protection is preserved across reclaim (the marker rides on the swap entry)"
        : b === "shmem"
          ? "UFFDIO_RWPROTECT.2const: shmem protection is dropped when the page is reclaimed"
          : "madvise(2): MADV_PAGEOUT on hugetlb is EINVAL (can_madv_lru_vma); protection untouched",
    run: (s) => (b === "hugetlb" ? fails(pageout(s), "EINVAL") : ok(pageout(s)))
  })
  rows.push({
    op: "migration",
    backing: b,
    result: "keeps",
    value: 1,
    source: "UFFDIO_RWPROTECT.2const: protection is preserved across migration (rwp-semantics §9)",
    run: (s) => {
      const pfn = pteVal(s.k, s.m.at(0))
      ok(s.k.migrate(s.m.addr, s.m.len))
      expect(pteVal(s.k, s.m.at(0))).not.toBe(pfn)
      expect(s.k.stats.migrations).toBeGreaterThan(0)
    }
  })
  rows.push({
    op: "mprotect(PROT_READ) then mprotect(RW)",
    backing: b,
    result: "keeps",
    value: 1,
    source: "rwp-semantics §9 (RWPv10-07): mprotect cannot unprotect",
    run: (s) => {
      ok(s.k.mprotect(s.m.addr, s.m.len, U.PROT_READ))
      expect(isRwpProtected(s.k, s.m.at(0))).toBe(true)
      ok(s.k.mprotect(s.m.addr, s.m.len, U.PROT_READ | U.PROT_WRITE))
    }
  })
  rows.push({
    op: "MADV_DONTNEED",
    backing: b,
    result: "drops",
    value: b === "anon" ? 0 : 1, // anon memory is gone; shmem/hugetlb pages stay in the page cache
    source: "UFFDIO_RWPROTECT.2const: MADV_DONTNEED drops the entry and its protection",
    run: (s) => ok(s.k.madvise(s.m.at(0), s.m.pb, U.MADV_DONTNEED))
  })
  if (b !== "anon") {
    rows.push({
      op: "fallocate(PUNCH_HOLE)",
      backing: b,
      result: "drops",
      value: 0,
      source: "UFFDIO_RWPROTECT.2const: hole-punch drops protection (no RWP marker, RWPv10-15)",
      run: (s) => ok(s.k.fallocate(s.m.fd, PUNCH, 0, s.m.pb))
    })
    rows.push({
      op: "MADV_REMOVE",
      backing: b,
      result: "drops",
      value: 0,
      source: "rwp-semantics §9: MADV_REMOVE punches the shmem/hugetlbfs file and drops protection",
      run: (s) => ok(s.k.madvise(s.m.at(0), s.m.pb, U.MADV_REMOVE))
    })
    rows.push({
      op: "ftruncate to 0 and back",
      backing: b,
      result: "drops",
      value: 0,
      source: "UFFDIO_RWPROTECT.2const: truncation of a file mapping drops protection",
      run: (s) => {
        ok(s.k.ftruncate(s.m.fd, 0))
        expect(pteFlags(s.k, s.m.at(0))).toBe(0)
        ok(s.k.ftruncate(s.m.fd, s.m.len))
      }
    })
  }
}

describe("preservation matrix: operation x backing on a protected page", () => {
  const table = rows.map((r) => [`${r.source}: ${r.op} [${r.backing}] ${r.result} protection`, r] as const)
  it.each(table)("%s", (_title, row) => {
    const s = setup(row.backing, { protect: true })
    row.run(s)
    if (row.result === "drops") expectDropped(s, row.value)
    else expectStillProtected(s, row.value)
    // the other pages were not touched by an operation on page 0 (or on the whole range)
    expect(s.k.pagemap_read(s.m.at(3)).uffd).toBe(!row.op.startsWith("ftruncate"))
  })
})

describe("anon swap (rwp-semantics §9, RWPv10-07, selftest rwp-swap-cow)", () => {
  it("rwp-semantics §9: anon swap-out keeps the uffd bit on the swap entry (pagemap swapped + bit 57) (L3)", () => {
    const { k, m } = setup("anon", { protect: true })
    const before = k.stats.swapouts
    ok(k.madvise(m.addr, m.len, U.MADV_PAGEOUT))
    expect(k.stats.swapouts).toBe(before + m.pages)
    for (let i = 0; i < m.pages; i++) {
      expect(pteFlags(k, m.at(i)) & (F_SWAP | F_UFFD | F_PRESENT)).toBe(F_SWAP | F_UFFD)
      const pm = k.pagemap_read(m.at(i))
      expect([pm.present, pm.swapped, pm.uffd]).toEqual([false, true, true])
      expect(categoriesOf(k, m.at(i)) & (PAGE_IS_SWAPPED | PAGE_IS_ACCESSED)).toBe(PAGE_IS_SWAPPED)
    }
  })

  it("rwp-semantics §9: swap-in of a protected anon page returns PAGE_NONE + uffd and the access still RWP-faults (sync)", () => {
    const { k, m, fd } = setup("anon", { protect: true })
    ok(k.madvise(m.addr, m.len, U.MADV_PAGEOUT))
    const swapins = k.stats.swapins
    expect(read(k, VCPU0, m.at(1)).code).toBe(ACCESS_BLOCKED)
    expect(k.stats.swapins).toBe(swapins + 1)
    expect(pteFlags(k, m.at(1)) & (F_PRESENT | F_PROTNONE | F_UFFD)).toBe(F_PRESENT | F_PROTNONE | F_UFFD)
    expect(nextMsg(k, fd)).toMatchObject({ flags: U.UFFD_PAGEFAULT_FLAG_RWP, address: m.at(1) })
    const pm = k.pagemap_read(m.at(1))
    expect([pm.present, pm.uffd]).toEqual([true, true])
  })

  it("selftest rwp-swap-cow (RWPv8): a write to a protected swapped page is an RWP fault (0x9), not a silent write upgrade", () => {
    const { k, m, fd } = setup("anon", { protect: true })
    ok(k.madvise(m.at(0), PAGE, U.MADV_PAGEOUT))
    expect(write(k, VCPU0, m.at(0), 0x22)).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).flags).toBe(U.UFFD_PAGEFAULT_FLAG_RWP | U.UFFD_PAGEFAULT_FLAG_WRITE)
    ok(k.uffdio_rwprotect(fd, m.at(0), PAGE, RESOLVE))
    expect(write(k, VCPU0, m.at(0), 0x22)).toBe(ACCESS_DONE)
    expect(readOk(k, VCPU1, m.at(0))).toBe(0x22)
  })

  it("rwp-semantics §9: an async access to a protected swapped page swaps it in, resolves it and reports ACCESSED", () => {
    const { k, m, fd } = setup("anon", { protect: true, features: RWP | RWP_ASYNC })
    ok(k.madvise(m.addr, m.len, U.MADV_PAGEOUT))
    expect(readOk(k, VCPU0, m.at(2))).toBe(3)
    noMsg(k, fd)
    expect(categoriesOf(k, m.at(2)) & (PAGE_IS_PRESENT | PAGE_IS_ACCESSED)).toBe(PAGE_IS_PRESENT | PAGE_IS_ACCESSED)
    expect(categoriesOf(k, m.at(3)) & (PAGE_IS_SWAPPED | PAGE_IS_ACCESSED)).toBe(PAGE_IS_SWAPPED)
  })

  it("rwp-semantics §5: resolving a swapped protected page clears the swap uffd bit; swap-in is then accessible", () => {
    const { k, m, fd } = setup("anon", { protect: true })
    ok(k.madvise(m.addr, m.len, U.MADV_PAGEOUT))
    ok(k.uffdio_rwprotect(fd, m.at(0), PAGE, RESOLVE))
    expect(pteFlags(k, m.at(0)) & (F_SWAP | F_UFFD)).toBe(F_SWAP)
    expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    noMsg(k, fd)
  })

  it("rwp-semantics §17.6 L1: DONTNEED on a protected anon page registered with MISSING: the next access is a MISSING fault, not RWP", () => {
    const { k, m, fd } = setup("anon", { protect: true, mode: MODE_RWP | MODE_MISSING })
    ok(k.madvise(m.at(0), PAGE, U.MADV_DONTNEED))
    expect(pteFlags(k, m.at(0))).toBe(0)
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd)).toEqual({ event: U.UFFD_EVENT_PAGEFAULT, flags: 0, address: m.at(0) })
  })

  it("rwp-semantics §9: migration keeps the protection on a swapped neighbour and moves only present pages", () => {
    const { k, m } = setup("anon", { protect: true })
    ok(k.madvise(m.at(0), PAGE, U.MADV_PAGEOUT))
    const slot = pteVal(k, m.at(0))
    ok(k.migrate(m.addr, m.len))
    expect(pteVal(k, m.at(0))).toBe(slot)
    for (let i = 0; i < m.pages; i++) expect(isRwpProtected(k, m.at(i))).toBe(true)
  })

  it("rwp-semantics §14: migration shoots down stale translations: a vCPU that had the page reads the new frame", () => {
    const { k, m } = setup("anon")
    expect(readOk(k, VCPU1, m.at(0))).toBe(1)
    ok(k.migrate(m.addr, m.len))
    expect(write(k, VMM, m.at(0), 17)).toBe(ACCESS_DONE)
    expect(readOk(k, VCPU1, m.at(0))).toBe(17)
  })
})

describe("shmem reclaim and punch (rwp-semantics §9)", () => {
  it("UFFDIO_RWPROTECT.2const: shmem reclaim zaps the PTE (pagemap empty); the next access maps the page unprotected with its data (L4)", () => {
    const { k, m, fd } = setup("shmem", { protect: true, mode: MODE_RWP | MODE_MISSING })
    ok(k.madvise(m.addr, m.len, U.MADV_PAGEOUT))
    const pm = k.pagemap_read(m.at(0))
    expect([pm.present, pm.swapped, pm.uffd]).toEqual([false, false, false])
    expect(k.stats.swapouts).toBe(m.pages)
    // the data is in the file's swap, so this is no MISSING fault either
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    noMsg(k, fd)
    expect(isRwpProtected(k, m.at(0))).toBe(false)
  })

  it("seed 001 workflow: after PUNCH_HOLE of a protected shmem page registered MISSING, the retried access is a MISSING fault resolved by UFFDIO_COPY (F18)", () => {
    const { k, m, fd } = setup("shmem", { protect: true, mode: MODE_RWP | MODE_MISSING })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).flags).toBe(U.UFFD_PAGEFAULT_FLAG_RWP)
    ok(k.fallocate(m.fd, PUNCH, 0, PAGE))
    expect(k.drain_woken()).toEqual([]) // fallocate wakes nobody
    ok(k.uffdio_wake(fd, m.at(0), PAGE))
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd)).toEqual({ event: U.UFFD_EVENT_PAGEFAULT, flags: 0, address: m.at(0) })
    expect(ok(k.uffdio_copy(fd, m.at(0), null, 0x55, PAGE, 0)).copy).toBe(PAGE)
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(readOk(k, VCPU0, m.at(0))).toBe(0x55)
    expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
  })
})

describe("anon THP (rwp-semantics §5, §9: anon THP split keeps PAGE_NONE + uffd per PTE)", () => {
  /** A protected 2 MiB anon THP whose word is 7, registered RWP (sync unless features say async). */
  function thp(features = RWP, protect = true): Setup {
    const k = newKernel()
    const m = map(k, "anon", HPAGE / PAGE)
    expect(m.addr % HPAGE).toBe(0)
    ok(k.madvise(m.addr, m.len, U.MADV_HUGEPAGE))
    expect(write(k, VMM, m.addr, 7)).toBe(ACCESS_DONE)
    expect(pteLevel(k, m.addr)).toBe(PMD_LEVEL)
    const fd = uffd(k, features)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP))
    if (protect) ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    return { k, m, fd }
  }

  it("rwp-semantics §5 (v7 cover): an anon THP is protected as one PMD: PRESENT|HUGE, bit 57 on every subpage", () => {
    const { k, m } = thp()
    expect(pteLevel(k, m.addr)).toBe(PMD_LEVEL)
    expect(isRwpProtected(k, m.addr)).toBe(true)
    expect(k.pagemap_read(m.at(100)).uffd).toBe(true)
    expect(regions(scan(k, m.addr, m.end, { return_mask: PAGE_IS_HUGE | PAGE_IS_PRESENT | PAGE_IS_ACCESSED }))).toEqual(
      [{ start: m.addr, end: m.end, categories: PAGE_IS_HUGE | PAGE_IS_PRESENT }]
    )
  })

  it("rwp-semantics §17.4 F19: an async touch of one byte makes the whole 2 MiB ACCESSED", () => {
    const { k, m } = thp(RWP | RWP_ASYNC)
    expect(readOk(k, VCPU0, m.at(5))).toBe(7)
    expect(pteLevel(k, m.addr)).toBe(PMD_LEVEL)
    expect(regions(scan(k, m.addr, m.end, { category_mask: PAGE_IS_ACCESSED, return_mask: PAGE_IS_ACCESSED }))).toEqual(
      [{ start: m.addr, end: m.end, categories: PAGE_IS_ACCESSED }]
    )
  })

  it("rwp-semantics §9: resolving one 4 KiB page of a protected THP splits it; the other 511 PTEs stay PAGE_NONE + uffd", () => {
    const { k, m, fd } = thp()
    ok(k.uffdio_rwprotect(fd, m.at(3), PAGE, RESOLVE))
    expect(pteLevel(k, m.addr)).toBe(PTE_LEVEL)
    for (let i = 0; i < m.pages; i++) expect(isRwpProtected(k, m.at(i))).toBe(i !== 3)
    expect(readOk(k, VCPU0, m.at(3))).toBe(7)
    expect(read(k, VCPU0, m.at(4)).code).toBe(ACCESS_BLOCKED)
  })

  it("rwp-semantics §9: MADV_DONTNEED of half a protected THP splits it; the kept half stays protected with its data", () => {
    const { k, m, fd } = thp()
    ok(k.madvise(m.addr + HPAGE / 2, HPAGE / 2, U.MADV_DONTNEED))
    for (let i = 0; i < 256; i++) expect(isRwpProtected(k, m.at(i))).toBe(true)
    expect(pteFlags(k, m.at(256))).toBe(0)
    ok(k.uffdio_rwprotect(fd, m.addr, PAGE, RESOLVE))
    expect(readOk(k, VCPU0, m.addr)).toBe(7)
  })

  it("rwp-semantics §9 (RWPv10-07): mprotect of half a protected THP splits the PMD; every one of the 512 PTEs keeps PAGE_NONE + uffd and the data", () => {
    const { k, m, fd } = thp()
    ok(k.mprotect(m.addr + HPAGE / 2, HPAGE / 2, U.PROT_READ))
    const kept = []
    for (let i = 0; i < m.pages; i++) if (isRwpProtected(k, m.at(i))) kept.push(i)
    expect(kept.length).toBe(512)
    expect(k.pagemap_read(m.addr).present).toBe(true)
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, RESOLVE))
    expect(readOk(k, VCPU0, m.addr)).toBe(7)
    expect(readOk(k, VCPU0, m.at(511))).toBe(7)
  })

  it("rwp-semantics §9 (VMA split of a THP): registering half of an anon THP and protecting it leaves the other half's data in place", () => {
    const { k, m, fd } = thp(RWP, false)
    ok(k.uffdio_unregister(fd, m.addr, m.len))
    ok(k.uffdio_register(fd, m.addr + HPAGE / 2, HPAGE / 2, MODE_RWP))
    ok(k.uffdio_rwprotect(fd, m.addr + HPAGE / 2, HPAGE / 2, PROTECT))
    expect(isRwpProtected(k, m.at(256))).toBe(true)
    expect(k.pagemap_read(m.addr).present).toBe(true)
    expect(isRwpProtected(k, m.addr)).toBe(false)
    expect(readOk(k, VCPU0, m.addr)).toBe(7)
  })

  it("mm/vma.c (__split_vma -> vma_adjust_trans_huge splits a THP the VMA boundary cuts): munmap of half a THP keeps the other half's data", () => {
    const { k, m } = thp(RWP, false)
    ok(k.munmap(m.addr + HPAGE / 2, HPAGE / 2))
    expect(k.pagemap_read(m.addr).present).toBe(true)
    expect(readOk(k, VMM, m.addr)).toBe(7)
    expect(readOk(k, VMM, m.at(255))).toBe(7)
  })

  it("rwp-semantics §9: MADV_PAGEOUT of a protected THP splits it and swaps every page out with the swap uffd bit", () => {
    const { k, m, fd } = thp(RWP | RWP_ASYNC)
    ok(k.madvise(m.addr, m.len, U.MADV_PAGEOUT))
    expect(pteFlags(k, m.at(0)) & (F_SWAP | F_UFFD)).toBe(F_SWAP | F_UFFD)
    expect(pteFlags(k, m.at(511)) & (F_SWAP | F_UFFD)).toBe(F_SWAP | F_UFFD)
    expect(readOk(k, VCPU0, m.at(9))).toBe(7)
    noMsg(k, fd)
    expect(k.pagemap_read(m.at(10)).uffd).toBe(true)
  })
})
