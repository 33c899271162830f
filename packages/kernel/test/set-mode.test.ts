// UFFDIO_SET_MODE: the only toggleable bit is UFFD_FEATURE_RWP_ASYNC; enabling it wakes every waiter
// (UFFDIO_SET_MODE.2const of seed 002; admin guide of seed 001 "Runtime Mode Switching";
// rwp-semantics §6 and §17.5 S1-S9).
import { describe, expect, it } from "vitest"
import * as U from "../src/uapi.ts"
import {
  BACKINGS,
  ctxOf,
  fails,
  isRwpProtected,
  MODE_RWP,
  map,
  newKernel,
  nextMsg,
  noMsg,
  ok,
  PROTECT,
  RWP,
  RWP_ASYNC,
  read,
  readOk,
  setup,
  uffd,
  VCPU0,
  VCPU1,
  write
} from "./helpers.ts"

const { ACCESS_BLOCKED, ACCESS_DONE } = U

describe("UFFDIO_SET_MODE: errnos", () => {
  it("UFFDIO_SET_MODE.2const ERRORS: EINVAL when enable and disable overlap (S1)", () => {
    const k = newKernel()
    const fd = uffd(k, RWP)
    fails(k.uffdio_set_mode(fd, RWP_ASYNC, RWP_ASYNC), "EINVAL")
    expect(ctxOf(k, fd).features).toBe(RWP)
  })

  it("UFFDIO_SET_MODE.2const ERRORS: EINVAL for any bit other than UFFD_FEATURE_RWP_ASYNC, in enable or disable (S2)", () => {
    const k = newKernel()
    const fd = uffd(k, RWP | RWP_ASYNC)
    for (const bit of [U.UFFD_FEATURE_WP_ASYNC, RWP, U.UFFD_FEATURE_SIGBUS, 1 << 19, 2 ** 33]) {
      fails(k.uffdio_set_mode(fd, bit, 0), "EINVAL")
      fails(k.uffdio_set_mode(fd, 0, bit), "EINVAL")
      fails(k.uffdio_set_mode(fd, bit + RWP_ASYNC, 0), "EINVAL") // + keeps bits above 31
    }
    expect(ctxOf(k, fd).features).toBe(RWP | RWP_ASYNC)
  })

  it("UFFDIO_SET_MODE.2const ERRORS: EINVAL when enabling RWP_ASYNC without UFFD_FEATURE_RWP negotiated (S3)", () => {
    const k = newKernel()
    const fd = uffd(k, 0)
    fails(k.uffdio_set_mode(fd, RWP_ASYNC, 0), "EINVAL")
    expect(ctxOf(k, fd).features).toBe(0)
  })

  it("rwp-semantics §6 step 4 [I]: disabling RWP_ASYNC on a ctx without RWP is accepted as a no-op (S4); enable = disable = 0 succeeds (S5)", () => {
    const k = newKernel()
    const fd = uffd(k, 0)
    ok(k.uffdio_set_mode(fd, 0, RWP_ASYNC))
    ok(k.uffdio_set_mode(fd, 0, 0))
    expect(ctxOf(k, fd).features).toBe(0)
  })

  it("rwp-semantics §6 step 3: on an arch where RWP is masked out (ppc64le, riscv64 without Svrsw60t59b) RWP_ASYNC is not toggleable: EINVAL (S6)", () => {
    for (const [arch, isa] of [
      ["ppc64le", []],
      ["riscv64", []],
      ["i386", []]
    ] as const) {
      const k = newKernel({ arch, isa_extensions: [...isa] })
      const fd = uffd(k, 0)
      fails(k.uffdio_set_mode(fd, 0, RWP_ASYNC), "EINVAL")
      fails(k.uffdio_set_mode(fd, RWP_ASYNC, 0), "EINVAL")
      ok(k.uffdio_set_mode(fd, 0, 0))
    }
  })

  it("rwp-semantics §3: UFFDIO_SET_MODE on an uninitialized userfaultfd is EINVAL", () => {
    const k = newKernel()
    const fd = ok(k.userfaultfd(U.O_NONBLOCK)).fd
    fails(k.uffdio_set_mode(fd, 0, 0), "EINVAL")
  })

  it("rwp-semantics §6 [I]: enabling when enabled and disabling when disabled are idempotent", () => {
    const k = newKernel()
    const fd = uffd(k, RWP)
    ok(k.uffdio_set_mode(fd, 0, RWP_ASYNC))
    expect(ctxOf(k, fd).features).toBe(RWP)
    ok(k.uffdio_set_mode(fd, RWP_ASYNC, 0))
    ok(k.uffdio_set_mode(fd, RWP_ASYNC, 0))
    expect(ctxOf(k, fd).features).toBe(RWP | RWP_ASYNC)
  })
})

