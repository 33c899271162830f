// fs/userfaultfd.c (mm/userfaultfd.c in v7.x) with the RWP series: userfaultfd(2), UFFDIO_API,
// UFFDIO_REGISTER/UNREGISTER, UFFDIO_RWPROTECT, UFFDIO_WRITEPROTECT, UFFDIO_SET_MODE, UFFDIO_WAKE,
// UFFDIO_COPY, read(2) of messages and close(2). Checks run in the kernel's order, so the first
// failing check decides the errno (rwp-semantics.md §3-§7, seeds 002 and 003).
import { err, highBits, type SysError, type SysResult } from "../errno.ts"
import {
  change_protection,
  MM_CP_UFFD_RWP,
  MM_CP_UFFD_RWP_RESOLVE,
  MM_CP_UFFD_WP,
  MM_CP_UFFD_WP_RESOLVE,
  installWpMarkers
} from "../mm/mprotect.ts"
import { TASK_SIZE } from "../mm/mmap.ts"
import type { Mm } from "../mm/mm.ts"
import { F_ANON, F_DIRTY, F_EXCLUSIVE, F_HUGE, F_MARKER, F_PRESENT, F_UFFD, F_YOUNG, PTE_LEVEL } from "../mm/pgtable.ts"
import { cacheHasPage, cacheIsSwap, pageEntry } from "../mm/shmem.ts"
import { writableFor } from "../mm/walk.ts"
import {
  __VM_UFFD_FLAGS,
  type Vma,
  VM_MAYWRITE,
  VM_UFFD_MINOR,
  VM_UFFD_MISSING,
  VM_UFFD_RWP,
  VM_UFFD_WP,
  VM_WRITE
} from "../mm/vma.ts"
import * as U from "../uapi.ts"
import {
  apiIoctls,
  availableFeatures,
  haveArchUffdMinor,
  ioctlBit,
  rangeIoctls,
  registerModes,
  rwpAvailable
} from "./features.ts"
import { wake_userfault } from "./handle_userfault.ts"
import { UffdCtx, type UffdMsg } from "./userfaultfd_ctx.ts"

const FLAGS_OK = U.O_CLOEXEC | U.O_NONBLOCK | U.UFFD_USER_MODE_ONLY

export function sys_userfaultfd(mm: Mm, flags: number): SysResult<{ fd: number }> {
  if (highBits(flags) || flags & ~FLAGS_OK) return err("EINVAL")
  const fd = mm.fdLowest()
  const ctx = new UffdCtx(fd, flags, (flags & U.O_NONBLOCK) !== 0, (flags & U.UFFD_USER_MODE_ONLY) !== 0)
  mm.fds.set(fd, { kind: "uffd", ctx })
  return { ok: true, fd }
}

/** validate_range(): page-aligned start and len, len > 0, inside TASK_SIZE. */
function validate_range(mm: Mm, start: number, len: number): boolean {
  const ps = mm.page_size
  if (start % ps !== 0 || len % ps !== 0 || len <= 0) return false
  return start < TASK_SIZE && len <= TASK_SIZE - start
}

export function uffdio_api(
  mm: Mm,
  ctx: UffdCtx,
  api: number,
  features: number
): SysResult<{ features: number; ioctls: bigint }> {
  const f = mm.features
  if (api !== U.UFFD_API) return err("EINVAL")
  if (highBits(features)) return err("EINVAL")
  // RWPv10-12: RWP_ASYNC needs RWP in the same call
  if (features & U.UFFD_FEATURE_RWP_ASYNC && !(features & U.UFFD_FEATURE_RWP)) return err("EINVAL")
  const available = availableFeatures(f, f.kernel_version)
  // asking for what the kernel does not offer fails and leaves the ctx uninitialized (RWPv10-15)
  if (features & ~available) return err("EINVAL")
  if (ctx.initialized) return err("EINVAL")
  let stored = features >>> 0
  if (stored & U.UFFD_FEATURE_WP_ASYNC) stored |= U.UFFD_FEATURE_WP_UNPOPULATED
  ctx.features = stored
  ctx.initialized = true
  return { ok: true, features: available, ioctls: apiIoctls(f) }
}

