// The userfaultfd ops, PAGEMAP_SCAN and the VMM's own I/O (pwrite/pread through page tables).
import * as K from "@rwpsim/kernel"
import type { OpName, StepOf } from "@rwpsim/scenario"
import { checkEqual, checkErrno, checkIoctls, checkMask } from "./check.ts"
import { bits, group, names } from "./constants.ts"
import { fdOf, hex, resolveAddress, type ScriptContext, showAddress, StepFailed } from "./context.ts"
import { describeWait } from "./vcpus.ts"

type H<Op extends OpName> = (ctx: ScriptContext, s: StepOf<Op>, index: number) => void
const uffdOf = (ctx: ScriptContext, name: string) => fdOf(ctx, name, ["userfaultfd"])
const ioctlList = (f: { names: readonly string[] } | { raw: number } | undefined) =>
  f === undefined ? undefined : "raw" in f ? [] : f.names

const userfaultfd: H<"userfaultfd"> = (ctx, s) => {
  const r = ctx.kernel.userfaultfd(bits(s.args.flags, "O_"))
  if (checkErrno(r, s.expect, "userfaultfd")) ctx.names.set(s.args.as, { kind: "userfaultfd", fd: r.fd })
}

const UFFDIO_API: H<"UFFDIO_API"> = (ctx, s) => {
  const r = ctx.kernel.uffdio_api(uffdOf(ctx, s.args.fd), K.UFFD_API, bits(s.args.features, "UFFD_FEATURE_"))
  if (!checkErrno(r, s.expect, "UFFDIO_API")) return
  const e = s.expect
  if (e === undefined) return
  checkMask("UFFDIO_API features", r.features, "UFFD_FEATURE_", {
    exact: e.features,
    include: e.features_include,
    exclude: e.features_exclude
  })
  checkIoctls("UFFDIO_API ioctls", r.ioctls, ioctlList(e.ioctls_include), ioctlList(e.ioctls_exclude))
}

const UFFDIO_REGISTER: H<"UFFDIO_REGISTER"> = (ctx, s) => {
  const { range } = s.args
  const r = ctx.kernel.uffdio_register(
    uffdOf(ctx, s.args.fd),
    resolveAddress(ctx, range.start),
    range.len,
    bits(s.args.mode, "UFFDIO_REGISTER_MODE_")
  )
  if (checkErrno(r, s.expect, "UFFDIO_REGISTER")) {
    checkIoctls(
      "UFFDIO_REGISTER ioctls",
      r.ioctls,
      ioctlList(s.expect?.ioctls_include),
      ioctlList(s.expect?.ioctls_exclude)
    )
  }
}

const UFFDIO_UNREGISTER: H<"UFFDIO_UNREGISTER"> = (ctx, s) => {
  const { range } = s.args
  checkErrno(
    ctx.kernel.uffdio_unregister(uffdOf(ctx, s.args.fd), resolveAddress(ctx, range.start), range.len),
    s.expect,
    "UFFDIO_UNREGISTER"
  )
}

const UFFDIO_WAKE: H<"UFFDIO_WAKE"> = (ctx, s) => {
  const { range } = s.args
  checkErrno(
    ctx.kernel.uffdio_wake(uffdOf(ctx, s.args.fd), resolveAddress(ctx, range.start), range.len),
    s.expect,
    "UFFDIO_WAKE"
  )
}

const UFFDIO_RWPROTECT: H<"UFFDIO_RWPROTECT"> = (ctx, s) => {
  const { range } = s.args
  const mode = bits(s.args.mode, "UFFDIO_RWPROTECT_MODE_")
  checkErrno(
    ctx.kernel.uffdio_rwprotect(uffdOf(ctx, s.args.fd), resolveAddress(ctx, range.start), range.len, mode),
    s.expect,
    "UFFDIO_RWPROTECT"
  )
}

const UFFDIO_WRITEPROTECT: H<"UFFDIO_WRITEPROTECT"> = (ctx, s) => {
  const { range } = s.args
  const mode = bits(s.args.mode, "UFFDIO_WRITEPROTECT_MODE_")
  checkErrno(
    ctx.kernel.uffdio_writeprotect(uffdOf(ctx, s.args.fd), resolveAddress(ctx, range.start), range.len, mode),
    s.expect,
    "UFFDIO_WRITEPROTECT"
  )
}

const UFFDIO_SET_MODE: H<"UFFDIO_SET_MODE"> = (ctx, s) => {
  const r = ctx.kernel.uffdio_set_mode(
    uffdOf(ctx, s.args.fd),
    bits(s.args.enable, "UFFD_FEATURE_"),
    bits(s.args.disable, "UFFD_FEATURE_")
  )
  checkErrno(r, s.expect, "UFFDIO_SET_MODE")
}

