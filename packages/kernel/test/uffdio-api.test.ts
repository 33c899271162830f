// UFFDIO_API: the order of checks, the context left behind by a failure, the second call, and what
// each machine offers (UFFDIO_API.2const of seed 002; rwp-semantics §2-§3, §17.1 A1-A8).
import type { Arch } from "@rwpsim/hw"
import { describe, expect, it } from "vitest"
import * as U from "../src/uapi.ts"
import { ctxOf, fails, MODE_RWP, map, newKernel, ok, PROTECT, RWP, RWP_ASYNC } from "./helpers.ts"

const API_IOCTLS_72 = 0x8000000000000403n // REGISTER | UNREGISTER | SET_MODE | API
const API_IOCTLS_71 = 0x8000000000000003n // REGISTER | UNREGISTER | API
const WP_BITS =
  U.UFFD_FEATURE_PAGEFAULT_FLAG_WP |
  U.UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
  U.UFFD_FEATURE_WP_UNPOPULATED |
  U.UFFD_FEATURE_WP_ASYNC

function freshFd(arch: Arch = "x86_64", isa: string[] = [], kernel: [number, number] = [7, 2]) {
  const k = newKernel({ arch, isa_extensions: isa, kernel })
  return { k, fd: ok(k.userfaultfd(U.O_NONBLOCK)).fd }
}

