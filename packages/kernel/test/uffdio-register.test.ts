// UFFDIO_REGISTER with MODE_RWP: errnos in the kernel's order, the ioctl masks returned, mode changes
// (seed 003), what registration does to VMAs and PTEs (UFFDIO_REGISTER.2const of seed 002; seed 003;
// rwp-semantics §4 and §17.2 R1-R16).
import { describe, expect, it } from "vitest"
import { TASK_SIZE } from "../src/mm/mmap.ts"
import { VM_MAYWRITE, VM_UFFD_MISSING, VM_UFFD_RWP, VM_UFFD_WP } from "../src/mm/vma.ts"
import * as U from "../src/uapi.ts"
import {
  BACKINGS,
  ctxOf,
  fails,
  HPAGE,
  MODE_MINOR,
  MODE_MISSING,
  MODE_RWP,
  MODE_WP,
  map,
  newKernel,
  ok,
  PAGE,
  pteFlags,
  populate,
  RWP,
  uffd,
  vmaAt
} from "./helpers.ts"

const bit = (n: number) => 1n << BigInt(n)
const WAKE = bit(U._UFFDIO_WAKE)
const COPY = bit(U._UFFDIO_COPY)
const ZEROPAGE = bit(U._UFFDIO_ZEROPAGE)
const MOVE = bit(U._UFFDIO_MOVE)
const WRITEPROTECT = bit(U._UFFDIO_WRITEPROTECT)
const CONTINUE = bit(U._UFFDIO_CONTINUE)
const POISON = bit(U._UFFDIO_POISON)
const RWPROTECT = bit(U._UFFDIO_RWPROTECT)

describe("UFFDIO_REGISTER: returned ioctls (UFFDIO_REGISTER.2const of seed 002)", () => {
  const rows: [string, string, number, bigint][] = [
    ["anon", "RWP", MODE_RWP, 0x33cn],
    ["shmem", "RWP", MODE_RWP, 0x33cn],
    ["hugetlb", "RWP", MODE_RWP, 0x30cn],
    ["anon", "RWP|MISSING", MODE_RWP | MODE_MISSING, 0x33cn],
    ["shmem", "RWP|MISSING", MODE_RWP | MODE_MISSING, 0x33cn],
    ["hugetlb", "RWP|MISSING", MODE_RWP | MODE_MISSING, 0x30cn],
    ["shmem", "RWP|MINOR", MODE_RWP | MODE_MINOR, 0x33cn | CONTINUE],
    ["hugetlb", "RWP|MINOR", MODE_RWP | MODE_MINOR, 0x30cn | CONTINUE],
    ["anon", "MISSING", MODE_MISSING, 0x33cn & ~RWPROTECT],
    ["hugetlb", "MISSING", MODE_MISSING, 0x30cn & ~RWPROTECT]
  ]
  const table = rows.map(([b, name, mode, ioctls]) => [b, name, `0x${ioctls.toString(16)}`, mode, ioctls] as const)
  it.each(table)("UFFDIO_REGISTER.2const: %s with MODE_%s reports ioctls %s", (b, _name, _hex, mode, ioctls) => {
    const k = newKernel()
    const m = map(k, b as "anon", 2)
    const fd = uffd(k, RWP)
    const r = ok(k.uffdio_register(fd, m.addr, m.len, mode))
    expect(r.ioctls).toBe(ioctls)
    // 1 << _UFFDIO_RWPROTECT is reported only for MODE_RWP
    expect((r.ioctls & RWPROTECT) !== 0n).toBe((mode & MODE_RWP) !== 0)
    expect(r.ioctls & WRITEPROTECT).toBe(0n)
  })

  it("rwp-semantics §17.2 R1/R6: anon RWP = WAKE|COPY|ZEROPAGE|MOVE|POISON|RWPROTECT, hugetlb = WAKE|COPY|POISON|RWPROTECT", () => {
    expect(WAKE | COPY | ZEROPAGE | MOVE | POISON | RWPROTECT).toBe(0x33cn)
    expect(WAKE | COPY | POISON | RWPROTECT).toBe(0x30cn)
  })

  it("mm/userfaultfd.c (basic_ioctls): a range over an anon VMA and a hugetlb VMA reports the hugetlb set", () => {
    const k = newKernel()
    const h = map(k, "hugetlb", 1)
    map(k, "anon", 1, { addr: h.end })
    const fd = uffd(k, RWP)
    expect(ok(k.uffdio_register(fd, h.addr, h.len + PAGE, MODE_RWP)).ioctls).toBe(0x30cn)
  })

  it("mm/userfaultfd.c: MODE_WP reports WRITEPROTECT (and no RWPROTECT)", () => {
    const k = newKernel()
    const m = map(k, "anon", 1)
    const fd = uffd(k, U.UFFD_FEATURE_PAGEFAULT_FLAG_WP)
    const r = ok(k.uffdio_register(fd, m.addr, m.len, MODE_WP))
    expect(r.ioctls & WRITEPROTECT).toBe(WRITEPROTECT)
    expect(r.ioctls & RWPROTECT).toBe(0n)
  })
})

