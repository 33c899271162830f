// The simulated kernel's system-call surface: one process (the VMM) with its vCPU threads and its own
// threads. Each method is the syscall or ioctl it is named after and returns { ok: true, ... } or
// { ok: false, errno }. Nothing here reads time: costs are the caller's business.
import type { CpuFeatures } from "@rwpsim/hw"
import { err, type SysResult } from "./errno.ts"
import { wake_userfault } from "./fs/handle_userfault.ts"
import {
  do_pagemap_scan,
  type PagemapEntry,
  pagemap_flags,
  pagemap_read,
  type PmScanArg,
  type PmScanResult
} from "./fs/proc/task_mmu.ts"
import {
  type CopyResult,
  type ReadMsgResult,
  sys_userfaultfd,
  uffd_read,
  uffd_release,
  uffdio_api,
  uffdio_copy,
  uffdio_register,
  uffdio_rwprotect,
  uffdio_set_mode,
  uffdio_unregister,
  uffdio_wake,
  uffdio_writeprotect
} from "./fs/userfaultfd.ts"
import type { UffdCtx, WaitObject } from "./fs/userfaultfd_ctx.ts"
import { do_madvise } from "./mm/madvise.ts"
import { access, type AccessState, access_window, window_page } from "./mm/memory.ts"
import { migrate_range } from "./mm/migrate.ts"
import { Mm, type KernelStats, type TraceFn } from "./mm/mm.ts"
import { do_mmap, do_munmap } from "./mm/mmap.ts"
import { change_protection, MM_CP_PROT } from "./mm/mprotect.ts"
import { page_idle_mark, page_idle_read } from "./mm/page_idle.ts"
import { pte_raw } from "./mm/pte_raw.ts"
import { File } from "./mm/shmem.ts"
import { punch_hole, truncate_setsize } from "./mm/truncate.ts"
import { VM_EXEC, VM_MAYWRITE, VM_READ, VM_WRITE } from "./mm/vma.ts"
import { type KernelMutant, Mutants } from "./mutants.ts"
import * as U from "./uapi.ts"

export interface KernelOptions {
  readonly vcpus: number
  readonly tlb: { readonly entries: number; readonly ways: number }
  readonly trace?: TraceFn
  /** Deliberate bugs to switch on (tests of the tests). */
  readonly mutants?: readonly KernelMutant[]
}

export class Kernel implements AccessState {
  readonly mm: Mm
  readonly features: CpuFeatures
  /** After ACCESS_DONE on a read: the word read. */
  access_value = 0
  /** ACCESS_F_* bits of the last access. */
  access_flags = 0

  constructor(features: CpuFeatures, opts: KernelOptions) {
    this.features = features
    this.mm = new Mm(features, opts.vcpus, opts.tlb, opts.trace, new Mutants(opts.mutants))
  }

  get stats(): Readonly<KernelStats> {
    return this.mm.stats
  }
  get page_size(): number {
    return this.mm.page_size
  }

  // ---- memory ------------------------------------------------------------------------------

  /** memfd_create(2) + ftruncate to `size`; `hugetlb` (bytes) makes a hugetlbfs file (MFD_HUGETLB). */
  memfd_create(name: string, size: number, hugetlb?: number): SysResult<{ fd: number }> {
    const mm = this.mm
    let pb = mm.page_size
    if (hugetlb !== undefined) {
      if (!this.features.hugetlbfs) return err("EINVAL")
      // only sizes the page tables hold as one leaf (PMD or PUD) are modelled
      if (!this.features.hugepage_sizes.includes(hugetlb)) return err("EINVAL")
      if (hugetlb !== mm.pt.pmd_size && hugetlb !== mm.pt.pud_size) return err("EINVAL")
      pb = hugetlb
      if (size % pb !== 0) return err("EINVAL")
    }
    if (size < 0) return err("EINVAL")
    const file = new File(mm.next_file_id++, name, size, pb, hugetlb !== undefined)
    file.fds++
    return { ok: true, fd: mm.fdNew({ kind: "file", file }) }
  }