/** The words of `len` bytes of a storage object from `offset`, one per page. */
function storageWords(ctx: ScriptContext, name: string, offset: number, len: number): Uint32Array {
  const obj = ctx.storage.get(name)
  const words = new Uint32Array(Math.ceil(len / ctx.page_size))
  for (let i = 0; i < words.length; i++) words[i] = obj?.get(offset + i * ctx.page_size) ?? 0
  return words
}

const UFFDIO_COPY: H<"UFFDIO_COPY"> = (ctx, s) => {
  const a = s.args
  const src = "value" in a.src ? null : storageWords(ctx, a.src.storage, a.src.offset, a.len)
  const fill = "value" in a.src ? a.src.value : 0
  const r = ctx.kernel.uffdio_copy(
    uffdOf(ctx, a.fd),
    resolveAddress(ctx, a.dst),
    src,
    fill,
    a.len,
    bits(a.mode, "UFFDIO_COPY_MODE_")
  )
  checkErrno(r, s.expect, "UFFDIO_COPY")
}

const read_msg: H<"read_msg"> = (ctx, s) => {
  const r = ctx.kernel.read_msg(uffdOf(ctx, s.args.fd))
  if (!r.ok && "blocked" in r) {
    if (s.expect?.blocked === true) return
    throw new StepFailed(
      "read_msg blocked: the userfaultfd is blocking and has nothing queued (the script cannot block)"
    )
  }
  if (!checkErrno(r, s.expect, "read_msg")) return
  const e = s.expect
  if (e === undefined) return
  const m = r.msg
  if (e.event !== undefined) checkEqual("read_msg event", e.event, eventName(m.event))
  checkMask("read_msg flags", m.flags, "UFFD_PAGEFAULT_FLAG_", { include: e.flags_include, exclude: e.flags_exclude })
  if (e.address !== undefined) {
    const want = resolveAddress(ctx, e.address)
    if (m.address !== want)
      throw new StepFailed(`read_msg address: expected ${showAddress(ctx, want)}, got ${showAddress(ctx, m.address)}`)
  }
}

/** Events are values, not bits: the name whose value is exactly `ev`. */
function eventName(ev: number): string {
  for (const [n, v] of group("UFFD_EVENT_")) if (v === ev) return n
  return hex(ev)
}

const PAGEMAP_SCAN: H<"PAGEMAP_SCAN"> = (ctx, s) => {
  const a = s.args
  const r = ctx.kernel.pagemap_scan({
    size: 96,
    flags: bits(a.flags, "PM_SCAN_"),
    start: resolveAddress(ctx, a.start),
    end: resolveAddress(ctx, a.end),
    vec_len: a.vec_len === null ? Number.POSITIVE_INFINITY : a.vec_len,
    max_pages: a.max_pages,
    category_inverted: bits(a.category_inverted, "PAGE_IS_"),
    category_mask: bits(a.category_mask, "PAGE_IS_"),
    category_anyof_mask: bits(a.category_anyof_mask, "PAGE_IS_"),
    return_mask: bits(a.return_mask, "PAGE_IS_")
  })
  if (!checkErrno(r, s.expect, "PAGEMAP_SCAN")) return
  const e = s.expect
  ctx.engine.emit("scan", { count: r.count, walk_end: r.walk_end })
  if (e === undefined) return
  if (e.count !== undefined) checkEqual("PAGEMAP_SCAN count", e.count, r.count)
  if (e.walk_end !== undefined) {
    const want = resolveAddress(ctx, e.walk_end)
    if (want !== r.walk_end)
      throw new StepFailed(
        `PAGEMAP_SCAN walk_end: expected ${showAddress(ctx, want)}, got ${showAddress(ctx, r.walk_end)}`
      )
  }
  if (e.regions !== undefined) {
    const show = (g: { start: number; end: number; categories: number }) =>
      `{ ${showAddress(ctx, g.start)}..${showAddress(ctx, g.end)} [${names(g.categories, "PAGE_IS_").join(", ")}] }`
    const want = e.regions.map((g) => ({
      start: resolveAddress(ctx, g.start),
      end: resolveAddress(ctx, g.end),
      categories: bits(g.categories, "PAGE_IS_")
    }))
    const same =
      want.length === r.regions.length &&
      want.every(
        (g, i) =>
          g.start === r.regions[i]!.start && g.end === r.regions[i]!.end && g.categories === r.regions[i]!.categories
      )
    if (!same)
      throw new StepFailed(
        `PAGEMAP_SCAN regions: expected [${want.map(show).join(", ")}], got [${r.regions.map(show).join(", ")}]`
      )
  }
}