describe("UFFDIO_API: order of checks", () => {
  it("UFFDIO_API.2const ERRORS: EINVAL when api is not UFFD_API (0xAA), even with valid features (A6)", () => {
    const { k, fd } = freshFd()
    fails(k.uffdio_api(fd, 0xab, 0), "EINVAL")
    fails(k.uffdio_api(fd, 0xab, RWP), "EINVAL")
    // the bad api is checked before the features: an unsupported bit gives the same errno
    fails(k.uffdio_api(fd, 0, 1 << 30), "EINVAL")
    expect(ctxOf(k, fd).initialized).toBe(false)
  })

  it("UFFDIO_API.2const (seed 002): EINVAL when UFFD_FEATURE_RWP_ASYNC is asked without UFFD_FEATURE_RWP in the same call (A2)", () => {
    const { k, fd } = freshFd()
    fails(k.uffdio_api(fd, U.UFFD_API, RWP_ASYNC), "EINVAL")
    fails(k.uffdio_api(fd, U.UFFD_API, RWP_ASYNC | U.UFFD_FEATURE_SIGBUS), "EINVAL")
  })

  it("rwp-semantics §3 step 7: EINVAL for a feature bit the kernel does not offer (bit 19, bit 40)", () => {
    const { k, fd } = freshFd()
    fails(k.uffdio_api(fd, U.UFFD_API, 1 << 19), "EINVAL")
    fails(k.uffdio_api(fd, U.UFFD_API, 2 ** 40), "EINVAL")
  })

  it("rwp-semantics §3: EINVAL leaves the context zeroed and uninitialized, so a later UFFDIO_API with valid features succeeds (A2)", () => {
    const { k, fd } = freshFd()
    const r = k.uffdio_api(fd, U.UFFD_API, RWP_ASYNC)
    // the structure is returned zeroed: nothing but the errno comes back
    expect(r).toEqual({ ok: false, errno: "EINVAL" })
    const ctx = ctxOf(k, fd)
    expect(ctx.initialized).toBe(false)
    expect(ctx.features).toBe(0)
    // every other ioctl on an uninitialized ctx is EINVAL
    const m = map(k, "anon", 1)
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_RWP), "EINVAL")
    fails(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT), "EINVAL")
    fails(k.uffdio_set_mode(fd, 0, 0), "EINVAL")
    fails(k.uffdio_wake(fd, m.addr, m.len), "EINVAL")
    fails(k.uffdio_unregister(fd, m.addr, m.len), "EINVAL")
    expect(k.read_msg(fd)).toEqual({ ok: false, errno: "EINVAL" })
    // the failed call left nothing behind
    const again = ok(k.uffdio_api(fd, U.UFFD_API, RWP | RWP_ASYNC))
    expect(again.features & RWP).toBe(RWP)
    expect(ctx.initialized).toBe(true)
    expect(ctx.features).toBe(RWP | RWP_ASYNC)
  })

  it("rwp-semantics §3 step 10: a second UFFDIO_API on an initialized fd is EINVAL and keeps the first call's features (A5)", () => {
    const { k, fd } = freshFd()
    ok(k.uffdio_api(fd, U.UFFD_API, RWP))
    fails(k.uffdio_api(fd, U.UFFD_API, 0), "EINVAL")
    fails(k.uffdio_api(fd, U.UFFD_API, RWP | RWP_ASYNC), "EINVAL")
    const ctx = ctxOf(k, fd)
    expect(ctx.initialized).toBe(true)
    expect(ctx.features).toBe(RWP)
  })

  it("UFFDIO_API.2const: features out are every available feature, not only those asked for; the ctx stores only the asked ones (A1)", () => {
    const { k, fd } = freshFd()
    const r = ok(k.uffdio_api(fd, U.UFFD_API, 0))
    expect(r.features).toBe(0x7ffff) // bits 0..18: every feature up to RWP_ASYNC on x86_64 7.2
    expect(r.ioctls).toBe(API_IOCTLS_72)
    expect(ctxOf(k, fd).features).toBe(0)
  })

  it("UFFDIO_API.2const (seed 002): 1 << _UFFDIO_SET_MODE is an fd-level ioctl reported by UFFDIO_API", () => {
    const { k, fd } = freshFd()
    const r = ok(k.uffdio_api(fd, U.UFFD_API, RWP | RWP_ASYNC))
    expect(r.ioctls & (1n << BigInt(U._UFFDIO_SET_MODE))).not.toBe(0n)
    expect(r.ioctls & (1n << BigInt(U._UFFDIO_RWPROTECT))).toBe(0n) // a range ioctl, reported by REGISTER
  })

  it("rwp-semantics §3 step 4: WP_ASYNC implies WP_UNPOPULATED in the stored features", () => {
    const { k, fd } = freshFd()
    ok(k.uffdio_api(fd, U.UFFD_API, U.UFFD_FEATURE_WP_ASYNC))
    expect(ctxOf(k, fd).features).toBe(U.UFFD_FEATURE_WP_ASYNC | U.UFFD_FEATURE_WP_UNPOPULATED)
  })

  it("UFFDIO_API.2const: RWP | RWP_ASYNC together succeed (A3)", () => {
    const { k, fd } = freshFd()
    ok(k.uffdio_api(fd, U.UFFD_API, RWP | RWP_ASYNC))
    expect(ctxOf(k, fd).features).toBe(RWP | RWP_ASYNC)
  })

  it("scenario-format (every capability): EVENT_FORK needs CAP_SYS_PTRACE, which the simulated VMM has, so no EPERM (A7)", () => {
    const { k, fd } = freshFd()
    ok(k.uffdio_api(fd, U.UFFD_API, RWP | U.UFFD_FEATURE_EVENT_FORK))
  })

  it("userfaultfd.2 ERRORS: EINVAL for a flag outside O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY", () => {
    const k = newKernel()
    fails(k.userfaultfd(2), "EINVAL")
    fails(k.userfaultfd(U.O_NONBLOCK | 0x40), "EINVAL")
    const fd = ok(k.userfaultfd(U.O_CLOEXEC | U.O_NONBLOCK | U.UFFD_USER_MODE_ONLY)).fd
    expect(ctxOf(k, fd).user_mode_only).toBe(true)
  })

  it("ioctl(2): a UFFDIO_* request on a memfd is ENOTTY; on a closed fd EBADF", () => {
    const { k, fd } = freshFd()
    const mfd = ok(k.memfd_create("f", 4096)).fd
    fails(k.uffdio_api(mfd, U.UFFD_API, 0), "ENOTTY")
    ok(k.close(fd))
    fails(k.uffdio_api(fd, U.UFFD_API, 0), "EBADF")
  })
})