describe.each(BACKINGS)("UFFDIO_REGISTER [%s]", (b) => {
  it(`userfaultfd.2 (seed 002): registering does not change any PTE; the VMA gets VM_UFFD_RWP and the ctx (R1) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 2)
    populate(m)
    const before = [pteFlags(k, m.at(0)), pteFlags(k, m.at(1))]
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP | MODE_MISSING))
    expect([pteFlags(k, m.at(0)), pteFlags(k, m.at(1))]).toEqual(before)
    const v = vmaAt(k, m.addr)!
    expect(v.vm_flags & (VM_UFFD_RWP | VM_UFFD_MISSING)).toBe(VM_UFFD_RWP | VM_UFFD_MISSING)
    expect(v.uffd).toBe(ctxOf(k, fd))
    expect(k.pagemap_read(m.at(0)).uffd).toBe(false)
  })

  it(`UFFDIO_REGISTER.2const (seed 002): MODE_RWP needs UFFD_FEATURE_RWP negotiated, else EINVAL (R2) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const fd = uffd(k, 0)
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_RWP), "EINVAL")
    expect(vmaAt(k, m.addr)!.uffd).toBe(null)
  })

  it(`userfaultfd.2 / seed 003: MODE_WP | MODE_RWP is EINVAL (they share the uffd PTE bit) (R3) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const fd = uffd(k, RWP | U.UFFD_FEATURE_PAGEFAULT_FLAG_WP | U.UFFD_FEATURE_WP_HUGETLBFS_SHMEM)
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_WP | MODE_RWP), "EINVAL")
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_WP | MODE_RWP | MODE_MISSING), "EINVAL")
    expect(vmaAt(k, m.addr)!.vm_flags & (VM_UFFD_RWP | VM_UFFD_WP)).toBe(0)
  })

  it(`rwp-semantics §4 (RWPv9+): MODE_RWP on a PROT_NONE VMA is EINVAL (R4) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1, { prot: U.PROT_NONE })
    const fd = uffd(k, RWP)
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_RWP), "EINVAL")
    // MISSING alone is allowed there
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_MISSING))
  })

  it(`rwp-semantics §4 (RWPv9 changelog): a registered VMA later mprotect(PROT_NONE)ed can still be unregistered (R5) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP))
    ok(k.mprotect(m.addr, m.len, U.PROT_NONE))
    ok(k.uffdio_unregister(fd, m.addr, m.len))
    expect(vmaAt(k, m.addr)!.uffd).toBe(null)
  })

  it(`seed 003: re-registering with MODE_WP over an RWP range drops RWP: EBUSY, registration unchanged (R7) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const fd = uffd(k, RWP | U.UFFD_FEATURE_PAGEFAULT_FLAG_WP | U.UFFD_FEATURE_WP_HUGETLBFS_SHMEM)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP))
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_WP), "EBUSY")
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_MISSING), "EBUSY")
    expect(vmaAt(k, m.addr)!.vm_flags & (VM_UFFD_RWP | VM_UFFD_WP | VM_UFFD_MISSING)).toBe(VM_UFFD_RWP)
  })

  it(`seed 003: re-registering over a WP range with MODE_RWP drops WP: EBUSY (R10) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const fd = uffd(k, RWP | U.UFFD_FEATURE_PAGEFAULT_FLAG_WP | U.UFFD_FEATURE_WP_HUGETLBFS_SHMEM)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_WP))
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_RWP), "EBUSY")
    expect(vmaAt(k, m.addr)!.vm_flags & (VM_UFFD_RWP | VM_UFFD_WP)).toBe(VM_UFFD_WP)
  })

  it(`rwp-semantics §4 step 11: dropping MISSING keeps RWP (R8), adding MISSING is allowed (R9) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP | MODE_MISSING))
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP))
    expect(vmaAt(k, m.addr)!.vm_flags & (VM_UFFD_RWP | VM_UFFD_MISSING)).toBe(VM_UFFD_RWP)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP | MODE_MISSING))
    expect(vmaAt(k, m.addr)!.vm_flags & (VM_UFFD_RWP | VM_UFFD_MISSING)).toBe(VM_UFFD_RWP | VM_UFFD_MISSING)
  })

  it(`mm/userfaultfd.c: a range owned by another userfaultfd is EBUSY (R11) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const a = uffd(k, RWP)
    const other = uffd(k, RWP)
    ok(k.uffdio_register(a, m.addr, m.len, MODE_MISSING))
    fails(k.uffdio_register(other, m.addr, m.len, MODE_RWP), "EBUSY")
    expect(vmaAt(k, m.addr)!.uffd).toBe(ctxOf(k, a))
  })

  it(`UFFDIO_REGISTER.2const ERRORS: EPERM when the VMA lacks VM_MAYWRITE (a read-only shared fd), checked before EBUSY (R12a) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const a = uffd(k, RWP)
    const other = uffd(k, RWP)
    ok(k.uffdio_register(a, m.addr, m.len, MODE_MISSING))
    // the model's mmap always grants VM_MAYWRITE: take it away as a read-only open would
    vmaAt(k, m.addr)!.vm_flags &= ~VM_MAYWRITE
    fails(k.uffdio_register(other, m.addr, m.len, MODE_RWP), "EPERM")
  })

  it(`UFFDIO_REGISTER.2const ERRORS: a hole between two VMAs is allowed and both VMAs are registered (R13) [${b}]`, () => {
    const k = newKernel()
    const m1 = map(k, b, 1)
    const m2 = map(k, b, 1)
    expect(m2.addr).toBeGreaterThan(m1.end) // mmap leaves a gap
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, m1.addr, m2.end - m1.addr, MODE_RWP))
    expect(vmaAt(k, m1.addr)!.vm_flags & VM_UFFD_RWP).toBe(VM_UFFD_RWP)
    expect(vmaAt(k, m2.addr)!.vm_flags & VM_UFFD_RWP).toBe(VM_UFFD_RWP)
  })

  it(`UFFDIO_REGISTER.2const ERRORS: EINVAL when no VMA is in the range (R14) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const fd = uffd(k, RWP)
    fails(k.uffdio_register(fd, m.end + HPAGE, m.pb, MODE_RWP), "EINVAL")
  })

  it(`UFFDIO_REGISTER.2const ERRORS: EINVAL for an unaligned start or len, len 0, or a range past TASK_SIZE (R15) [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 2)
    const fd = uffd(k, RWP)
    fails(k.uffdio_register(fd, m.addr + 1, m.pb, MODE_RWP), "EINVAL")
    fails(k.uffdio_register(fd, m.addr, m.pb + 1, MODE_RWP), "EINVAL")
    fails(k.uffdio_register(fd, m.addr, 0, MODE_RWP), "EINVAL")
    fails(k.uffdio_register(fd, TASK_SIZE, PAGE, MODE_RWP), "EINVAL")
    fails(k.uffdio_register(fd, m.addr, TASK_SIZE, MODE_RWP), "EINVAL")
    expect(vmaAt(k, m.addr)!.uffd).toBe(null)
  })

  it(`UFFDIO_REGISTER.2const ERRORS: EINVAL for mode 0 or a mode bit outside MISSING|WP|MINOR|RWP [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 1)
    const fd = uffd(k, RWP)
    fails(k.uffdio_register(fd, m.addr, m.len, 0), "EINVAL")
    fails(k.uffdio_register(fd, m.addr, m.len, 1 << 4), "EINVAL")
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_RWP | (1 << 4)), "EINVAL")
  })

  it(`rwp-semantics §4 step 11: registering part of a VMA splits it; only that part is registered [${b}]`, () => {
    const k = newKernel()
    const m = map(k, b, 3)
    const fd = uffd(k, RWP)
    ok(k.uffdio_register(fd, m.at(1), m.pb, MODE_RWP))
    expect(vmaAt(k, m.at(0))!.uffd).toBe(null)
    const v = vmaAt(k, m.at(1))!
    expect([v.start, v.end]).toEqual([m.at(1), m.at(2)])
    expect(v.vm_flags & VM_UFFD_RWP).toBe(VM_UFFD_RWP)
    expect(vmaAt(k, m.at(2))!.uffd).toBe(null)
  })
})

describe("UFFDIO_REGISTER: backing-specific errnos", () => {
  it("UFFDIO_REGISTER.2const ERRORS: hugetlb start not huge-page aligned is EINVAL", () => {
    const k = newKernel()
    const m = map(k, "hugetlb", 2)
    const fd = uffd(k, RWP)
    fails(k.uffdio_register(fd, m.addr + PAGE, HPAGE, MODE_RWP), "EINVAL")
  })

  it("UFFDIO_REGISTER.2const ERRORS: hugetlb end not huge-page aligned (len = 2 MiB + 4 KiB) is EINVAL (R16)", () => {
    const k = newKernel()
    const m = map(k, "hugetlb", 2)
    const fd = uffd(k, RWP)
    fails(k.uffdio_register(fd, m.addr, HPAGE + PAGE, MODE_RWP), "EINVAL")
    expect(vmaAt(k, m.addr)!.uffd).toBe(null)
  })

  it("userfaultfd.2: MODE_MINOR on anonymous memory is EINVAL (minor mode is shmem and hugetlbfs only)", () => {
    const k = newKernel()
    const m = map(k, "anon", 1)
    const fd = uffd(k, RWP)
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_RWP | MODE_MINOR), "EINVAL")
  })

  it("rwp-semantics §4 step 10: the PROT_NONE check comes before the VM_MAYWRITE check (EINVAL, not EPERM)", () => {
    const k = newKernel()
    const m = map(k, "anon", 1, { prot: U.PROT_NONE })
    vmaAt(k, m.addr)!.vm_flags &= ~VM_MAYWRITE
    const fd = uffd(k, RWP)
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_RWP), "EINVAL")
  })

  it("rwp-semantics §4: a ctx may hold WP-registered and RWP-registered VMAs at once (exclusion is per VMA)", () => {
    const k = newKernel()
    const a = map(k, "anon", 1)
    const c = map(k, "anon", 1)
    const fd = uffd(k, RWP | U.UFFD_FEATURE_PAGEFAULT_FLAG_WP)
    ok(k.uffdio_register(fd, a.addr, a.len, MODE_WP))
    ok(k.uffdio_register(fd, c.addr, c.len, MODE_RWP))
    expect(vmaAt(k, a.addr)!.vm_flags & (VM_UFFD_WP | VM_UFFD_RWP)).toBe(VM_UFFD_WP)
    expect(vmaAt(k, c.addr)!.vm_flags & (VM_UFFD_WP | VM_UFFD_RWP)).toBe(VM_UFFD_RWP)
  })

  it("rwp-semantics §4: a range over an RWP VMA and an unregistered VMA with MODE_WP fails EBUSY and registers nothing", () => {
    const k = newKernel()
    const a = map(k, "anon", 1)
    const c = map(k, "anon", 1)
    const fd = uffd(k, RWP | U.UFFD_FEATURE_PAGEFAULT_FLAG_WP)
    ok(k.uffdio_register(fd, c.addr, c.len, MODE_RWP))
    fails(k.uffdio_register(fd, a.addr, c.end - a.addr, MODE_WP), "EBUSY")
    expect(vmaAt(k, a.addr)!.uffd).toBe(null)
  })
})