/** vma_can_userfault(): anonymous, shmem and hugetlbfs memory; MINOR only on file memory. */
function vma_can_userfault(mm: Mm, vma: Vma, vm_flags: number): boolean {
  if (vm_flags & VM_UFFD_MINOR && vma.anon) return false
  if (vm_flags & VM_UFFD_WP && !vma.anon && !mm.features.pgtable_supports_uffd) return false
  return true
}

export function uffdio_register(
  mm: Mm,
  ctx: UffdCtx,
  start: number,
  len: number,
  mode: number
): SysResult<{ ioctls: bigint }> {
  const f = mm.features
  if (!ctx.initialized) return err("EINVAL")
  if (mode === 0 || highBits(mode) || mode & ~registerModes(f)) return err("EINVAL")
  let vm = 0
  if (mode & U.UFFDIO_REGISTER_MODE_MISSING) vm |= VM_UFFD_MISSING
  if (mode & U.UFFDIO_REGISTER_MODE_WP) {
    if (!f.pgtable_supports_uffd) return err("EINVAL")
    vm |= VM_UFFD_WP
  }
  if (mode & U.UFFDIO_REGISTER_MODE_RWP) {
    if (!rwpAvailable(f)) return err("EINVAL")
    if (!(ctx.features & U.UFFD_FEATURE_RWP)) return err("EINVAL")
    vm |= VM_UFFD_RWP
  }
  // seed 003: "WP and RWP share the uffd PTE bit"
  if (vm & VM_UFFD_WP && vm & VM_UFFD_RWP) return err("EINVAL")
  if (mode & U.UFFDIO_REGISTER_MODE_MINOR) {
    if (!haveArchUffdMinor(f)) return err("EINVAL")
    vm |= VM_UFFD_MINOR
  }
  if (!validate_range(mm, start, len)) return err("EINVAL")
  const end = start + len
  const vmas = mm.vmas.range(start, end)
  if (vmas.length === 0) return err("EINVAL")
  const first = vmas[0]!
  if (first.hugetlb && start % first.file!.page_bytes !== 0) return err("EINVAL")
  let hugetlb = false
  for (const v of vmas) {
    if (!vma_can_userfault(mm, v, vm)) return err("EINVAL")
    // RWPv9+: RWP on an inaccessible (PROT_NONE) VMA is refused at register time only
    if (vm & VM_UFFD_RWP && !v.accessible) return err("EINVAL")
    if (!(v.vm_flags & VM_MAYWRITE)) return err("EPERM")
    if (v.hugetlb && end <= v.end && end > v.start && end % v.file!.page_bytes !== 0) return err("EINVAL")
    if (v.uffd !== null && v.uffd !== ctx) return err("EBUSY")
    // seed 003: a mode change that drops VM_UFFD_WP or VM_UFFD_RWP needs an unregister first
    if (v.uffd === ctx) {
      const dropped = v.vm_flags & ~vm & (VM_UFFD_WP | VM_UFFD_RWP)
      if (dropped) return err("EBUSY")
    }
    if (v.hugetlb) hugetlb = true
  }
  for (const v of mm.vmas.isolate(start, end)) {
    v.vm_flags = (v.vm_flags & ~__VM_UFFD_FLAGS) | vm
    v.uffd = ctx
  }
  let ioctls = rangeIoctls(f, f.kernel_version, hugetlb)
  if (!(mode & U.UFFDIO_REGISTER_MODE_WP)) ioctls &= ~ioctlBit(U._UFFDIO_WRITEPROTECT)
  if (!(mode & U.UFFDIO_REGISTER_MODE_MINOR)) ioctls &= ~ioctlBit(U._UFFDIO_CONTINUE)
  if (!(mode & U.UFFDIO_REGISTER_MODE_RWP)) ioctls &= ~ioctlBit(U._UFFDIO_RWPROTECT)
  mm.emit("k.uffd_register", { fd: ctx.fd, start, len, mode })
  return { ok: true, ioctls }
}

