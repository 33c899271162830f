// Faults on RWP-protected pages: sync messages and blocking, async in-kernel resolution, the SIGBUS
// feature, UFFD_USER_MODE_ONLY, PROT_NONE VMAs (userfaultfd.2 of seed 002; the admin guide of seed 001
// "Fault Handling"; rwp-semantics §8 and §17.4 F1-F22).
import { describe, expect, it } from "vitest"
import { F_PROTNONE, F_UFFD, F_WRITE, F_YOUNG } from "../src/mm/pgtable.ts"
import * as U from "../src/uapi.ts"
import {
  BACKINGS,
  categoriesOf,
  contents,
  ctxOf,
  isRwpProtected,
  fails,
  MODE_MISSING,
  MODE_RWP,
  map,
  newKernel,
  nextMsg,
  noMsg,
  ok,
  PROTECT,
  pteFlags,
  populate,
  RESOLVE,
  RWP,
  RWP_ASYNC,
  read,
  readOk,
  setup,
  uffd,
  VCPU0,
  VCPU1,
  VMM,
  write
} from "./helpers.ts"

const { ACCESS_BLOCKED, ACCESS_DONE, ACCESS_SIGBUS, ACCESS_SIGSEGV, PAGE_IS_ACCESSED } = U
const FLAG_RWP = U.UFFD_PAGEFAULT_FLAG_RWP
const FLAG_WRITE = U.UFFD_PAGEFAULT_FLAG_WRITE