describe("UFFDIO_API: availability per machine (admin-guide of seed 001 'Feature availability'; rwp-semantics §2.3)", () => {
  // [arch, extensions, RWP offered, PAGEFAULT_FLAG_WP offered]
  const table: [Arch, string[], boolean, boolean][] = [
    ["x86_64", [], true, true],
    ["arm64", [], true, true],
    ["riscv64", ["svrsw60t59b"], true, true],
    ["riscv64", [], false, false],
    ["ppc64le", [], false, false],
    ["s390x", [], false, false],
    ["loongarch64", [], false, false],
    ["i386", [], false, false],
    ["armv7", [], false, false]
  ]

  it.each(table)(
    "seed 001 / rwp-semantics §2.3: %s %j offers UFFD_FEATURE_RWP and RWP_ASYNC = %s, PAGEFAULT_FLAG_WP = %s (A1, A4)",
    (arch, isa, rwp, wp) => {
      const { k, fd } = freshFd(arch, isa)
      const r = ok(k.uffdio_api(fd, U.UFFD_API, 0))
      expect((r.features & (RWP | RWP_ASYNC)) === (RWP | RWP_ASYNC)).toBe(rwp)
      expect(r.features & (RWP | RWP_ASYNC)).toBe(rwp ? RWP | RWP_ASYNC : 0)
      expect(r.features & WP_BITS).toBe(wp ? WP_BITS : 0)
      // the ioctl set is the kernel's constant: SET_MODE is there on every 7.2 kernel (rwp-semantics §6)
      expect(r.ioctls).toBe(API_IOCTLS_72)
    }
  )

  it.each(table.filter((t) => !t[2]))(
    "seed 001: where RWP is masked out (%s %j), api(RWP) fails EINVAL and leaves the fd uninitialized (A4)",
    (arch, isa) => {
      const { k, fd } = freshFd(arch, isa)
      fails(k.uffdio_api(fd, U.UFFD_API, RWP), "EINVAL")
      fails(k.uffdio_api(fd, U.UFFD_API, RWP | RWP_ASYNC), "EINVAL")
      expect(ctxOf(k, fd).initialized).toBe(false)
      ok(k.uffdio_api(fd, U.UFFD_API, 0))
    }
  )

  it("rwp-semantics §2.4: riscv64 without Svrsw60t59b refuses MODE_RWP and MODE_WP (EINVAL)", () => {
    const { k, fd } = freshFd("riscv64", [])
    ok(k.uffdio_api(fd, U.UFFD_API, 0))
    const m = map(k, "anon", 1)
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_RWP), "EINVAL")
    fails(k.uffdio_register(fd, m.addr, m.len, U.UFFDIO_REGISTER_MODE_WP), "EINVAL")
    ok(k.uffdio_register(fd, m.addr, m.len, U.UFFDIO_REGISTER_MODE_MISSING))
  })

  it("rwp-semantics §2.4: riscv64 with Svrsw60t59b registers MODE_RWP and protects (uffd bit 60 usable)", () => {
    const { k, fd } = freshFd("riscv64", ["svrsw60t59b"])
    ok(k.uffdio_api(fd, U.UFFD_API, RWP))
    const m = map(k, "anon", 1)
    ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP))
    expect(k.access(0, m.addr, true, 5, true)).toBe(U.ACCESS_DONE)
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(k.pagemap_read(m.addr).uffd).toBe(true)
    expect(k.access(0, m.addr, false, 0, true)).toBe(U.ACCESS_BLOCKED)
  })

  it("UFFDIO_API.2const HISTORY: Linux 7.1 has no RWP: no RWP bits, no SET_MODE ioctl, api(RWP) EINVAL", () => {
    const { k, fd } = freshFd("x86_64", [], [7, 1])
    const r = ok(k.uffdio_api(fd, U.UFFD_API, 0))
    expect(r.features & (RWP | RWP_ASYNC)).toBe(0)
    expect(r.features & U.UFFD_FEATURE_WP_ASYNC).toBe(U.UFFD_FEATURE_WP_ASYNC)
    expect(r.ioctls).toBe(API_IOCTLS_71)
    const fd2 = ok(k.userfaultfd(U.O_NONBLOCK)).fd
    fails(k.uffdio_api(fd2, U.UFFD_API, RWP), "EINVAL")
  })

  it("rwp-semantics §3 (unknown ioctl is EINVAL): on Linux 7.1 UFFDIO_RWPROTECT, UFFDIO_SET_MODE and MODE_RWP are EINVAL", () => {
    const { k, fd } = freshFd("x86_64", [], [7, 1])
    ok(k.uffdio_api(fd, U.UFFD_API, 0))
    const m = map(k, "anon", 1)
    fails(k.uffdio_register(fd, m.addr, m.len, MODE_RWP), "EINVAL")
    ok(k.uffdio_register(fd, m.addr, m.len, U.UFFDIO_REGISTER_MODE_MISSING))
    fails(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT), "EINVAL")
    fails(k.uffdio_set_mode(fd, 0, 0), "EINVAL")
    fails(k.uffdio_set_mode(fd, 0, RWP_ASYNC), "EINVAL")
  })

  it("mm/Kconfig (USERFAULTFD_RWP): x86_64 7.2 built without CONFIG_USERFAULTFD_RWP masks RWP out", () => {
    const k = newKernel({ config: { USERFAULTFD_RWP: false } })
    const fd = ok(k.userfaultfd(U.O_NONBLOCK)).fd
    const r = ok(k.uffdio_api(fd, U.UFFD_API, 0))
    expect(r.features & (RWP | RWP_ASYNC)).toBe(0)
    expect(r.features & U.UFFD_FEATURE_PAGEFAULT_FLAG_WP).toBe(U.UFFD_FEATURE_PAGEFAULT_FLAG_WP)
  })
})