/** userfaultfd_clear_vma(): resolve the uffd protection of [start, end) of v and forget the ctx. */
function clearVma(mm: Mm, v: Vma): void {
  if (v.vm_flags & VM_UFFD_RWP) change_protection(mm, v, v.start, v.end, MM_CP_UFFD_RWP_RESOLVE)
  if (v.vm_flags & VM_UFFD_WP) change_protection(mm, v, v.start, v.end, MM_CP_UFFD_WP_RESOLVE)
  v.vm_flags &= ~__VM_UFFD_FLAGS
  v.uffd = null
  mm.flush_tlb_range(v.start, v.end)
}

export function uffdio_unregister(mm: Mm, ctx: UffdCtx, start: number, len: number): SysResult {
  if (!ctx.initialized) return err("EINVAL")
  if (!validate_range(mm, start, len)) return err("EINVAL")
  const end = start + len
  const vmas = mm.vmas.range(start, end)
  if (vmas.length === 0) return err("EINVAL")
  const first = vmas[0]!
  if (first.hugetlb && start % first.file!.page_bytes !== 0) return err("EINVAL")
  for (const v of vmas) {
    if (v.uffd !== null && v.uffd !== ctx) return err("EINVAL")
    if (!vma_can_userfault(mm, v, v.vm_flags)) return err("EINVAL")
    // hugetlb_vm_op_split(): a hugetlb VMA cannot be cut inside a huge page
    if (v.hugetlb && v.uffd === ctx && end < v.end && end % v.file!.page_bytes !== 0) return err("EINVAL")
  }
  for (const v of mm.vmas.isolate(start, end)) {
    if (v.uffd !== ctx) continue
    // only MISSING ranges are woken (RWP waiters stay until a wake: rwp-semantics §7)
    if (v.vm_flags & VM_UFFD_MISSING) wake_userfault(mm, ctx, v.start, v.end - v.start)
    clearVma(mm, v)
  }
  mm.emit("k.uffd_unregister", { fd: ctx.fd, start, len })
  return { ok: true }
}

export function uffdio_wake(mm: Mm, ctx: UffdCtx, start: number, len: number): SysResult {
  if (!ctx.initialized) return err("EINVAL")
  if (!validate_range(mm, start, len)) return err("EINVAL")
  wake_userfault(mm, ctx, start, len)
  return { ok: true }
}

export function uffdio_rwprotect(mm: Mm, ctx: UffdCtx, start: number, len: number, mode: number): SysResult {
  if (!mm.features.kernel_has_rwp) return err("EINVAL") // no such ioctl before the series
  if (!ctx.initialized) return err("EINVAL")
  if (ctx.mmap_changing) return err("EAGAIN")
  if (!validate_range(mm, start, len)) return err("EINVAL")
  const M = U.UFFDIO_RWPROTECT_MODE_RWP | U.UFFDIO_RWPROTECT_MODE_DONTWAKE
  if (highBits(mode) || mode & ~M) return err("EINVAL")
  const protect = (mode & U.UFFDIO_RWPROTECT_MODE_RWP) !== 0
  const dontwake = (mode & U.UFFDIO_RWPROTECT_MODE_DONTWAKE) !== 0
  if (protect && dontwake) return err("EINVAL")
  const end = start + len
  // seed 003: every VMA is checked before any is changed
  const vmas = mm.vmas.range(start, end)
  if (vmas.length === 0) return err("ENOENT")
  for (const v of vmas) {
    if (!(v.vm_flags & VM_UFFD_RWP)) return err("ENOENT")
    if (v.hugetlb) {
      const h = v.file!.page_bytes
      if (start % h !== 0 || len % h !== 0) return err("EINVAL")
    }
  }
  for (const v of vmas) change_protection(mm, v, start, end, protect ? MM_CP_UFFD_RWP : MM_CP_UFFD_RWP_RESOLVE)
  // one mmu_gather: the flush is done before the ioctl returns
  if (!(protect && mm.mutants.rwprotect_no_tlb_flush)) mm.flush_tlb_range(start, end)
  const wake = !protect && (!dontwake || mm.mutants.dontwake_ignored) && !mm.mutants.unprotect_no_wake
  if (wake) wake_userfault(mm, ctx, start, len)
  if (mm.trace !== undefined) mm.emit("k.rwprotect", { fd: ctx.fd, start, len, mode })
  return { ok: true }
}