describe.each(BACKINGS)("UFFDIO_SET_MODE: behaviour [%s]", (b) => {
  it(`UFFDIO_SET_MODE.2const: after disabling RWP_ASYNC a protected page faults synchronously (S8) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, features: RWP | RWP_ASYNC })
    ok(k.uffdio_set_mode(fd, 0, RWP_ASYNC))
    expect(ctxOf(k, fd).features & RWP_ASYNC).toBe(0)
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(nextMsg(k, fd).flags).toBe(U.UFFD_PAGEFAULT_FLAG_RWP)
  })

  it(`UFFDIO_SET_MODE.2const: enabling it again makes the next protected access resolve in place with no message (S9) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true, features: RWP })
    ok(k.uffdio_set_mode(fd, RWP_ASYNC, 0))
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    expect(write(k, VCPU0, m.at(1), 8)).toBe(ACCESS_DONE)
    noMsg(k, fd)
    ok(k.uffdio_set_mode(fd, 0, RWP_ASYNC))
    ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
    expect(read(k, VCPU0, m.at(1)).code).toBe(ACCESS_BLOCKED)
  })

  it(`rwp-semantics §6 step 7: enabling RWP_ASYNC wakes every waiter of the ctx, read or not; they retry and resolve with no new message (F6) [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(read(k, VCPU1, m.at(3)).code).toBe(ACCESS_BLOCKED)
    nextMsg(k, fd) // VCPU0's message was read; VCPU1's is still pending
    k.drain_woken()
    ok(k.uffdio_set_mode(fd, RWP_ASYNC, 0))
    expect(k.drain_woken().sort()).toEqual([VCPU0, VCPU1])
    // a woken waiter's message is gone with it
    noMsg(k, fd)
    expect(readOk(k, VCPU0, m.at(0))).toBe(1)
    expect(readOk(k, VCPU1, m.at(3))).toBe(4)
    noMsg(k, fd)
    expect(isRwpProtected(k, m.at(0))).toBe(false)
    expect(k.pagemap_read(m.at(3)).uffd).toBe(false)
  })

  it(`rwp-semantics §6 step 7: disabling RWP_ASYNC wakes nobody [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    k.drain_woken()
    ok(k.uffdio_set_mode(fd, 0, RWP_ASYNC))
    expect(k.drain_woken()).toEqual([])
    expect(k.blockedOn(VCPU0)).not.toBe(null)
  })

  it(`rwp-semantics §6 step 7: enabling RWP_ASYNC on one userfaultfd does not wake another's waiters [${b}]`, () => {
    const { k, m, fd } = setup(b, { protect: true })
    const other = map(k, b, 1)
    const fd2 = uffd(k, RWP)
    expect(k.access(VCPU1, other.addr, true, 3, true)).toBe(ACCESS_DONE)
    ok(k.uffdio_register(fd2, other.addr, other.len, MODE_RWP))
    ok(k.uffdio_rwprotect(fd2, other.addr, other.len, PROTECT))
    expect(read(k, VCPU0, m.at(0)).code).toBe(ACCESS_BLOCKED)
    expect(read(k, VCPU1, other.addr).code).toBe(ACCESS_BLOCKED)
    k.drain_woken()
    ok(k.uffdio_set_mode(fd, RWP_ASYNC, 0))
    expect(k.drain_woken()).toEqual([VCPU0])
    expect(k.blockedOn(VCPU1)).not.toBe(null)
  })
})
