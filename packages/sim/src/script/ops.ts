// One handler per step op. Each calls the kernel entry point the op is named after, then checks the
// step's expectation; a mismatch throws StepFailed, which ends the step (and the script).
import * as K from "@rwpsim/kernel"
import type { OpName, StepOf } from "@rwpsim/scenario"
import { checkEqual, checkErrno } from "./check.ts"
import { bits, group, names } from "./constants.ts"
import { fdOf, hex, resolveAddress, type ScriptContext, showAddress, StepFailed } from "./context.ts"
import { startAccess } from "./vcpus.ts"

type H<Op extends OpName> = (ctx: ScriptContext, s: StepOf<Op>, index: number) => void

const memfd_create: H<"memfd_create"> = (ctx, s) => {
  const r = ctx.kernel.memfd_create(s.args.as, s.args.size, s.args.hugetlb)
  if (checkErrno(r, s.expect, "memfd_create")) ctx.names.set(s.args.as, { kind: "file", fd: r.fd })
}

const mmap: H<"mmap"> = (ctx, s) => {
  const a = s.args
  const fd = a.fd === undefined ? -1 : fdOf(ctx, a.fd, ["file"])
  let flags = a.flags === undefined ? 0 : bits(a.flags, "MAP_")
  if (a.flags === undefined) flags = fd === -1 ? K.MAP_PRIVATE | K.MAP_ANONYMOUS : K.MAP_SHARED
  else if (fd === -1) flags |= K.MAP_ANONYMOUS
  const addr = a.addr === undefined ? 0 : resolveAddress(ctx, a.addr)
  const r = ctx.kernel.mmap(addr, a.length, bits(a.prot, "PROT_"), flags, fd, a.offset)
  if (checkErrno(r, s.expect, "mmap")) ctx.names.set(a.as, { kind: "mapping", addr: r.addr, length: a.length })
}

const mprotect: H<"mprotect"> = (ctx, s) => {
  checkErrno(
    ctx.kernel.mprotect(resolveAddress(ctx, s.args.addr), s.args.length, bits(s.args.prot, "PROT_")),
    s.expect,
    "mprotect"
  )
}

const munmap: H<"munmap"> = (ctx, s) => {
  checkErrno(ctx.kernel.munmap(resolveAddress(ctx, s.args.addr), s.args.length), s.expect, "munmap")
}

const madvise: H<"madvise"> = (ctx, s) => {
  const advice = typeof s.args.advice === "number" ? s.args.advice : group("MADV_").get(s.args.advice)!
  checkErrno(ctx.kernel.madvise(resolveAddress(ctx, s.args.addr), s.args.length, advice), s.expect, "madvise")
}

const fallocate: H<"fallocate"> = (ctx, s) => {
  const fd = fdOf(ctx, s.args.fd, ["file"])
  checkErrno(
    ctx.kernel.fallocate(fd, bits(s.args.mode, "FALLOC_FL_"), s.args.offset, s.args.len),
    s.expect,
    "fallocate"
  )
}

const ftruncate: H<"ftruncate"> = (ctx, s) => {
  checkErrno(ctx.kernel.ftruncate(fdOf(ctx, s.args.fd, ["file"]), s.args.length), s.expect, "ftruncate")
}

const close: H<"close"> = (ctx, s) => {
  const fd = fdOf(ctx, s.args.fd, ["file", "userfaultfd"])
  if (checkErrno(ctx.kernel.close(fd), s.expect, "close")) ctx.names.delete(s.args.fd)
}

const migrate: H<"migrate"> = (ctx, s) => {
  checkErrno(ctx.kernel.migrate(resolveAddress(ctx, s.args.addr), s.args.length), s.expect, "migrate")
}

const pagemap: H<"pagemap"> = (ctx, s) => {
  const addr = resolveAddress(ctx, s.args.addr)
  const e = ctx.kernel.pagemap_read(addr)
  const want = s.expect
  const where = `pagemap entry of ${showAddress(ctx, addr)}`
  if (want?.present !== undefined) checkEqual(`${where}: present (bit 63)`, want.present, e.present)
  if (want?.swapped !== undefined) checkEqual(`${where}: swapped (bit 62)`, want.swapped, e.swapped)
  if (want?.uffd !== undefined) checkEqual(`${where}: uffd (bit 57)`, want.uffd, e.uffd)
  if (want?.file_or_shared !== undefined)
    checkEqual(`${where}: file_or_shared (bit 61)`, want.file_or_shared, e.file_or_shared)
}

const read: H<"read"> = (ctx, s, i) => {
  startAccess(ctx, i, "read", s.args.vcpu, resolveAddress(ctx, s.args.addr), false, 0, s.expect)
}

const write: H<"write"> = (ctx, s, i) => {
  startAccess(ctx, i, "write", s.args.vcpu, resolveAddress(ctx, s.args.addr), true, s.args.value, s.expect)
}

const vcpu: H<"vcpu"> = (ctx, s) => {
  const slot = ctx.vcpus[s.args.vcpu]!
  const state = slot.state
  const want = s.expect
  const detail = state === "blocked" ? ` at ${showAddress(ctx, slot.blockedAddr)} on ${slot.blockedOn}` : ""
  if (want.state !== state) throw new StepFailed(`vCPU ${s.args.vcpu}: expected ${want.state}, it is ${state}${detail}`)
  if (want.blocked_on !== undefined) {
    const at = resolveAddress(ctx, want.blocked_on)
    if (state !== "blocked" || slot.blockedAddr !== at) {
      throw new StepFailed(`vCPU ${s.args.vcpu}: expected blocked on ${showAddress(ctx, at)}, it is ${state}${detail}`)
    }
  }
}

const sleep: H<"sleep"> = (ctx, s) => {
  ctx.engine.run_until(ctx.engine.now_ns + s.args.duration)
}

const wait: H<"wait"> = (ctx, s) => {
  const slot = ctx.vcpus[s.args.vcpu]!
  // Nothing runs in the background of a script: events still queued (storage I/O) may finish it.
  ctx.engine.run_until(() => slot.state !== "blocked")
  if (slot.state === "blocked") {
    throw new StepFailed(
      `vCPU ${s.args.vcpu} waits forever: its ${slot.access?.op ?? "access"} of ${showAddress(ctx, slot.blockedAddr)} is blocked on ${slot.blockedOn} and nothing left in the simulation can wake it`
    )
  }
  const want = s.expect?.value
  if (want !== undefined) {
    if (slot.lastValue === null) throw new StepFailed(`vCPU ${s.args.vcpu} has completed no access`)
    checkEqual(`vCPU ${s.args.vcpu}: value of its access at step ${slot.lastStep}`, want >>> 0, slot.lastValue >>> 0)
  }
}

export const OPS_MEMORY = {
  memfd_create,
  mmap,
  mprotect,
  munmap,
  madvise,
  fallocate,
  ftruncate,
  close,
  migrate,
  pagemap
}
export const OPS_GUEST = { read, write, vcpu, sleep, wait }
export { hex, names }
