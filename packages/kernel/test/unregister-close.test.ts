// UFFDIO_UNREGISTER, UFFDIO_WAKE and close(): protection is resolved so it cannot outlive the
// userfaultfd (seed 003 "userfaultfd_clear_vma() runs the same resolve pass on unregister"; admin guide
// of seed 001 "Cleanup"; rwp-semantics §7, §12 and §17.4 F7/F8, §17.6 L10).
import { describe, expect, it } from "vitest"
import { F_PROTNONE, F_UFFD } from "../src/mm/pgtable.ts"
import { __VM_UFFD_FLAGS } from "../src/mm/vma.ts"
import * as U from "../src/uapi.ts"
import {
  BACKINGS,
  categoriesOf,
  contents,
  ctxOf,
  fails,
  HPAGE,
  isRwpProtected,
  MODE_MISSING,
  MODE_RWP,
  map,
  newKernel,
  nextMsg,
  ok,
  PAGE,
  pteFlags,
  RWP,
  read,
  readOk,
  setup,
  uffd,
  VCPU0,
  VCPU1,
  vmaAt
} from "./helpers.ts"

const { ACCESS_BLOCKED, PAGE_IS_ACCESSED } = U

describe.each(BACKINGS)("UFFDIO_UNREGISTER [%s]", (b) => {
  it(`seed 003: UNREGISTER resolves every RWP entry; bit 57 clear, VMA no longer RWP, no PAGE_IS_ACCESSED (L10) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    ok(k.uffdio_unregister(fd, m.addr, m.len))
    for (let i = 0; i < m.pages; i++) {
      expect(pteFlags(k, m.at(i)) & (F_PROTNONE | F_UFFD)).toBe(0)
      expect(k.pagemap_read(m.at(i)).uffd).toBe(false)
      expect(categoriesOf(k, m.at(i)) & PAGE_IS_ACCESSED).toBe(0)
    }
    const v = vmaAt(k, m.addr)!
    expect(v.vm_flags & __VM_UFFD_FLAGS).toBe(0)
    expect(v.uffd).toBe(null)
    expect(contents(m, VCPU0)).toEqual([1, 2, 3, 4])
    expect(k.stats.rwp_faults_sync).toBe(0)
  })

  it(`rwp-semantics §7 [I]: UNREGISTER of an RWP-only range makes the page accessible but does not wake its waiter; UFFDIO_WAKE does (F7) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    k.drain_woken()
    ok(k.uffdio_unregister(fd, m.addr, m.len))
    expect(isRwpProtected(k, m.at(0))).toBe(false)
    expect(k.drain_woken()).toEqual([])
    expect(k.blockedOn(VCPU0)).not.toBe(null)
    ok(k.uffdio_wake(fd, m.at(0), m.pb))
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
  })

  it(`mm/userfaultfd.c (userfaultfd_unregister): a MISSING-registered range is woken on UNREGISTER [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, mode: MODE_RWP | MODE_MISSING })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    k.drain_woken()
    ok(k.uffdio_unregister(fd, m.addr, m.len))
    expect(k.drain_woken()).toEqual([VCPU0])
  })

  it(`rwp-semantics §7: UNREGISTER of part of the range splits the VMA and resolves only that part [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    ok(k.uffdio_unregister(fd, m.at(1), m.pb))
    expect([0, 1, 2, 3].map((i) => isRwpProtected(k, m.at(i)))).toEqual([true, false, true, true])
    expect(vmaAt(k, m.at(1))!.uffd).toBe(null)
    expect(vmaAt(k, m.at(0))!.uffd).toBe(ctxOf(k, fd))
  })

  it(`rwp-semantics §7: UNREGISTER errnos: EINVAL for a bad range, no VMA, or a VMA of another userfaultfd; unregistered VMAs are skipped [${b}]`, () => {
    const { k, m, fd } = setup(b)
    fails(k.uffdio_unregister(fd, m.addr + 1, m.pb), "EINVAL")
    fails(k.uffdio_unregister(fd, m.addr, 0), "EINVAL")
    fails(k.uffdio_unregister(fd, m.end + HPAGE, m.pb), "EINVAL")
    const other = map(k, b, 1)
    const fd2 = uffd(k, RWP)
    ok(k.uffdio_register(fd2, other.addr, other.len, MODE_RWP))
    fails(k.uffdio_unregister(fd, other.addr, other.len), "EINVAL")
    expect(vmaAt(k, other.addr)!.uffd).toBe(ctxOf(k, fd2))
    const plain = map(k, b, 1)
    ok(k.uffdio_unregister(fd, plain.addr, plain.len))
  })

  it(`userfaultfd.2 (close) / rwp-close selftest: close() resolves every protected page, wakes every waiter, contents intact (F8) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(read(k, VCPU1, m.at(2)).code).toBe(ACCESS_BLOCKED)
    nextMsg(k, fd)
    k.drain_woken()
    ok(k.close(fd))
    expect(k.drain_woken().sort()).toEqual([VCPU0, VCPU1])
    for (let i = 0; i < m.pages; i++) expect(k.pagemap_read(m.at(i)).uffd).toBe(false)
    expect(vmaAt(k, m.addr)!.uffd).toBe(null)
    expect(vmaAt(k, m.addr)!.vm_flags & __VM_UFFD_FLAGS).toBe(0)
    expect(contents(m, VCPU0)).toEqual([1, 2, 3, 4])
    expect(k.read_msg(fd)).toEqual({ ok: false, errno: "EBADF" })
  })

  it(`mm/userfaultfd.c (userfaultfd_release): close() wakes MISSING waiters too; the retried access populates normally [${b}]`, () => {
    const { k, m, fd } = setup(b, { populate: false, mode: MODE_RWP | MODE_MISSING })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    ok(k.close(fd))
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(readOk(k, VCPU0, m.at(0))).toBe(0)
  })
})

describe("UFFDIO_WAKE and UNREGISTER on hugetlb", () => {
  it("rwp-semantics §12: UFFDIO_WAKE checks only the range (EINVAL) and needs no VMA or registration", () => {
    const k = newKernel()
    const fd = uffd(k, RWP)
    ok(k.uffdio_wake(fd, 0x7e0000000000, PAGE))
    fails(k.uffdio_wake(fd, 0x7e0000000001, PAGE), "EINVAL")
    fails(k.uffdio_wake(fd, 0x7e0000000000, 0), "EINVAL")
  })

  it("mm/hugetlb.c (hugetlb_vm_op_split refuses an unaligned split): UNREGISTER of a hugetlb range whose end is not huge-page aligned is EINVAL; no hugetlb VMA is cut mid-page", () => {
    const { k, m, fd } = setup("hugetlb", { protect: true })
    fails(k.uffdio_unregister(fd, m.addr, HPAGE + PAGE), "EINVAL")
    for (const v of k.mm.vmas.list) if (v.hugetlb) expect([v.start % HPAGE, v.end % HPAGE]).toEqual([0, 0])
    expect(vmaAt(k, m.at(3))!.uffd).toBe(ctxOf(k, fd))
  })

  it("rwp-semantics §7: UNREGISTER of a hugetlb range with an unaligned start is EINVAL", () => {
    const { k, m, fd } = setup("hugetlb", { protect: true })
    fails(k.uffdio_unregister(fd, m.addr + PAGE, HPAGE), "EINVAL")
    expect(isRwpProtected(k, m.addr)).toBe(true)
  })
})
