// UFFDIO_COPY into RWP-registered memory: EEXIST over any existing entry (protected or not), ENOENT
// outside a registered VMA, EINVAL/EAGAIN, and the wake of the copied range (UFFDIO_COPY.2const;
// mm/userfaultfd.c mfill_atomic / validate_dst_vma; rwp-semantics §9, §12 and §17.4 F9).
import { describe, expect, it } from "vitest"
import * as U from "../src/uapi.ts"
import {
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
  ok,
  PAGE,
  pteFlags,
  RWP,
  read,
  readOk,
  setup,
  uffd,
  VCPU0,
  VCPU1
} from "./helpers.ts"

const { ACCESS_BLOCKED } = U
const DONTWAKE = U.UFFDIO_COPY_MODE_DONTWAKE

describe.each(BACKINGS)("UFFDIO_COPY into an RWP | MISSING range [%s]", (b) => {
  const missing = (o: { protect?: boolean; populate?: boolean; features?: number } = {}) =>
    setup(b, { mode: MODE_RWP | MODE_MISSING, populate: false, ...o })

  it(`UFFDIO_COPY.2const: resolves a MISSING fault and wakes the thread; the page is accessible and untracked (bit 57 clear, ACCESSED) [${b}]`, () => {
    const { k, m, fd } = missing()
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).flags).toBe(0)
    k.drain_woken()
    expect(ok(k.uffdio_copy(fd, m.at(0), null, 0x41, m.pb, 0)).copy).toBe(m.pb)
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(readOk(k, VCPU0, m.at(0))).toBe(0x41)
    expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
    expect(isRwpProtected(k, m.at(0))).toBe(false)
    expect(categoriesOf(k, m.at(0)) & U.PAGE_IS_ACCESSED).toBe(U.PAGE_IS_ACCESSED)
  })

  it(`UFFDIO_COPY.2const: UFFDIO_COPY_MODE_DONTWAKE installs the page without waking; UFFDIO_WAKE then does [${b}]`, () => {
    const { k, m, fd } = missing()
    expect(read(k, VCPU0, m.at(1)).code).toBe(ACCESS_BLOCKED)
    k.drain_woken()
    ok(k.uffdio_copy(fd, m.at(1), null, 3, m.pb, DONTWAKE))
    expect(k.drain_woken()).toEqual([])
    ok(k.uffdio_wake(fd, m.at(1), m.pb))
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(readOk(k, VCPU0, m.at(1))).toBe(3)
  })

  it(`UFFDIO_COPY.2const ERRORS: EEXIST on an RWP-protected page; a thread blocked on it stays blocked (F9) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, mode: MODE_RWP | MODE_MISSING })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    k.drain_woken()
    const before = pteFlags(k, m.at(0))
    fails(k.uffdio_copy(fd, m.at(0), null, 9, m.pb, 0), "EEXIST")
    expect(pteFlags(k, m.at(0))).toBe(before)
    expect(k.drain_woken()).toEqual([])
    expect(k.blockedOn(VCPU0)).not.toBe(null)
  })

  it(`UFFDIO_COPY.2const ERRORS: EEXIST on a present unprotected page [${b}]`, () => {
    const { k, m, fd } = setup(b, { mode: MODE_RWP | MODE_MISSING })
    fails(k.uffdio_copy(fd, m.at(2), null, 9, m.pb, 0), "EEXIST")
    expect(readOk(k, VCPU0, m.at(2))).toBe(3)
  })

  it(`UFFDIO_COPY.2const ERRORS: ENOENT when dst is not in a registered VMA, or the range runs past the VMA [${b}]`, () => {
    const { k, m, fd } = missing()
    const plain = map(k, b, 1)
    fails(k.uffdio_copy(fd, plain.addr, null, 1, plain.pb, 0), "ENOENT")
    fails(k.uffdio_copy(fd, m.at(3), null, 1, 2 * m.pb, 0), "ENOENT")
    fails(k.uffdio_copy(fd, m.end + 4 * HPAGE, null, 1, m.pb, 0), "ENOENT")
    expect(pteFlags(k, m.at(3))).toBe(0)
  })

  it(`UFFDIO_COPY.2const ERRORS: EINVAL for an unaligned dst or len, len 0, an unknown mode bit, or COPY_MODE_WP on a non-WP VMA [${b}]`, () => {
    const { k, m, fd } = missing()
    fails(k.uffdio_copy(fd, m.at(0) + 1, null, 1, m.pb, 0), "EINVAL")
    fails(k.uffdio_copy(fd, m.at(0), null, 1, PAGE + 1, 0), "EINVAL")
    fails(k.uffdio_copy(fd, m.at(0), null, 1, 0, 0), "EINVAL")
    fails(k.uffdio_copy(fd, m.at(0), null, 1, m.pb, 1 << 2), "EINVAL")
    fails(k.uffdio_copy(fd, m.at(0), null, 1, m.pb, U.UFFDIO_COPY_MODE_WP), "EINVAL")
    expect(pteFlags(k, m.at(0))).toBe(0)
  })

  it(`UFFDIO_COPY.2const ERRORS: EAGAIN while a non-cooperative event is unread (mmap_changing) [${b}]`, () => {
    const { k, m, fd } = missing({ features: RWP | U.UFFD_FEATURE_EVENT_REMOVE })
    ok(k.madvise(m.at(1), m.pb, U.MADV_DONTNEED))
    fails(k.uffdio_copy(fd, m.at(0), null, 1, m.pb, 0), "EAGAIN")
    expect(nextMsg(k, fd).event).toBe(U.UFFD_EVENT_REMOVE)
    ok(k.uffdio_copy(fd, m.at(0), null, 1, m.pb, 0))
  })

  it(`UFFDIO_COPY.2const ERRORS: EAGAIN when only part of len was copied (copy < len); the copied part is installed and woken [${b}]`, () => {
    const { k, m, fd } = missing()
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(k.access(VCPU1, m.at(1), true, 0, true)).toBe(ACCESS_BLOCKED)
    ok(k.uffdio_copy(fd, m.at(1), null, 5, m.pb, DONTWAKE)) // page 1 now exists
    k.drain_woken()
    const r = k.uffdio_copy(fd, m.at(0), null, 6, 2 * m.pb, 0)
    expect(r).toMatchObject({ ok: false, errno: "EAGAIN" })
    if ("copy" in r) expect(r.copy).toBe(m.pb) // the kernel also writes the bytes copied back
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(readOk(k, VCPU0, m.at(0))).toBe(6)
  })
})

describe("UFFDIO_COPY: other cases", () => {
  it("UFFDIO_COPY.2const ERRORS: EEXIST on a swapped-out anon page (an entry exists)", () => {
    const { k, m, fd } = setup("anon", { mode: MODE_RWP | MODE_MISSING, protect: true })
    ok(k.madvise(m.at(0), PAGE, U.MADV_PAGEOUT))
    fails(k.uffdio_copy(fd, m.at(0), null, 9, PAGE, 0), "EEXIST")
    expect(isRwpProtected(k, m.at(0))).toBe(true)
  })

  it("UFFDIO_COPY.2const ERRORS: EEXIST on a shmem page still in the page cache after MADV_DONTNEED zapped its PTE", () => {
    const { k, m, fd } = setup("shmem", { mode: MODE_RWP | MODE_MISSING })
    ok(k.madvise(m.at(0), PAGE, U.MADV_DONTNEED))
    expect(pteFlags(k, m.at(0))).toBe(0)
    fails(k.uffdio_copy(fd, m.at(0), null, 9, PAGE, 0), "EEXIST")
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
  })

  it("UFFDIO_COPY.2const ERRORS: hugetlb dst or len not huge-page aligned is EINVAL", () => {
    const { k, m, fd } = setup("hugetlb", { mode: MODE_RWP | MODE_MISSING, populate: false })
    fails(k.uffdio_copy(fd, m.addr, null, 1, PAGE, 0), "EINVAL")
    fails(k.uffdio_copy(fd, m.addr + PAGE, null, 1, HPAGE, 0), "EINVAL")
  })

  it("rwp-semantics §3: UFFDIO_COPY on an uninitialized userfaultfd is EINVAL", () => {
    const k = newKernel()
    const fd = ok(k.userfaultfd(U.O_NONBLOCK)).fd
    const m = map(k, "anon", 1)
    fails(k.uffdio_copy(fd, m.addr, null, 1, PAGE, 0), "EINVAL")
  })

  it("mm/userfaultfd.c (validate_dst_vma checks only that the VMA is registered, with any uffd): COPY through another userfaultfd of the process succeeds", () => {
    const { k, m } = setup("anon", { mode: MODE_RWP | MODE_MISSING, populate: false })
    const other = uffd(k, 0)
    expect(ok(k.uffdio_copy(other, m.addr, null, 4, PAGE, 0)).copy).toBe(PAGE)
    expect(readOk(k, VCPU0, m.addr)).toBe(4)
  })

  it("UFFDIO_COPY.2const: a source vector gives one word per page", () => {
    const { k, m, fd } = setup("anon", { mode: MODE_RWP | MODE_MISSING, populate: false })
    ok(k.uffdio_copy(fd, m.addr, Uint32Array.of(10, 11, 12), 0, 3 * PAGE, 0))
    expect([0, 1, 2].map((i) => readOk(k, VCPU0, m.at(i)))).toEqual([10, 11, 12])
  })
})
