// mm/pagewalk.c, reduced: visit the populated entries of one VMA over a range, and the helpers that
// change entries (zap, split of a PMD-mapped THP) shared by every mm/ operation.
import type { Mm } from "./mm.ts"
import { ZERO_PFN } from "./page_alloc.ts"
import {
  F_ANON,
  F_DIRTY,
  F_EXCLUSIVE,
  F_HUGE,
  F_MARKER,
  F_PRESENT,
  F_PROTNONE,
  F_SOFT_DIRTY,
  F_SWAP,
  F_UFFD,
  F_WRITE,
  F_YOUNG,
  F_ZERO,
  PTE_LEVEL,
  Slot
} from "./pgtable.ts"
import { type Vma, VM_SHARED, VM_WRITE } from "./vma.ts"

/**
 * The write permission vm_page_prot gives an entry: shared writable mappings map writable; private
 * ones only an exclusive anonymous page (everything else is COW: the zero page, a page-cache page).
 */
export function writableFor(vma: Vma, flags: number): number {
  if ((vma.vm_flags & VM_WRITE) === 0) return 0
  if ((vma.vm_flags & VM_SHARED) !== 0) return F_WRITE
  return (flags & (F_ANON | F_EXCLUSIVE)) === (F_ANON | F_EXCLUSIVE) ? F_WRITE : 0
}

/**
 * Visits every non-empty leaf entry of `vma` in [start, end) (clipped to the VMA). A PMD-mapped THP
 * only partly inside the range is split first when `split` is set, else visited whole.
 */
export function walkEntries(mm: Mm, vma: Vma, start: number, end: number, split: boolean, fn: (s: Slot) => void): void {
  const lo = Math.max(start, vma.start)
  const hi = Math.min(end, vma.end)
  if (lo >= hi) return
  const s = new Slot()
  const pt = mm.pt
  if (vma.hugetlb) {
    const step = mm.entrySize(vma)
    const level = mm.level(vma)
    for (let a = lo - (lo % step); a < hi; a += step) {
      if (pt.lookup(a, level, false, s) && s.t.flags[s.i] !== 0) fn(s)
    }
    return
  }
  const pmdSize = pt.pmd_size
  for (let base = lo - (lo % pmdSize); base < hi; base += pmdSize) {
    const pmd = pt.getPmd(base / pmdSize)
    if (pmd === undefined) continue
    if (pmd.leaf.flags[0] !== 0) {
      if (split && (lo > base || hi < base + pmdSize)) splitHugePmd(mm, vma, base)
      else {
        pt.lookup(base, PTE_LEVEL, false, s)
        fn(s)
        continue
      }
    }
    const tbl = pmd.pte
    if (tbl === null) continue
    const first = Math.max(lo, base)
    const last = Math.min(hi, base + pmdSize)
    for (let a = first; a < last; a += mm.page_size) {
      const i = (a - base) / mm.page_size
      if (tbl.flags[i] === 0) continue
      s.t = tbl
      s.i = i
      s.level = PTE_LEVEL
      s.base = a
      s.size = mm.page_size
      s.pmd = pmd
      fn(s)
    }
  }
}

/** zap_pte_range() for one entry: drops what it maps (frame reference, swap slot) and clears it. */
export function zapEntry(mm: Mm, s: Slot): void {
  const f = s.t.flags[s.i]!
  const v = s.t.val[s.i]!
  if (f & F_PRESENT) {
    if (!(f & F_ZERO)) mm.frames.put(v)
  } else if (f & F_SWAP) mm.swap.free(v)
  mm.pt.set(s, 0, 0)
}

/**
 * split_huge_pmd(): a PMD-mapped anon THP becomes 512 PTEs, each with its own frame holding the huge
 * page's word (the model's content is one word per page) and the PMD's protection, uffd bit included
 * (RWPv10-07: "each PTE gets PAGE_NONE+uffd"). A file THP would lose its marks; shmem THP is not modelled.
 */
export function splitHugePmd(mm: Mm, vma: Vma, base: number): void {
  const pt = mm.pt
  const pmd = pt.getPmd(base / pt.pmd_size)
  if (pmd === undefined || pmd.leaf.flags[0] === 0) return
  const f = pmd.leaf.flags[0]! & ~F_HUGE
  const pfn = pmd.leaf.val[0]!
  const word = f & F_PRESENT ? mm.frames.word[pfn]! : 0
  pmd.leaf.flags[0] = 0
  pmd.leaf.val[0] = 0
  if (f & F_PRESENT && !(f & F_ZERO)) mm.frames.put(pfn)
  const s = new Slot()
  for (let i = 0; i < pt.ptrs_per_pte; i++) {
    const a = base + i * mm.page_size
    if (a < vma.start || a >= vma.end) continue
    pt.lookup(a, PTE_LEVEL, true, s)
    if (f & F_ZERO) pt.set(s, f, ZERO_PFN)
    else pt.set(s, f, mm.frames.alloc(word))
  }
  mm.flush_tlb_range(base, base + pt.pmd_size)
}

/** Bits kept by pte_modify() (_PAGE_CHG_MASK): everything but the protection. */
export const CHG_MASK = F_PRESENT | F_UFFD | F_YOUNG | F_DIRTY | F_SOFT_DIRTY | F_ZERO | F_EXCLUSIVE | F_ANON | F_HUGE

/** Entries that map a frame the MMU may use. */
export const isAccessible = (f: number) => (f & (F_PRESENT | F_PROTNONE)) === F_PRESENT
export const isSwap = (f: number) => (f & F_SWAP) !== 0
export const isMarker = (f: number) => (f & F_MARKER) !== 0
