// mm/mmap.c, mm/vma.c: mmap(2) and munmap(2). Placement is the spec's: upward from 0x7f0000000000,
// each mapping aligned to its page size and one page above the previous one.
import { err, type SysResult } from "../errno.ts"
import { uffd_event } from "../fs/userfaultfd_events.ts"
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MAP_SHARED,
  UFFD_EVENT_UNMAP,
  UFFD_FEATURE_EVENT_UNMAP
} from "../uapi.ts"
import type { Mm } from "./mm.ts"
import { File } from "./shmem.ts"
import { walkEntries, zapEntry } from "./walk.ts"
import { VM_HUGETLB, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_SHARED, Vma } from "./vma.ts"

/** TASK_SIZE of a 4-level x86_64/arm64/riscv Sv48 address space. */
export const TASK_SIZE = 0x800000000000
export const MMAP_BASE = 0x7f0000000000

const alignUp = (x: number, a: number) => Math.ceil(x / a) * a

export function do_mmap(
  mm: Mm,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  file: File | null,
  off: number
): SysResult<{ addr: number }> {
  const ps = mm.page_size
  const type = flags & (MAP_SHARED | MAP_PRIVATE)
  if (type !== MAP_SHARED && type !== MAP_PRIVATE) return err("EINVAL")
  if (len <= 0 || off < 0 || off % ps !== 0) return err("EINVAL")
  if (file === null && !(flags & MAP_ANONYMOUS)) return err("EBADF")
  const align = file?.hugetlb ? file.page_bytes : ps
  if (file?.hugetlb && off % align !== 0) return err("EINVAL")
  len = alignUp(len, align)
  if (len > TASK_SIZE) return err("ENOMEM")
  const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0
  let start: number
  if (fixed) {
    if (addr % align !== 0) return err("EINVAL")
    if (addr + len > TASK_SIZE || addr < ps) return err("ENOMEM")
    if (mm.vmas.range(addr, addr + len).length > 0) {
      if (flags & MAP_FIXED_NOREPLACE) return err("EEXIST")
      const r = do_munmap(mm, addr, len)
      if (!r.ok) return r
    }
    start = addr
  } else {
    start = alignUp(mm.mmap_next, align)
    while (mm.vmas.range(start, start + len).length > 0) start = alignUp(mm.vmas.find(start)!.end + ps, align)
    if (start + len > TASK_SIZE) return err("ENOMEM")
    mm.mmap_next = start + len + ps
  }
  let vm = (prot & 0x7) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC
  if (type === MAP_SHARED) vm |= VM_SHARED | VM_MAYSHARE
  let f = file
  if (f === null && type === MAP_SHARED) {
    // a shared anonymous mapping is backed by an unnamed shmem file (shmem_zero_setup)
    f = new File(mm.next_file_id++, "dev/zero", len, ps, false)
  }
  if (f?.hugetlb) vm |= VM_HUGETLB
  const vma = new Vma(start, start + len, vm, f, f === null ? 0 : off)
  mm.vmas.insert(vma)
  f?.i_mmap.push(vma)
  mm.emit("k.mmap", { addr: start, len, prot, flags, file: f === null ? null : f.name, off: f === null ? 0 : off })
  return { ok: true, addr: start }
}

/** Removes the mappings of [addr, addr + len); the VMAs are split where the range cuts them. */
export function do_munmap(mm: Mm, addr: number, len: number): SysResult {
  const ps = mm.page_size
  if (addr % ps !== 0 || len <= 0) return err("EINVAL")
  len = alignUp(len, ps)
  if (addr + len > TASK_SIZE) return err("EINVAL")
  const end = addr + len
  for (const v of mm.vmas.range(addr, end)) {
    // a hugetlb VMA can only be cut at huge page boundaries
    if (v.hugetlb) {
      const h = v.file!.page_bytes
      if ((addr > v.start && addr % h !== 0) || (end < v.end && end % h !== 0)) return err("EINVAL")
    }
  }
  for (const v of mm.vmas.isolate(addr, end)) {
    if (v.uffd !== null && v.uffd.features & UFFD_FEATURE_EVENT_UNMAP) {
      uffd_event(mm, v.uffd, UFFD_EVENT_UNMAP, v.start, v.end)
    }
    zapRange(mm, v, v.start, v.end)
    mm.flush_tlb_range(v.start, v.end)
    mm.vmas.remove(v)
    if (v.file !== null) {
      const i = v.file.i_mmap.indexOf(v)
      if (i >= 0) v.file.i_mmap.splice(i, 1)
    }
    freePgtables(mm, v.start, v.end)
  }
  return { ok: true }
}

/** zap_page_range_single(): drops every entry of `vma` in [start, end). */
export function zapRange(mm: Mm, vma: Vma, start: number, end: number): void {
  walkEntries(mm, vma, start, end, true, (s) => zapEntry(mm, s))
}

/** free_pgtables(): page tables no VMA covers any more. */
function freePgtables(mm: Mm, start: number, end: number): void {
  const pt = mm.pt
  for (let base = start - (start % pt.pmd_size); base < end; base += pt.pmd_size) {
    if (mm.vmas.range(base, base + pt.pmd_size).length === 0) pt.freePmd(base / pt.pmd_size)
  }
  for (let base = start - (start % pt.pud_size); base < end; base += pt.pud_size) {
    const e = pt.puds.get(base / pt.pud_size)
    if (e !== undefined && e.flags[0] === 0 && mm.vmas.range(base, base + pt.pud_size).length === 0) {
      pt.puds.delete(base / pt.pud_size)
    }
  }
}

export { VM_HUGETLB }
