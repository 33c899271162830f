// include/linux/mm_types.h, mm/vma.c: virtual memory areas, kept sorted by address, split where an
// operation changes part of one. Adjacent VMAs are not merged: nothing the model exposes depends on it.
import type { File } from "./shmem.ts"
import type { UffdCtx } from "../fs/userfaultfd_ctx.ts"

// include/linux/mm.h
export const VM_READ = 0x1
export const VM_WRITE = 0x2
export const VM_EXEC = 0x4
export const VM_SHARED = 0x8
export const VM_MAYREAD = 0x10
export const VM_MAYWRITE = 0x20
export const VM_MAYEXEC = 0x40
export const VM_MAYSHARE = 0x80
export const VM_UFFD_MISSING = 0x200
export const VM_UFFD_WP = 0x1000
export const VM_UFFD_MINOR = 0x2000
/** The RWP series' VMA flag (RWPv10-05). */
export const VM_UFFD_RWP = 0x4000
export const VM_HUGETLB = 0x400000
export const VM_HUGEPAGE = 0x20000000
export const VM_NOHUGEPAGE = 0x40000000
export const __VM_UFFD_FLAGS = VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR | VM_UFFD_RWP

export class Vma {
  constructor(
    public start: number,
    public end: number,
    public vm_flags: number,
    /** The file mapped (shmem or hugetlbfs), null for anonymous memory. */
    public readonly file: File | null,
    /** Byte offset into the file of `start`. */
    public pgoff: number,
    public uffd: UffdCtx | null = null
  ) {}

  get anon(): boolean {
    return this.file === null
  }
  get shared(): boolean {
    return (this.vm_flags & VM_SHARED) !== 0
  }
  get hugetlb(): boolean {
    return (this.vm_flags & VM_HUGETLB) !== 0
  }
  /** vma_is_accessible(): any of read, write, exec. */
  get accessible(): boolean {
    return (this.vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0
  }
  /** File offset of `addr`. */
  offset(addr: number): number {
    return this.pgoff + (addr - this.start)
  }
  clone(start: number, end: number): Vma {
    return new Vma(start, end, this.vm_flags, this.file, this.pgoff + (start - this.start), this.uffd)
  }
}

/** The address space's VMA list (the maple tree, as a sorted array). */
export class VmaList {
  readonly list: Vma[] = []

  /** find_vma(): the first VMA with end > addr, or null. */
  find(addr: number): Vma | null {
    const l = this.list
    let lo = 0
    let hi = l.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (l[mid]!.end <= addr) lo = mid + 1
      else hi = mid
    }
    return lo < l.length ? l[lo]! : null
  }

  /**
   * The VMA the last lookup found (the per-task vmacache of old kernels): hits skip the search.
   * Read by the per-access walk, which tests it in line; only lookup() and remove() set it.
   */
  last: Vma | null = null

  /** vma_lookup(): the VMA containing addr, or null. */
  lookup(addr: number): Vma | null {
    const c = this.last
    if (c !== null && c.start <= addr && addr < c.end) return c
    const v = this.find(addr)
    if (v !== null && v.start <= addr) {
      this.last = v
      return v
    }
    return null
  }

  /** The VMAs intersecting [start, end), in address order. */
  range(start: number, end: number): Vma[] {
    const out: Vma[] = []
    let i = this.indexOf(start)
    for (; i < this.list.length; i++) {
      const v = this.list[i]!
      if (v.start >= end) break
      if (v.end > start) out.push(v)
    }
    return out
  }

  insert(v: Vma): void {
    const i = this.indexOf(v.start)
    this.list.splice(i, 0, v)
  }

  remove(v: Vma): void {
    if (this.last === v) this.last = null
    const i = this.list.indexOf(v)
    if (i >= 0) this.list.splice(i, 1)
  }

  /** vma_adjust_trans_huge(): called before a split at addr, to split a huge PMD the cut crosses. */
  beforeSplit: ((v: Vma, addr: number) => void) | null = null

  /** split_vma() at addr (inside v): v keeps [start, addr), the new VMA [addr, end) is returned. */
  split(v: Vma, addr: number): Vma {
    this.beforeSplit?.(v, addr)
    const tail = v.clone(addr, v.end)
    v.end = addr
    const i = this.list.indexOf(v)
    this.list.splice(i + 1, 0, tail)
    return tail
  }

  /** The VMAs covering [start, end) exactly: splits the first and last where the range cuts them. */
  isolate(start: number, end: number): Vma[] {
    const out: Vma[] = []
    for (let v of this.range(start, end)) {
      if (v.start < start) v = this.split(v, start)
      if (v.end > end) this.split(v, end)
      out.push(v)
    }
    return out
  }

  private indexOf(addr: number): number {
    const l = this.list
    let lo = 0
    let hi = l.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (l[mid]!.end <= addr) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