export function uffdio_writeprotect(mm: Mm, ctx: UffdCtx, start: number, len: number, mode: number): SysResult {
  if (!ctx.initialized) return err("EINVAL")
  if (ctx.mmap_changing) return err("EAGAIN")
  if (!validate_range(mm, start, len)) return err("EINVAL")
  const M = U.UFFDIO_WRITEPROTECT_MODE_WP | U.UFFDIO_WRITEPROTECT_MODE_DONTWAKE
  if (highBits(mode) || mode & ~M) return err("EINVAL")
  const wp = (mode & U.UFFDIO_WRITEPROTECT_MODE_WP) !== 0
  const dontwake = (mode & U.UFFDIO_WRITEPROTECT_MODE_DONTWAKE) !== 0
  if (wp && dontwake) return err("EINVAL")
  const end = start + len
  // mwriteprotect_range(): VMAs are changed as they are checked (no pre-scan, unlike RWP)
  const vmas = mm.vmas.range(start, end)
  let res: SysResult = err("ENOENT")
  for (const v of vmas) {
    if (!(v.vm_flags & VM_UFFD_WP)) {
      res = err("ENOENT")
      break
    }
    if (v.hugetlb) {
      const h = v.file!.page_bytes
      if (start % h !== 0 || len % h !== 0) {
        res = err("EINVAL")
        break
      }
    }
    change_protection(mm, v, start, end, wp ? MM_CP_UFFD_WP : MM_CP_UFFD_WP_RESOLVE)
    if (wp && (!v.anon || ctx.features & U.UFFD_FEATURE_WP_UNPOPULATED)) installWpMarkers(mm, v, start, end)
    res = { ok: true }
  }
  mm.flush_tlb_range(start, end)
  if (!res.ok) return res
  if (!wp && !dontwake) wake_userfault(mm, ctx, start, len)
  return res
}

export function uffdio_set_mode(mm: Mm, ctx: UffdCtx, enable: number, disable: number): SysResult {
  const f = mm.features
  if (!f.kernel_has_rwp) return err("EINVAL")
  if (!ctx.initialized) return err("EINVAL")
  if (highBits(enable) || highBits(disable)) return err("EINVAL")
  if (enable & disable) return err("EINVAL")
  const toggleable = availableFeatures(f, f.kernel_version) & U.UFFD_FEATURE_TOGGLEABLE
  if ((enable | disable) & ~toggleable) return err("EINVAL")
  if (enable & U.UFFD_FEATURE_RWP_ASYNC && !(ctx.features & U.UFFD_FEATURE_RWP)) return err("EINVAL")
  // mmap_write_lock + vma_start_write(): no fault in flight sees the old mode after this returns
  ctx.features = ((ctx.features | enable) & ~disable) >>> 0
  if (enable & U.UFFD_FEATURE_RWP_ASYNC && !mm.mutants.set_mode_no_wake) wake_userfault(mm, ctx, 0, 0)
  if (mm.trace !== undefined) mm.emit("k.set_mode", { fd: ctx.fd, enable, disable })
  return { ok: true }
}

/** UFFDIO_COPY's result: the bytes copied, also on a partial copy (EAGAIN). */
export type CopyResult = SysResult<{ copy: number }> | (SysError & { readonly copy: number })

