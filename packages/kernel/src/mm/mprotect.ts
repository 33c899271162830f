// mm/mprotect.c: change_protection() and its userfaultfd modes (MM_CP_UFFD_WP[_RESOLVE] and the
// series' MM_CP_UFFD_RWP[_RESOLVE], RWPv10-06), and mprotect(2).
import type { Mm } from "./mm.ts"
import { F_HUGE, F_MARKER, F_PRESENT, F_PROTNONE, F_SWAP, F_UFFD, F_WRITE, F_ZERO, PTE_LEVEL, Slot } from "./pgtable.ts"
import { splitHugePmd, walkEntries, writableFor } from "./walk.ts"
import { type Vma, VM_UFFD_RWP, VM_UFFD_WP, VM_WRITE } from "./vma.ts"

export const MM_CP_PROT = 0
/** Write-protect for uffd-wp (pte_mkuffd_wp; markers on empty entries where the VMA uses them). */
export const MM_CP_UFFD_WP = 1
export const MM_CP_UFFD_WP_RESOLVE = 2
/** Read-write protect: PAGE_NONE + uffd bit on every present and swap entry. */
export const MM_CP_UFFD_RWP = 3
export const MM_CP_UFFD_RWP_RESOLVE = 4

/** Flag values the PTE-table loop memoizes (every F_* bit is below F_HUGE << 1). */
const MEMO_FLAGS = F_HUGE << 1

/**
 * Changed entries over [start, end) of one VMA; returns how many changed. Does not flush.
 * walkEntries() order and effects; the entries of a PTE table are changed in one loop over its
 * flags, with the new flags of each flag value computed once per call (newFlags is a function of
 * the VMA, the flags and cp only).
 */
export function change_protection(mm: Mm, vma: Vma, start: number, end: number, cp: number): number {
  let n = 0
  const change = (s: Slot) => {
    const f = s.t.flags[s.i]!
    const nf = newFlags(vma, f, cp)
    if (nf !== f) {
      if (nf === 0) mm.pt.set(s, 0, 0)
      else s.t.flags[s.i] = nf
      n++
    }
  }
  const pt = mm.pt
  const ps = mm.page_size
  const lo = Math.max(start, vma.start)
  const hi = Math.min(end, vma.end)
  if (vma.hugetlb || lo % ps !== 0 || hi % ps !== 0) {
    walkEntries(mm, vma, start, end, true, change)
    return n
  }
  const s = new Slot()
  const pmdSize = pt.pmd_size
  let memo: Uint16Array | null = null
  for (let base = lo - (lo % pmdSize); base < hi; base += pmdSize) {
    const pmd = pt.getPmd(base / pmdSize)
    if (pmd === undefined) continue
    if (pmd.leaf.flags[0] !== 0) {
      if (lo > base || hi < base + pmdSize) splitHugePmd(mm, vma, base)
      else {
        pt.lookup(base, PTE_LEVEL, false, s)
        change(s)
        continue
      }
    }
    const tbl = pmd.pte
    if (tbl === null) continue
    // int32 bounds: a loop over doubles converts its index on every step
    const i0 = ((Math.max(lo, base) - base) / ps) | 0
    const i1 = ((Math.min(hi, base + pmdSize) - base) / ps) | 0
    if (memo === null) memo = new Uint16Array(MEMO_FLAGS)
    const flags = tbl.flags
    let i = i0
    while (i < i1) {
      // a run of entries with equal flags: one new value, written in a loop without calls
      const f = flags[i]!
      let j = i + 1
      while (j < i1 && flags[j] === f) j++
      if (f !== 0) {
        let nf: number
        if (f < MEMO_FLAGS) {
          nf = memo[f]! - 1
          if (nf < 0) {
            nf = newFlags(vma, f, cp)
            memo[f] = nf + 1
          }
        } else nf = newFlags(vma, f, cp)
        if (nf !== f) {
          if (nf === 0) {
            for (let e = i; e < j; e++) {
              s.t = tbl
              s.i = e
              s.level = PTE_LEVEL
              s.base = base + e * ps
              s.size = ps
              s.pmd = pmd
              pt.set(s, 0, 0)
            }
          } else for (let e = i; e < j; e++) flags[e] = nf
          n += j - i
        }
      }
      i = j
    }
  }
  return n
}

function newFlags(vma: Vma, f: number, cp: number): number {
  const present = (f & F_PRESENT) !== 0
  switch (cp) {
    case MM_CP_UFFD_RWP:
      if (present) return f & F_PROTNONE && f & F_UFFD ? f : (f | F_PROTNONE | F_UFFD) & ~F_WRITE
      if (f & F_SWAP) return f | F_UFFD
      return f // pte_none and markers: nothing (no RWP marker exists)
    case MM_CP_UFFD_RWP_RESOLVE:
      if (f & F_MARKER) return 0
      if (!(f & F_UFFD)) return f
      if (present) return (f & ~(F_PROTNONE | F_UFFD | F_WRITE)) | protFlags(vma, f & ~F_UFFD)
      return f & ~F_UFFD
    case MM_CP_UFFD_WP:
      if (present || f & F_SWAP) return (f | F_UFFD) & ~F_WRITE
      return f
    case MM_CP_UFFD_WP_RESOLVE:
      if (f & F_MARKER) return 0
      if (!(f & F_UFFD)) return f
      if (present) return (f & ~(F_UFFD | F_WRITE)) | (f & F_PROTNONE ? 0 : writableFor(vma, f))
      return f & ~F_UFFD
    default:
      if (!present) return f
      return (f & ~(F_PROTNONE | F_WRITE)) | protFlags(vma, f)
  }
}

/**
 * The protection bits vm_page_prot gives a present entry: PAGE_NONE on an inaccessible VMA, and in
 * an RWP VMA whenever the uffd bit is set ("mprotect cannot unprotect", RWPv10-07); write where
 * writableFor() allows and no uffd-wp bit forbids it.
 */
export function protFlags(vma: Vma, f: number): number {
  if (!vma.accessible) return F_PROTNONE
  if (f & F_UFFD) {
    if (vma.vm_flags & VM_UFFD_RWP) return F_PROTNONE
    if (vma.vm_flags & VM_UFFD_WP) return 0
  }
  if (f & F_ZERO) return 0
  return writableFor(vma, f)
}

/** The uffd-wp marker an empty entry gets under MM_CP_UFFD_WP (file VMAs, or WP_UNPOPULATED anon). */
export function installWpMarkers(mm: Mm, vma: Vma, start: number, end: number): void {
  const step = mm.entrySize(vma)
  const s = mm.slot
  const lo = Math.max(start, vma.start)
  const hi = Math.min(end, vma.end)
  for (let a = lo; a < hi; a += step) {
    mm.pt.lookup(a, mm.level(vma), true, s)
    if (s.t.flags[s.i] === 0) mm.pt.set(s, F_MARKER | F_UFFD, 0)
  }
}

export const vmFlagsOfProt = (prot: number) => prot & 0x7 // VM_READ|VM_WRITE|VM_EXEC share PROT_* values
export { VM_WRITE }