/** The VMM's own access of one page (kernel mode, through page tables): a value, blocked, or EFAULT. */
function vmmAccess(ctx: ScriptContext, addr: number, write: boolean, value: number): number | "blocked" | "EFAULT" {
  const code = ctx.kernel.access(ctx.vmmTask, addr, write, value, false)
  if (code === K.ACCESS_DONE) return ctx.kernel.access_value
  if (code === K.ACCESS_BLOCKED) return "blocked"
  return "EFAULT"
}

function ioCheck(
  ctx: ScriptContext,
  what: string,
  offset: number,
  len: number,
  expect: { errno?: string | undefined } | undefined
): boolean {
  const ps = ctx.page_size
  const bad = offset % ps !== 0 || len % ps !== 0
  return checkErrno(bad ? { ok: false, errno: "EINVAL" } : { ok: true }, expect, what)
}

/** Storage I/O takes latency plus transfer time at the device's bandwidth. */
function ioTime(ctx: ScriptContext, len: number): void {
  const { latency_ns, bandwidth } = ctx.storageParams
  ctx.engine.run_until(ctx.engine.now_ns + latency_ns + Math.ceil((len * 1e9) / bandwidth))
}

/** Each page of a VMM access; on a block the whole op is abandoned (or fails the step). */
function eachPage(
  ctx: ScriptContext,
  what: string,
  base: number,
  len: number,
  blockedOk: boolean,
  visit: (addr: number, i: number) => number | "blocked" | "EFAULT"
): "ok" | "abandoned" | "EFAULT" {
  for (let i = 0; i * ctx.page_size < len; i++) {
    const r = visit(base + i * ctx.page_size, i)
    if (r === "EFAULT") return "EFAULT"
    if (r === "blocked") {
      const on = describeWait(ctx)
      ctx.kernel.abandon_wait(ctx.vmmTask)
      if (blockedOk) return "abandoned"
      throw new StepFailed(
        `${what} blocked: the VMM's access of ${showAddress(ctx, base + i * ctx.page_size)} waits on ${on} (the script cannot block)`
      )
    }
  }
  return "ok"
}

const pwrite: H<"pwrite"> = (ctx, s) => {
  const a = s.args
  if (!ioCheck(ctx, "pwrite", a.offset, a.len, s.expect)) return
  const from = resolveAddress(ctx, a.from)
  const words: number[] = []
  const r = eachPage(ctx, "pwrite", from, a.len, s.expect?.blocked === true, (addr) => {
    const v = vmmAccess(ctx, addr, false, 0)
    if (typeof v === "number") words.push(v)
    return v
  })
  if (r === "abandoned") return
  if (!checkErrno(r === "EFAULT" ? { ok: false, errno: "EFAULT" } : { ok: true }, s.expect, "pwrite")) return
  let obj = ctx.storage.get(a.storage)
  if (obj === undefined) {
    obj = new Map()
    ctx.storage.set(a.storage, obj)
  }
  for (let i = 0; i < words.length; i++) obj.set(a.offset + i * ctx.page_size, words[i]!)
  ctx.engine.emit("pwrite", { storage: a.storage, offset: a.offset, from, len: a.len })
  ioTime(ctx, a.len)
}

const pread: H<"pread"> = (ctx, s) => {
  const a = s.args
  if (!ioCheck(ctx, "pread", a.offset, a.len, s.expect)) return
  const to = resolveAddress(ctx, a.to)
  const words = storageWords(ctx, a.storage, a.offset, a.len)
  ioTime(ctx, a.len)
  const r = eachPage(ctx, "pread", to, a.len, s.expect?.blocked === true, (addr, i) =>
    vmmAccess(ctx, addr, true, words[i]!)
  )
  if (r === "abandoned") return
  checkErrno(r === "EFAULT" ? { ok: false, errno: "EFAULT" } : { ok: true }, s.expect, "pread")
  ctx.engine.emit("pread", { storage: a.storage, offset: a.offset, to, len: a.len })
}

export const OPS_UFFD = {
  userfaultfd,
  UFFDIO_API,
  UFFDIO_REGISTER,
  UFFDIO_UNREGISTER,
  UFFDIO_WAKE,
  UFFDIO_RWPROTECT,
  UFFDIO_WRITEPROTECT,
  UFFDIO_SET_MODE,
  UFFDIO_COPY,
  read_msg,
  PAGEMAP_SCAN,
  pwrite,
  pread
}