describe.each(BACKINGS)("RWP faults, sync mode [%s]", (b) => {
  it(`userfaultfd.2 (seed 002): a read of a protected page blocks and queues one message: event 0x12, flags 0x8 (UFFD_PAGEFAULT_FLAG_RWP), page-aligned address (F1) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    const queued = k.stats.messages_queued
    expect(read(k, VCPU0, m.at(1) + 0x123).code).toBe(ACCESS_BLOCKED)
    expect(k.stats.messages_queued).toBe(queued + 1)
    expect(k.stats.rwp_faults_sync).toBe(1)
    const msg = nextMsg(k, fd)
    expect(msg).toEqual({ event: U.UFFD_EVENT_PAGEFAULT, flags: 0x8, address: m.at(1) })
    noMsg(k, fd)
    expect(k.blocked_addr).toBe(m.at(1))
  })

  it(`userfaultfd.2 (seed 002): a write fault carries UFFD_PAGEFAULT_FLAG_RWP | UFFD_PAGEFAULT_FLAG_WRITE = 0x9 (F2) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(write(k, VCPU0, m.at(0), 77)).toBe(ACCESS_BLOCKED)
    const msg = nextMsg(k, fd)
    expect(msg.flags).toBe(FLAG_RWP | FLAG_WRITE)
    expect(msg.flags & (U.UFFD_PAGEFAULT_FLAG_WP | U.UFFD_PAGEFAULT_FLAG_MINOR)).toBe(0)
  })

  it(`userfaultfd.2 (seed 002): resolving with UFFDIO_RWPROTECT(!MODE_RWP) wakes the thread; the retried access sees the original data (F3) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU0, m.at(2)).code).toBe(ACCESS_BLOCKED)
    nextMsg(k, fd)
    k.drain_woken()
    ok(k.uffdio_rwprotect(fd, m.at(2), m.pb, RESOLVE))
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(readOk(k, VCPU0, m.at(2))).toBe(3)
    expect(k.pagemap_read(m.at(2)).uffd).toBe(false)
    // a blocked write retried after the resolve lands
    expect(write(k, VCPU1, m.at(3), 40)).toBe(ACCESS_BLOCKED)
    ok(k.uffdio_rwprotect(fd, m.at(3), m.pb, RESOLVE))
    expect(write(k, VCPU1, m.at(3), 40)).toBe(ACCESS_DONE)
    expect(readOk(k, VMM, m.at(3))).toBe(40)
  })

  it(`rwp-semantics §8.3 step 5: UFFDIO_WAKE without resolving lets the thread retry, fault again and queue a second message (F5) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).address).toBe(m.at(0))
    ok(k.uffdio_wake(fd, m.at(0), m.pb))
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd)).toEqual({ event: U.UFFD_EVENT_PAGEFAULT, flags: FLAG_RWP, address: m.at(0) })
    expect(k.stats.rwp_faults_sync).toBe(2)
  })

  it(`rwp-semantics §8.3 step 6: two threads faulting queue one message each, FIFO [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU1, m.at(3)).code).toBe(ACCESS_BLOCKED)
    expect(write(k, VCPU0, m.at(1), 5)).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd)).toMatchObject({ flags: FLAG_RWP, address: m.at(3) })
    expect(nextMsg(k, fd)).toMatchObject({ flags: FLAG_RWP | FLAG_WRITE, address: m.at(1) })
    noMsg(k, fd)
    expect(k.uffd_has_messages(fd)).toBe(false)
  })

  it(`rwp-semantics §8.3 step 1: UFFD_FEATURE_SIGBUS turns the sync fault into SIGBUS with no message (F11) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, features: RWP | U.UFFD_FEATURE_SIGBUS })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_SIGBUS)
    expect(write(k, VCPU0, m.at(0), 1)).toBe(ACCESS_SIGBUS)
    noMsg(k, fd)
    expect(k.blockedOn(VCPU0)).toBe(null)
    expect(isRwpProtected(k, m.at(0))).toBe(true)
  })

  it(`rwp-semantics §8.4: UFFD_FEATURE_SIGBUS does not matter in async mode: the access succeeds (F12) [${b}]`, () => {
    const { k, m } = setup(b, { protect: true, features: RWP | RWP_ASYNC | U.UFFD_FEATURE_SIGBUS })
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
  })

  it(`rwp-semantics §8.3 step 1: with UFFD_USER_MODE_ONLY a kernel-mode access to a protected page fails (SIGBUS -> EFAULT), a user access blocks (F13) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, uffd_flags: U.UFFD_USER_MODE_ONLY })
    expect(ctxOf(k, fd).user_mode_only).toBe(true)
    expect(read(k, VMM, m.at(0), false).code).toBe(ACCESS_SIGBUS)
    noMsg(k, fd)
    expect(read(k, VCPU0, m.at(0), true).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).flags).toBe(FLAG_RWP)
  })

  it(`rwp-semantics §8.5: without UFFD_USER_MODE_ONLY a kernel-mode access (GUP, copy_from_user) blocks like a user fault [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VMM, m.at(0), false).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).flags).toBe(FLAG_RWP)
  })

  it(`rwp-semantics §8.2: after mprotect(PROT_NONE) a protected page gives SIGSEGV, not an RWP fault (F15) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    ok(k.mprotect(m.addr, m.len, U.PROT_NONE))
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_SIGSEGV)
    expect(write(k, VCPU0, m.at(0), 1)).toBe(ACCESS_SIGSEGV)
    noMsg(k, fd)
    expect(k.stats.rwp_faults_sync).toBe(0)
    expect(k.pagemap_read(m.at(0)).uffd).toBe(true)
  })

  it(`rwp-semantics §17.4 F21: UFFD_FEATURE_THREAD_ID reports the faulting task in ptid [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, features: RWP | U.UFFD_FEATURE_THREAD_ID })
    expect(read(k, VCPU1, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).ptid).toBe(VCPU1)
  })

  it(`rwp-semantics §17.4 F22: UFFD_FEATURE_EXACT_ADDRESS reports the exact fault address; wakes still match the page [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, features: RWP | U.UFFD_FEATURE_EXACT_ADDRESS })
    expect(read(k, VCPU0, m.at(1) + 0x123).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).address).toBe(m.at(1) + 0x123)
    ok(k.uffdio_rwprotect(fd, m.at(1), m.pb, RESOLVE))
    expect(k.drain_woken()).toEqual([VCPU0])
  })
})

describe.each(BACKINGS)("RWP faults, async mode [%s]", (b) => {
  it(`userfaultfd.2 (seed 002): with UFFD_FEATURE_RWP_ASYNC every access completes, no message, contents intact, bit 57 cleared, ACCESSED (F10) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, features: RWP | RWP_ASYNC })
    expect(contents(m, VCPU0)).toEqual([1, 2, 3, 4])
    noMsg(k, fd)
    expect(k.stats.rwp_faults_async).toBe(m.pages)
    expect(k.stats.rwp_faults_sync).toBe(0)
    for (let i = 0; i < m.pages; i++) {
      expect(k.pagemap_read(m.at(i)).uffd).toBe(false)
      expect(categoriesOf(k, m.at(i)) & PAGE_IS_ACCESSED).toBe(PAGE_IS_ACCESSED)
    }
  })

  it(`rwp-semantics §8.4 (RWPv10-12): async resolution restores vm_page_prot, clears the uffd bit and sets young [${b}]`, () => {
    const { k, m } = setup(b, { protect: true, features: RWP | RWP_ASYNC })
    // clear young by hand so the fault is what sets it
    const s = k.mm.slot
    k.mm.pt.lookup(m.at(0), k.mm.level(k.mm.vmas.lookup(m.at(0))!), false, s)
    s.t.flags[s.i] = s.t.flags[s.i]! & ~F_YOUNG
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    const f = pteFlags(k, m.at(0))
    expect(f & (F_PROTNONE | F_UFFD)).toBe(0)
    expect(f & F_YOUNG).toBe(F_YOUNG)
    expect(k.access_flags & U.ACCESS_F_RWP_ASYNC).toBe(U.ACCESS_F_RWP_ASYNC)
  })

  it(`rwp-semantics §8.4: an async write completes and its value is kept (F20 for hugetlb) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, features: RWP | RWP_ASYNC })
    expect(write(k, VCPU0, m.at(2), 99)).toBe(ACCESS_DONE)
    expect(readOk(k, VCPU1, m.at(2))).toBe(99)
    noMsg(k, fd)
    expect(k.pagemap_read(m.at(2)).uffd).toBe(false)
  })

  it(`rwp-semantics §8.4: MISSING faults are not affected by RWP_ASYNC: an unpopulated page still queues a MISSING message (F17) [${b}]`, () => {
    const { k, m, fd } = setup(b, { populate: false, features: RWP | RWP_ASYNC, mode: MODE_RWP | MODE_MISSING })
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd)).toEqual({ event: U.UFFD_EVENT_PAGEFAULT, flags: 0, address: m.at(0) })
  })

  it(`rwp-semantics §8.2 / rwp-mprotect selftest: mprotect(NONE) then mprotect(RW) keeps bit 57; an async read then succeeds and clears it (F16) [${b}]`, () => {
    const { k, m } = setup(b, { protect: true, features: RWP | RWP_ASYNC })
    ok(k.mprotect(m.addr, m.len, U.PROT_NONE))
    ok(k.mprotect(m.addr, m.len, U.PROT_READ | U.PROT_WRITE))
    expect(k.pagemap_read(m.at(0)).uffd).toBe(true)
    expect(isRwpProtected(k, m.at(0))).toBe(true)
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
  })

  it(`rwp-semantics §17.6 L11: after mprotect(PROT_READ) an async read resolves, a write is SIGSEGV (VMA read-only) [${b}]`, () => {
    const { k, m } = setup(b, { protect: true, features: RWP | RWP_ASYNC })
    ok(k.mprotect(m.addr, m.len, U.PROT_READ))
    expect(isRwpProtected(k, m.at(0))).toBe(true)
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    expect(pteFlags(k, m.at(0)) & F_WRITE).toBe(0)
    expect(write(k, VCPU0, m.at(0), 2)).toBe(ACCESS_SIGSEGV)
  })
})

describe("RWP faults: other mappings", () => {
  it("rwp-semantics §8.4 (F20): async resolution of a private hugetlb page never upgrades write; the write still succeeds (the COW fault is hidden)", () => {
    const k = newKernel()
    const m = map(k, "hugetlb", 2, { private: true })
    populate(m)
    const fd = uffd(k, RWP | RWP_ASYNC)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP))
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    expect(pteFlags(k, m.at(0)) & F_WRITE).toBe(0)
    expect(write(k, VCPU0, m.at(1), 31)).toBe(ACCESS_DONE)
    expect(readOk(k, VCPU1, m.at(1))).toBe(31)
    noMsg(k, fd)
  })

  it("userfaultfd.2: with 64 KiB pages (arm64) the fault address and the protection unit are 64 KiB pages", () => {
    const k = newKernel({ arch: "arm64", page_size: 64 * 1024 })
    const P = 64 * 1024
    const m = ok(k.mmap(0, 4 * P, U.PROT_READ | U.PROT_WRITE, U.MAP_PRIVATE | U.MAP_ANONYMOUS, -1, 0))
    for (let i = 0; i < 4; i++) expect(k.access(VMM, m.addr + i * P, true, i + 1, true)).toBe(ACCESS_DONE)
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, m.addr, 4 * P, MODE_RWP))
    fails(k.uffdio_rwprotect(fd, m.addr, 4096, PROTECT), "EINVAL")
    ok(k.uffdio_rwprotect(fd, m.addr + P, P, PROTECT))
    expect(read(k, VCPU0, m.addr + P + 0x1234).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).address).toBe(m.addr + P)
    expect(readOk(k, VCPU1, m.addr + 2 * P)).toBe(3)
    expect(k.pagemap_read(m.addr + P + 0x8000).uffd).toBe(true)
  })

  it("userfaultfd.2 (read(2)): EAGAIN on an empty O_NONBLOCK userfaultfd, blocks on a blocking one, EINVAL before UFFDIO_API; poll sees a queued fault", () => {
    const k = newKernel()
    const raw = ok(k.userfaultfd(U.O_NONBLOCK)).fd
    expect(k.read_msg(raw)).toEqual({ ok: false, errno: "EINVAL" })
    const blocking = ok(k.userfaultfd(0)).fd
    ok(k.uffdio_api(blocking, U.UFFD_API, RWP))
    expect(k.read_msg(blocking)).toEqual({ ok: false, blocked: true })
    const m = map(k, "anon", 1)
    populate(m)
    ok(k.uffdio_register(blocking, m.addr, m.len, MODE_RWP))
    ok(k.uffdio_rwprotect(blocking, m.addr, m.len, PROTECT))
    expect(k.uffd_has_messages(blocking)).toBe(false)
    expect(read(k, VCPU0, m.addr).code).toBe(ACCESS_BLOCKED)
    expect(k.uffd_has_messages(blocking)).toBe(true)
    expect(nextMsg(k, blocking).flags).toBe(FLAG_RWP)
    expect(k.uffd_has_messages(blocking)).toBe(false)
  })

  it("rwp-semantics §9 (RWPv10-15 workflow): a write through a second, unregistered mapping of the shmem file (io_mem) does not fault and leaves guest_mem protected", () => {
    const k = newKernel()
    const guest = map(k, "shmem", 2)
    const io = map(k, "shmem", 2, { fd: guest.fd })
    populate(guest)
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, guest.addr, guest.len, MODE_RWP))
    ok(k.uffdio_rwprotect(fd, guest.addr, guest.len, PROTECT))
    expect(readOk(k, VMM, io.at(0))).toBe(1)
    expect(write(k, VMM, io.at(1), 50)).toBe(ACCESS_DONE)
    noMsg(k, fd)
    expect(isRwpProtected(k, guest.at(0))).toBe(true)
    expect(isRwpProtected(k, guest.at(1))).toBe(true)
    ok(k.uffdio_rwprotect(fd, guest.at(1), guest.pb, RESOLVE))
    expect(readOk(k, VCPU0, guest.at(1))).toBe(50)
  })

  it("rwp-semantics §8.2: a PROT_NONE VMA without uffd gives SIGSEGV on any access", () => {
    const k = newKernel()
    const m = map(k, "anon", 1, { prot: U.PROT_NONE })
    expect(read(k, VCPU0, m.addr).code).toBe(ACCESS_SIGSEGV)
  })

  it("rwp-semantics §8.3: the RWP fault path is taken only in VM_UFFD_RWP VMAs: protnone elsewhere is a NUMA hint fixed up in the kernel", () => {
    const k = newKernel()
    const m = map(k, "anon", 1)
    populate(m)
    const s = k.mm.slot
    k.mm.pt.lookup(m.addr, 0, false, s)
    s.t.flags[s.i] = (s.t.flags[s.i]! | F_PROTNONE | F_UFFD) & ~F_WRITE
    expect(readOk(k, VCPU0, m.addr)).toBe(1)
    expect(k.stats.rwp_faults_sync + k.stats.rwp_faults_async).toBe(0)
  })
})