/** mfill_atomic(COPY): fills [dst, dst + len) with the words given, page by page. */
export function uffdio_copy(
  mm: Mm,
  ctx: UffdCtx,
  dst: number,
  src: Uint32Array | null,
  fill: number,
  len: number,
  mode: number
): CopyResult {
  if (!ctx.initialized) return err("EINVAL")
  if (ctx.mmap_changing) return err("EAGAIN")
  if (!validate_range(mm, dst, len)) return err("EINVAL")
  if (highBits(mode) || mode & ~(U.UFFDIO_COPY_MODE_DONTWAKE | U.UFFDIO_COPY_MODE_WP)) return err("EINVAL")
  const vma = mm.vmas.lookup(dst)
  // validate_dst_vma(): inside one VMA registered with a userfaultfd (any of the process's)
  if (vma === null || dst + len > vma.end || vma.uffd === null) return err("ENOENT")
  const wp = (mode & U.UFFDIO_COPY_MODE_WP) !== 0
  if (wp && !(vma.vm_flags & VM_UFFD_WP)) return err("EINVAL")
  const step = mm.entrySize(vma)
  if (vma.hugetlb && (dst % step !== 0 || len % step !== 0)) return err("EINVAL")
  let copied = 0
  let failed: SysError | null = null
  for (let a = dst; a < dst + len; a += step) {
    const word = src === null ? fill : (src[(a - dst) / mm.page_size] ?? 0)
    if (!mfill_one(mm, vma, a, word >>> 0, wp)) {
      failed = err("EEXIST")
      break
    }
    copied += step
  }
  if (copied > 0 && !(mode & U.UFFDIO_COPY_MODE_DONTWAKE)) wake_userfault(mm, ctx, dst, copied)
  if (failed !== null && copied === 0) return failed
  if (mm.trace !== undefined) mm.emit("k.uffd_copy", { fd: ctx.fd, dst, len: copied })
  // userfaultfd_copy(): a partial copy is EAGAIN, with uffdio_copy.copy = the bytes copied
  if (copied !== len) return { ok: false, errno: "EAGAIN", copy: copied }
  return { ok: true, copy: copied }
}

/** mfill_atomic_pte_copy / shmem_mfill_atomic_pte / hugetlb_mfill_atomic_pte: false on EEXIST. */
function mfill_one(mm: Mm, vma: Vma, addr: number, word: number, wp: boolean): boolean {
  const s = mm.slot
  mm.pt.lookup(addr, mm.level(vma), true, s)
  if (s.t.flags[s.i] !== 0 && !(s.t.flags[s.i]! & F_MARKER)) return false // an entry is there (present, swap)
  const huge = s.level === PTE_LEVEL ? 0 : F_HUGE
  const uffd = wp ? F_UFFD : 0
  if (vma.file !== null && vma.shared) {
    const file = vma.file
    const idx = Math.floor(vma.offset(addr) / file.page_bytes)
    const e = file.cache[idx]!
    if (cacheHasPage(e) || cacheIsSwap(e)) return false // shmem: already in the page cache
    const pfn = mm.frames.alloc(word)
    file.cache[idx] = pageEntry(pfn)
    mm.frames.get(pfn)
    mm.pt.set(s, huge | F_PRESENT | F_YOUNG | F_DIRTY | (wp ? 0 : writableFor(vma, 0)) | uffd, pfn)
    return true
  }
  // anonymous memory, or a private file mapping: a new anonymous page (accessible, untracked by RWP)
  const anon = F_ANON | F_EXCLUSIVE
  const w = wp || !(vma.vm_flags & VM_WRITE) ? 0 : writableFor(vma, anon)
  mm.pt.set(s, huge | F_PRESENT | anon | F_YOUNG | F_DIRTY | w | uffd, mm.frames.alloc(word))
  return true
}

export type ReadMsgResult =
  | { readonly ok: true; readonly msg: UffdMsg }
  | { readonly ok: false; readonly blocked: true }
  | { readonly ok: false; readonly errno: "EINVAL" | "EAGAIN" | "EBADF" }

/** userfaultfd_ctx_read(): pending faults first (FIFO), then events. */
export function uffd_read(ctx: UffdCtx): ReadMsgResult {
  if (!ctx.initialized) return { ok: false, errno: "EINVAL" }
  const w = ctx.fault_pending_wqh.shift()
  if (w !== undefined) {
    w.read = true
    ctx.fault_wqh.push(w)
    return { ok: true, msg: w.msg }
  }
  const ev = ctx.events.shift()
  if (ev !== undefined) return { ok: true, msg: ev }
  if (ctx.nonblock) return { ok: false, errno: "EAGAIN" }
  return { ok: false, blocked: true }
}

/** userfaultfd_release(): every VMA of the ctx is cleared as by unregister, then everyone is woken. */
export function uffd_release(mm: Mm, ctx: UffdCtx): void {
  ctx.released = true
  for (const v of [...mm.vmas.list]) if (v.uffd === ctx) clearVma(mm, v)
  ctx.events.length = 0
  wake_userfault(mm, ctx, 0, 0)
  mm.emit("k.uffd_release", { fd: ctx.fd })
}
