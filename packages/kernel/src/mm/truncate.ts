// mm/truncate.c, mm/shmem.c (shmem_fallocate), fs/hugetlbfs/inode.c: removing file pages. The PTEs
// that map them are zapped (unmap_mapping_range) in every VMA of the file, and with them any RWP
// protection: there is no RWP PTE marker (RWPv10-15). A punch leaves private COW copies alone; a
// truncate removes them too.
import type { Mm } from "./mm.ts"
import { F_ANON } from "./pgtable.ts"
import { cacheHasPage, cacheIsSwap, cachePfn, cacheSlot, type File } from "./shmem.ts"
import { walkEntries, zapEntry } from "./walk.ts"

/** unmap_mapping_range(): zaps the entries mapping file pages [first, last) in every mapping. */
export function unmap_mapping_range(mm: Mm, file: File, first: number, last: number, even_cows: boolean): void {
  const pb = file.page_bytes
  for (const vma of file.i_mmap) {
    const lo = vma.start + (first * pb - vma.pgoff)
    const hi = vma.start + (last * pb - vma.pgoff)
    if (hi <= vma.start || lo >= vma.end) continue
    walkEntries(mm, vma, lo, hi, true, (s) => {
      if (!even_cows && s.t.flags[s.i]! & F_ANON) return
      zapEntry(mm, s)
    })
    mm.flush_tlb_range(Math.max(lo, vma.start), Math.min(hi, vma.end))
  }
}

/** Drops file pages [first, last) from the page cache (and their swap slots). */
export function truncate_inode_pages_range(mm: Mm, file: File, first: number, last: number): void {
  const c = file.cache
  for (let i = first; i < last && i < c.length; i++) {
    const e = c[i]!
    if (cacheHasPage(e)) mm.frames.put(cachePfn(e))
    else if (cacheIsSwap(e)) mm.swap.free(cacheSlot(e))
    c[i] = 0
  }
}

/** shmem_fallocate(FALLOC_FL_PUNCH_HOLE): whole pages of [off, off + len) are removed. */
export function punch_hole(mm: Mm, file: File, off: number, len: number): void {
  const pb = file.page_bytes
  const first = Math.ceil(off / pb)
  const last = Math.min(Math.floor((off + len) / pb), file.pages)
  if (first >= last) return
  unmap_mapping_range(mm, file, first, last, false)
  truncate_inode_pages_range(mm, file, first, last)
  if (mm.trace !== undefined) mm.emit("k.punch_hole", { file: file.name, off: first * pb, len: (last - first) * pb })
}

/** shmem_setattr()/hugetlbfs_setattr() size change. */
export function truncate_setsize(mm: Mm, file: File, size: number): void {
  const pb = file.page_bytes
  const keep = Math.ceil(size / pb)
  if (keep < file.pages) {
    unmap_mapping_range(mm, file, keep, file.pages, true)
    truncate_inode_pages_range(mm, file, keep, file.pages)
  }
  file.resize(size)
}
