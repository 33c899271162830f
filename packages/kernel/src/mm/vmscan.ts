// mm/vmscan.c and mm/swap_state.c via MADV_PAGEOUT: reclaim now. An anonymous page goes to swap and
// its PTE becomes a swap entry that keeps the uffd bit (RWPv10-07: pte_swp_mkuffd); a shmem page goes
// to swap inside the file and every PTE mapping it is zapped, so its RWP protection is lost (man
// pages of seed 002: "shmem and file-backed memory lose it").
import type { Mm } from "./mm.ts"
import { F_EXCLUSIVE, F_HUGE, F_PRESENT, F_SOFT_DIRTY, F_SWAP, F_UFFD, F_ZERO, PTE_LEVEL } from "./pgtable.ts"
import { cacheHasPage, cachePfn, swapEntry } from "./shmem.ts"
import { unmap_mapping_range } from "./truncate.ts"
import { splitHugePmd, walkEntries } from "./walk.ts"
import type { Vma } from "./vma.ts"

export function pageout_range(mm: Mm, vma: Vma, start: number, end: number): void {
  if (!mm.features.swap) return
  if (vma.anon) {
    // a PMD-mapped THP is split, then each page reclaimed (deferred_split + shrink_folio_list)
    walkEntries(mm, vma, start, end, true, (s) => {
      if (s.level !== PTE_LEVEL) splitHugePmd(mm, vma, s.base)
    })
    walkEntries(mm, vma, start, end, true, (s) => {
      const f = s.t.flags[s.i]!
      if (!(f & F_PRESENT) || f & (F_ZERO | F_HUGE)) return
      const pfn = s.t.val[s.i]!
      if (mm.frames.refs[pfn] !== 1) return // mapped elsewhere too: not ours to reclaim alone
      const slot = mm.swap.store(mm.frames.word[pfn]!)
      mm.frames.put(pfn)
      const keep = mm.mutants.swapout_drops_uffd ? F_EXCLUSIVE | F_SOFT_DIRTY : F_UFFD | F_EXCLUSIVE | F_SOFT_DIRTY
      mm.pt.set(s, F_SWAP | (f & keep), slot)
      mm.stats.swapouts++
    })
    mm.flush_tlb_range(Math.max(start, vma.start), Math.min(end, vma.end))
    return
  }
  if (vma.hugetlb) return
  const file = vma.file!
  const pb = file.page_bytes
  const first = Math.floor(vma.offset(Math.max(start, vma.start)) / pb)
  const last = Math.min(Math.ceil(vma.offset(Math.min(end, vma.end)) / pb), file.pages)
  for (let i = first; i < last; i++) {
    const e = file.cache[i]!
    if (!cacheHasPage(e)) continue
    unmap_mapping_range(mm, file, i, i + 1, false)
    const pfn = cachePfn(e)
    if (mm.frames.refs[pfn] !== 1) continue // still pinned by a private COW? no: COW copies are other frames
    file.cache[i] = swapEntry(mm.swap.store(mm.frames.word[pfn]!))
    mm.frames.put(pfn)
    mm.stats.swapouts++
  }
}