  private fileOf(fd: number): File | SysResult {
    const e = this.mm.fds.get(fd)
    if (e === undefined) return err("EBADF")
    if (e.kind !== "file") return err("EINVAL")
    return e.file
  }

  mmap(addr: number, len: number, prot: number, flags: number, fd: number, off: number): SysResult<{ addr: number }> {
    let file: File | null = null
    if (!(flags & U.MAP_ANONYMOUS)) {
      const e = this.mm.fds.get(fd)
      if (e === undefined) return err("EBADF")
      if (e.kind !== "file") return err("ENODEV")
      file = e.file
    }
    return do_mmap(this.mm, addr, len, prot, flags, file, off)
  }

  munmap(addr: number, len: number): SysResult {
    return do_munmap(this.mm, addr, len)
  }

  /** mprotect(2): change_protection() with the new vm_page_prot; RWP entries stay PAGE_NONE. */
  mprotect(addr: number, len: number, prot: number): SysResult {
    const mm = this.mm
    if (addr % mm.page_size !== 0) return err("EINVAL")
    if (prot & ~(U.PROT_READ | U.PROT_WRITE | U.PROT_EXEC)) return err("EINVAL")
    const end = addr + Math.ceil(len / mm.page_size) * mm.page_size
    if (end === addr) return { ok: true }
    const vmas = mm.vmas.range(addr, end)
    let covered = 0
    for (const v of vmas) {
      covered += Math.min(end, v.end) - Math.max(addr, v.start)
      if (prot & U.PROT_WRITE && !(v.vm_flags & VM_MAYWRITE)) return err("EACCES")
      if (v.hugetlb) {
        const h = v.file!.page_bytes
        if ((addr > v.start && addr % h !== 0) || (end < v.end && end % h !== 0)) return err("EINVAL")
      }
    }
    if (covered < end - addr) return err("ENOMEM")
    for (const v of mm.vmas.isolate(addr, end)) {
      v.vm_flags = (v.vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | (prot & 0x7)
      change_protection(mm, v, v.start, v.end, MM_CP_PROT)
    }
    mm.flush_tlb_range(addr, end)
    return { ok: true }
  }

  madvise(addr: number, len: number, advice: number): SysResult {
    return do_madvise(this.mm, addr, len, advice)
  }

  fallocate(fd: number, mode: number, off: number, len: number): SysResult {
    const f = this.fileOf(fd)
    if (!(f instanceof File)) return f
    if (mode & ~(U.FALLOC_FL_KEEP_SIZE | U.FALLOC_FL_PUNCH_HOLE)) return err("EOPNOTSUPP")
    if (off < 0 || len <= 0) return err("EINVAL")
    if (mode & U.FALLOC_FL_PUNCH_HOLE) {
      if (!(mode & U.FALLOC_FL_KEEP_SIZE)) return err("EOPNOTSUPP")
      punch_hole(this.mm, f, off, len)
      return { ok: true }
    }
    // preallocation: holes get zeroed pages; the size grows unless KEEP_SIZE
    const pb = f.page_bytes
    if (f.hugetlb && (off % pb !== 0 || len % pb !== 0)) return err("EINVAL")
    if (!(mode & U.FALLOC_FL_KEEP_SIZE) && off + len > f.size) f.resize(off + len)
    for (let i = Math.floor(off / pb); i < Math.ceil((off + len) / pb) && i < f.pages; i++) {
      if (f.cache[i] === 0) f.cache[i] = this.mm.frames.alloc(0) + 1
    }
    return { ok: true }
  }

  ftruncate(fd: number, length: number): SysResult {
    const f = this.fileOf(fd)
    if (!(f instanceof File)) return f
    if (length < 0) return err("EINVAL")
    if (f.hugetlb && length % f.page_bytes !== 0) return err("EINVAL")
    truncate_setsize(this.mm, f, length)
    return { ok: true }
  }

  close(fd: number): SysResult {
    const e = this.mm.fds.get(fd)
    if (e === undefined) return err("EBADF")
    this.mm.fds.delete(fd)
    if (e.kind === "file") e.file.fds--
    else uffd_release(this.mm, e.ctx)
    return { ok: true }
  }

  /** Migrates the present pages of [addr, addr + len) to new frames (move_pages/NUMA balancing). */
  migrate(addr: number, len: number): SysResult {
    const mm = this.mm
    if (addr % mm.page_size !== 0 || len <= 0) return err("EINVAL")
    const end = addr + Math.ceil(len / mm.page_size) * mm.page_size
    const vmas = mm.vmas.range(addr, end)
    if (vmas.length === 0) return err("ENOMEM")
    for (const v of vmas) migrate_range(mm, v, addr, end)
    return { ok: true }
  }

  pagemap_read(addr: number): PagemapEntry {
    return pagemap_read(this.mm, addr)
  }

  /** The flag bits 55-63 of addr's pagemap entry as PMF_* (pagemap_read() without PFN or allocation). */
  pagemap_flags(addr: number): number {
    return pagemap_flags(this.mm, addr)
  }

  /** Idle page tracking: mark every page mapped in [addr, addr + len) idle (page_idle bitmap write). */
  page_idle_mark(addr: number, len: number): SysResult {
    return page_idle_mark(this.mm, addr, len)
  }

  /** Idle page tracking: out[i] = 1 when base page i of the range is mapped and still idle. */
  page_idle_read(addr: number, len: number, out: Uint8Array): SysResult<{ idle: number }> {
    return page_idle_read(this.mm, addr, len, out)
  }

  /** The raw PTE mapping addr in this arch's bit layout (null: no layout for the arch, or unmapped). */
  pte_raw(addr: number): bigint | null {
    return pte_raw(this.mm, addr)
  }

  pagemap_scan(arg: PmScanArg): PmScanResult {
    return do_pagemap_scan(this.mm, arg)
  }

  // ---- userfaultfd -------------------------------------------------------------------------

  userfaultfd(flags: number): SysResult<{ fd: number }> {
    return sys_userfaultfd(this.mm, flags)
  }

  private ctxOf(fd: number): UffdCtx | { ok: false; errno: "EBADF" | "ENOTTY" } {
    const e = this.mm.fds.get(fd)
    if (e === undefined) return { ok: false, errno: "EBADF" }
    if (e.kind !== "uffd") return { ok: false, errno: "ENOTTY" }
    return e.ctx
  }

  uffdio_api(fd: number, api: number, features: number): SysResult<{ features: number; ioctls: bigint }> {
    const c = this.ctxOf(fd)
    return "ok" in c ? c : uffdio_api(this.mm, c, api, features)
  }
  uffdio_register(fd: number, start: number, len: number, mode: number): SysResult<{ ioctls: bigint }> {
    const c = this.ctxOf(fd)
    return "ok" in c ? c : uffdio_register(this.mm, c, start, len, mode)
  }
  uffdio_unregister(fd: number, start: number, len: number): SysResult {
    const c = this.ctxOf(fd)
    return "ok" in c ? c : uffdio_unregister(this.mm, c, start, len)
  }
  uffdio_wake(fd: number, start: number, len: number): SysResult {
    const c = this.ctxOf(fd)
    return "ok" in c ? c : uffdio_wake(this.mm, c, start, len)
  }
  uffdio_rwprotect(fd: number, start: number, len: number, mode: number): SysResult {
    const c = this.ctxOf(fd)
    return "ok" in c ? c : uffdio_rwprotect(this.mm, c, start, len, mode)
  }
  uffdio_writeprotect(fd: number, start: number, len: number, mode: number): SysResult {
    const c = this.ctxOf(fd)
    return "ok" in c ? c : uffdio_writeprotect(this.mm, c, start, len, mode)
  }
  uffdio_set_mode(fd: number, enable: number, disable: number): SysResult {
    const c = this.ctxOf(fd)
    return "ok" in c ? c : uffdio_set_mode(this.mm, c, enable, disable)
  }
  /** UFFDIO_COPY: `src` holds one word per base page of `len` (null: every page gets `fill`). */
  uffdio_copy(fd: number, dst: number, src: Uint32Array | null, fill: number, len: number, mode: number): CopyResult {
    const c = this.ctxOf(fd)
    return "ok" in c ? c : uffdio_copy(this.mm, c, dst, src, fill, len, mode)
  }
  /** read(2) of one uffd_msg. */
  read_msg(fd: number): ReadMsgResult {
    const c = this.ctxOf(fd)
    if ("ok" in c) return { ok: false, errno: c.errno === "EBADF" ? "EBADF" : "EINVAL" }
    return uffd_read(c)
  }
  /** poll(2): a message or event is queued. */
  uffd_has_messages(fd: number): boolean {
    const c = this.ctxOf(fd)
    return !("ok" in c) && c.hasMessages()
  }

  // ---- tasks -------------------------------------------------------------------------------

  /** One access by `task` (a vCPU is task 0..vcpus-1). Returns an ACCESS_* code. */
  access(task: number, addr: number, write: boolean, value: number, user: boolean): number {
    return access(this.mm, this, task, addr, write, value, user)
  }

  /**
   * access() of page `rel` of the page tables' window, as window_page(addr) numbers it: the same
   * access, for a caller that keeps its addresses as int32 pages on the per-access path.
   */
  access_window(task: number, rel: number, write: boolean, value: number, user: boolean): number {
    return access_window(this.mm, this, task, rel, write, value, user)
  }

  /** The window page of the page holding `addr` (see access_window). */
  window_page(addr: number): number {
    return window_page(this.mm, addr)
  }

  /** What the task that last got ACCESS_BLOCKED sleeps on (per task: blockedOn(task)). */
  blockedOn(task: number): WaitObject | null {
    return this.mm.blocked.get(task) ?? null
  }

  /** The wait object of the most recent blocked access. */
  get blocked_on(): WaitObject | null {
    return this.mm.blocked.get(this.mm.last_blocked) ?? null
  }

  /** Page-aligned fault address of the most recent blocked access. */
  get blocked_addr(): number {
    const w = this.blocked_on as { address?: number } | null
    return w?.address ?? 0
  }

  /** The tasks woken since the last call, in wake order. */
  drain_woken(): number[] {
    const w = this.mm.woken
    this.mm.woken = []
    return w
  }

  /** The task gives up its sleep (a VMM op abandoned): its waiter leaves the queues. */
  abandon_wait(task: number): void {
    const w = this.mm.blocked.get(task)
    if (w === undefined) return
    this.mm.blocked.delete(task)
    const uw = w as { ctx?: UffdCtx }
    if (uw.ctx !== undefined) uw.ctx.remove(w as never)
  }

  /** mmap_write_lock() held by a VMM thread across virtual time (vCPU faults then wait on it). */
  mmap_write_lock(task: number): void {
    this.mm.mmap_lock.writer = task
  }
  mmap_write_unlock(): void {
    this.mm.mmap_lock.writer = -1
    for (const [t, w] of [...this.mm.blocked]) if (w === this.mm.mmap_lock) this.mm.wakeTask(t)
  }

  /** UFFDIO_WAKE on every waiter of a userfaultfd (len 0), for tests and the VMM. */
  wake_all(fd: number): void {
    const c = this.ctxOf(fd)
    if (!("ok" in c)) wake_userfault(this.mm, c, 0, 0)
  }

  /** Bytes of simulator state: frames, page tables, page caches, swap. */
  state_bytes(): number {
    const mm = this.mm
    let files = 0
    for (const e of mm.fds.values()) if (e.kind === "file") files += e.file.cache.byteLength
    return mm.frames.bytes() + mm.pt.bytes() + files + mm.swap.word.byteLength
  }
}
