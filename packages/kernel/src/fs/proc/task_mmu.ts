// fs/proc/task_mmu.c: /proc/pid/pagemap entries and the PAGEMAP_SCAN ioctl, with seed 004 applied:
// PAGE_IS_ACCESSED only in VM_UFFD_RWP VMAs on entries without the uffd bit, PAGE_IS_WRITTEN only in
// VM_UFFD_WP VMAs, and unpopulated pages never ACCESSED.
import { err, highBits, type SysResult } from "../../errno.ts"
import { TASK_SIZE } from "../../mm/mmap.ts"
import type { Mm } from "../../mm/mm.ts"
import {
  F_ANON,
  F_EXCLUSIVE,
  F_HUGE,
  F_MARKER,
  F_PRESENT,
  F_SOFT_DIRTY,
  F_SWAP,
  F_UFFD,
  F_WRITE,
  F_ZERO,
  PTE_LEVEL,
  Slot
} from "../../mm/pgtable.ts"
import { type Vma, VM_UFFD_RWP, VM_UFFD_WP } from "../../mm/vma.ts"
import * as U from "../../uapi.ts"

export interface PagemapEntry {
  /** bit 63 */
  readonly present: boolean
  /** bit 62 */
  readonly swapped: boolean
  /** bit 61: file page or shared anonymous */
  readonly file_or_shared: boolean
  /** bit 57: the uffd bit (RWP-protected in an RWP VMA, write-protected in a WP VMA) */
  readonly uffd: boolean
  /** bit 56: page mapped exclusively */
  readonly exclusive: boolean
  /** bit 55 */
  readonly soft_dirty: boolean
  /** The 64-bit entry (PFN shown: the process has CAP_SYS_ADMIN). */
  readonly raw: bigint
}

/** Whether the arch has a soft-dirty bit (HAVE_ARCH_SOFT_DIRTY; riscv only with Svrsw60t59b). */
function hasSoftDirty(mm: Mm): boolean {
  const a = mm.features.arch
  if (a === "riscv64") return mm.features.has_svrsw60t59b
  return a === "x86_64" || a === "ppc64le" || a === "s390x" || a === "loongarch64"
}

/**
 * The flag bits of a pagemap entry (bits 55-63) shifted down by 55, as a number: what
 * pagemap_read() reports without the PFN or swap offset. For callers that read an entry per page
 * (the checker's accounting sweep): no BigInt and no object per read.
 */
export const PMF_SOFT_DIRTY = 1 << 0 // bit 55
export const PMF_MMAP_EXCLUSIVE = 1 << 1 // bit 56
export const PMF_UFFD_WP = 1 << 2 // bit 57
export const PMF_FILE = 1 << 6 // bit 61
export const PMF_SWAP = 1 << 7 // bit 62
export const PMF_PRESENT = 1 << 8 // bit 63

// pagemap_pmd_range() walks one entry at a time; a read never keeps the slot
const scratch = new Slot()

/** The entry's flags (PMF_*); `s` holds the lookup (its flags and value) when the entry exists. */
function entryFlags(mm: Mm, addr: number, s: Slot): number {
  const vma = mm.vmas.lookup(addr)
  if (vma === null || !mm.pt.lookup(addr, mm.level(vma), false, s)) return 0
  const f = s.t.flags[s.i]!
  const sd = hasSoftDirty(mm) && (f & F_SOFT_DIRTY) !== 0 ? PMF_SOFT_DIRTY : 0
  const uffd = (f & F_UFFD) !== 0 ? PMF_UFFD_WP : 0
  if (f & F_PRESENT) {
    const file = !(f & (F_ANON | F_ZERO))
    const exclusive = !(f & F_ZERO) && mm.frames.refs[s.t.val[s.i]!] === (file ? 2 : 1)
    return PMF_PRESENT | (file ? PMF_FILE : 0) | uffd | (exclusive ? PMF_MMAP_EXCLUSIVE : 0) | sd
  }
  if (f & F_SWAP) return PMF_SWAP | uffd | sd
  if (f & F_MARKER) return uffd | sd
  return 0
}

/** pagemap_read()'s flags only (PMF_*). */
export function pagemap_flags(mm: Mm, addr: number): number {
  return entryFlags(mm, addr, scratch)
}

export function pagemap_read(mm: Mm, addr: number): PagemapEntry {
  const s = scratch
  const fl = entryFlags(mm, addr, s)
  let raw = BigInt(fl) << 55n
  if (fl & PMF_PRESENT) {
    const f = s.t.flags[s.i]!
    const sub = s.level === PTE_LEVEL ? 0 : Math.floor((addr - s.base) / mm.page_size)
    raw |= BigInt(f & F_ZERO ? 0 : s.t.val[s.i]! + sub) & ((1n << 55n) - 1n)
  } else if (fl & PMF_SWAP) raw |= BigInt(s.t.val[s.i]!) << 5n
  return {
    present: (fl & PMF_PRESENT) !== 0,
    swapped: (fl & PMF_SWAP) !== 0,
    file_or_shared: (fl & PMF_FILE) !== 0,
    uffd: (fl & PMF_UFFD_WP) !== 0,
    exclusive: (fl & PMF_MMAP_EXCLUSIVE) !== 0,
    soft_dirty: (fl & PMF_SOFT_DIRTY) !== 0,
    raw
  }
}

export interface PmScanArg {
  readonly size: number
  readonly flags: number
  readonly start: number
  readonly end: number
  /** Entries in the output vector; Infinity for no limit, 0 for no vector. */
  readonly vec_len: number
  readonly max_pages: number
  readonly category_inverted: number
  readonly category_mask: number
  readonly category_anyof_mask: number
  readonly return_mask: number
}

export interface PageRegion {
  readonly start: number
  readonly end: number
  readonly categories: number
}

/**
 * What PAGEMAP_SCAN returns. `vec` is the user's buffer as the kernel fills it: `count` struct
 * page_region of three u64 each (start, end, categories), as Float64 triples (addresses are below
 * 2^53). `regions` is the same as objects, built the first time it is read: a scan of a large
 * guest returns hundreds of thousands of regions, and the tracker and the checker read `vec`.
 */
export type PmScanResult = SysResult<{
  count: number
  readonly regions: PageRegion[]
  vec: Float64Array
  walk_end: number
}>

/** PM_SCAN_CATEGORIES */
function scanCategories(mm: Mm): number {
  return mm.features.kernel_has_rwp ? 0x3ff : 0x1ff
}

class ScanState {
  /** The regions so far: (start, end, categories) triples, grown by doubling. */
  vec = new Float64Array(3 * 16)
  count = 0
  cur_start = -1
  cur_end = -1
  cur_cat = 0
  found_pages = 0
  walk_end = 0
  stopped = false
  /** Per flag value of the VMA being walked: its output key + 2 (0: not computed yet). */
  private memo: Uint16Array | null = null
  private memo_vma: Vma | null = null
  private memo_vcat = -1
  constructor(
    readonly arg: PmScanArg,
    readonly end: number
  ) {}

  memoFor(vma: Vma, vcat: number): Uint16Array {
    if (this.memo === null) this.memo = new Uint16Array(MEMO_FLAGS)
    else if (this.memo_vma !== vma || this.memo_vcat !== vcat) this.memo.fill(0)
    this.memo_vma = vma
    this.memo_vcat = vcat
    return this.memo
  }

  /**
   * The output key of categories c (c & return_mask when interesting, else -1), kept in memo for
   * flag value fl: outputKey(key, ...) does what output(c, ...) would.
   */
  keyOf(c: number, fl: number, memo: Uint16Array): number {
    const key = this.interesting(c) ? c & this.arg.return_mask : -1
    if (fl < MEMO_FLAGS) memo[fl] = key + 2
    return key
  }

  interesting(c: number): boolean {
    const x = c ^ this.arg.category_inverted
    const m = this.arg.category_mask
    const any = this.arg.category_anyof_mask
    return (x & m) === m && (any === 0 || (x & any) !== 0)
  }

  /** pagemap_scan_output(): adds [start, end) with categories c; false when the walk must stop. */
  output(c: number, start: number, end: number, page_size: number): boolean {
    if (!this.interesting(c)) return true
    return this.outputKey(c & this.arg.return_mask, start, end, page_size)
  }

  /** output() of a range already found interesting, with its returned categories `cat`. */
  outputKey(cat: number, start: number, end: number, page_size: number): boolean {
    if (this.arg.vec_len === 0) return true
    let n = (end - start) / page_size
    const max = this.arg.max_pages
    if (max > 0 && this.found_pages + n > max) n = max - this.found_pages
    const merge = this.cur_start >= 0 && this.cur_end === start && this.cur_cat === cat
    if (!merge && this.cur_start >= 0 && this.count + 1 >= this.arg.vec_len) {
      // the buffer is full: stop where this range starts
      this.walk_end = start
      this.stopped = true
      return false
    }
    if (n <= 0) {
      this.walk_end = start
      this.stopped = true
      return false
    }
    const stop = start + n * page_size
    if (merge) this.cur_end = stop
    else {
      this.flush()
      this.cur_start = start
      this.cur_end = stop
      this.cur_cat = cat
    }
    this.found_pages += n
    // reaching max_pages exactly does not stop the walk: the next matching page does (total > max)
    if (stop < end) {
      this.walk_end = stop
      this.stopped = true
      return false
    }
    return true
  }

  flush(): void {
    if (this.cur_start >= 0) {
      let v = this.vec
      const o = 3 * this.count
      if (o === v.length) {
        v = new Float64Array(2 * v.length)
        v.set(this.vec)
        this.vec = v
      }
      v[o] = this.cur_start
      v[o + 1] = this.cur_end
      v[o + 2] = this.cur_cat
      this.count++
    }
    this.cur_start = -1
  }
}

export function do_pagemap_scan(mm: Mm, arg: PmScanArg): PmScanResult {
  const f = mm.features
  if (!f.kernel_has_pagemap_scan) return err("ENOTTY")
  if (arg.size !== U.PAGEMAP_SCAN_ARG_SIZE) return err("EINVAL")
  if (highBits(arg.flags) || arg.flags & ~(U.PM_SCAN_WP_MATCHING | U.PM_SCAN_CHECK_WPASYNC)) return err("EINVAL")
  const cats = scanCategories(mm)
  for (const m of [arg.category_inverted, arg.category_mask, arg.category_anyof_mask, arg.return_mask]) {
    if (highBits(m)) return err("EINVAL")
  }
  if ((arg.category_inverted | arg.category_mask | arg.category_anyof_mask | arg.return_mask) & ~cats)
    return err("EINVAL")
  if (arg.start % mm.page_size !== 0) return err("EINVAL")
  if (arg.end < arg.start || arg.end > TASK_SIZE) return err("EFAULT")
  const end = Math.ceil(arg.end / mm.page_size) * mm.page_size
  const st = new ScanState(arg, end)
  let errno: "EPERM" | null = null
  for (const vma of mm.vmas.range(arg.start, end)) {
    const wp_allowed =
      (vma.vm_flags & VM_UFFD_WP) !== 0 && vma.uffd !== null && (vma.uffd.features & U.UFFD_FEATURE_WP_ASYNC) !== 0
    if (arg.flags & U.PM_SCAN_CHECK_WPASYNC && !wp_allowed) {
      errno = "EPERM"
      st.walk_end = Math.max(arg.start, vma.start)
      break
    }
    if (arg.flags & U.PM_SCAN_WP_MATCHING && !wp_allowed) continue
    let vcat = wp_allowed ? U.PAGE_IS_WPALLOWED : 0
    if (hasSoftDirty(mm)) vcat |= U.PAGE_IS_SOFT_DIRTY // a new VMA is always VM_SOFTDIRTY
    // pagemap_scan_test_walk(): skip the VMA when its category cannot match the WPALLOWED bit asked for
    const wpm = arg.category_mask & U.PAGE_IS_WPALLOWED
    if (((vcat ^ arg.category_inverted) & wpm) !== wpm) continue
    if (!scanVma(mm, st, vma, Math.max(arg.start, vma.start), Math.min(end, vma.end), vcat, wp_allowed)) break
  }
  st.flush()
  // pagemap_scan_pmd_entry(): write-protected entries are flushed before the ioctl returns
  if (arg.flags & U.PM_SCAN_WP_MATCHING) mm.flush_tlb_range(arg.start, end)
  if (errno !== null) return err(errno)
  if (!st.stopped) st.walk_end = end
  return scanResult(st.vec.subarray(0, 3 * st.count), st.walk_end)
}

/** A successful result over `vec`, its `regions` built from it when first read (and kept). */
function scanResult(vec: Float64Array, walk_end: number): PmScanResult {
  let regions: PageRegion[] | null = null
  const r = { ok: true as const, count: vec.length / 3, vec, walk_end }
  return Object.defineProperty(r, "regions", {
    enumerable: true,
    get(): PageRegion[] {
      if (regions === null) {
        regions = []
        for (let o = 0; o < vec.length; o += 3)
          regions.push({ start: vec[o]!, end: vec[o + 1]!, categories: vec[o + 2]! })
      }
      return regions
    }
  }) as typeof r & { readonly regions: PageRegion[] }
}

/** Per-entry categories (pagemap_page_category / pagemap_thp_category / pagemap_hugetlb_category). */
function entryCategory(mm: Mm, vma: Vma, f: number, huge: boolean): number {
  let c = 0
  const rwp = (vma.vm_flags & VM_UFFD_RWP) !== 0
  const wpv = (vma.vm_flags & VM_UFFD_WP) !== 0
  // before the series PAGE_IS_WRITTEN was reported outside WP VMAs too (RWPv10-11 narrowed it)
  const written = mm.features.kernel_has_rwp ? wpv : true
  if (f & F_PRESENT) {
    c |= U.PAGE_IS_PRESENT
    if (!(f & (F_ANON | F_ZERO))) c |= U.PAGE_IS_FILE
    if (f & F_ZERO) c |= U.PAGE_IS_PFNZERO
    if (f & F_SOFT_DIRTY && hasSoftDirty(mm)) c |= U.PAGE_IS_SOFT_DIRTY
  } else if (f & (F_SWAP | F_MARKER)) {
    c |= U.PAGE_IS_SWAPPED
    if (f & F_SOFT_DIRTY && hasSoftDirty(mm)) c |= U.PAGE_IS_SOFT_DIRTY
  } else {
    // pte_none: WRITTEN only in WP VMAs (mm-new fix for unpopulated ptes), never ACCESSED
    const bug = rwp && mm.mutants.scan_holes_accessed ? U.PAGE_IS_ACCESSED : 0
    return (huge ? U.PAGE_IS_HUGE : 0) | (wpv ? U.PAGE_IS_WRITTEN : 0) | bug
  }
  if (written && !(f & F_UFFD)) c |= U.PAGE_IS_WRITTEN
  if (rwp && !(f & F_UFFD)) c |= U.PAGE_IS_ACCESSED
  if (huge) c |= U.PAGE_IS_HUGE
  return c
}

/** Walks one VMA over [lo, hi); false when the walk stopped. */
function scanVma(mm: Mm, st: ScanState, vma: Vma, lo: number, hi: number, vcat: number, wp_allowed: boolean): boolean {
  const ps = mm.page_size
  const pt = mm.pt
  const wpv = (vma.vm_flags & VM_UFFD_WP) !== 0
  // a hole with no page table: the VMA's category (and WRITTEN in a non-hugetlb WP VMA)
  const holeBug = vma.vm_flags & VM_UFFD_RWP && mm.mutants.scan_holes_accessed ? U.PAGE_IS_ACCESSED : 0
  const holeCat = vcat | (wpv && !vma.hugetlb ? U.PAGE_IS_WRITTEN : 0) | holeBug
  if (vma.hugetlb) {
    const step = mm.entrySize(vma)
    const level = mm.level(vma)
    const s = new Slot()
    for (let a = lo - (lo % step); a < hi; a += step) {
      const from = Math.max(a, lo)
      const to = Math.min(a + step, hi)
      const c = pt.lookup(a, level, false, s) ? vcat | entryCategory(mm, vma, s.t.flags[s.i]!, true) : holeCat
      if (!st.output(c, from, to, ps)) return false
      if (wp_allowed && st.arg.flags & U.PM_SCAN_WP_MATCHING && pt.lookup(a, level, false, s)) wpMatch(s, st, c)
    }
    return true
  }
  const pmdSize = pt.pmd_size
  for (let base = lo - (lo % pmdSize); base < hi; base += pmdSize) {
    const from = Math.max(base, lo)
    const to = Math.min(base + pmdSize, hi)
    const pmd = pt.getPmd(base / pmdSize)
    if (pmd === undefined || (pmd.pte === null && pmd.leaf.flags[0] === 0)) {
      if (!st.output(holeCat, from, to, ps)) return false
      continue
    }
    const lf = pmd.leaf.flags[0]!
    if (lf !== 0) {
      const c = vcat | entryCategory(mm, vma, lf & ~F_HUGE, true)
      if (!st.output(c, from, to, ps)) return false
      continue
    }
    const tbl = pmd.pte!
    if (wp_allowed && st.arg.flags & U.PM_SCAN_WP_MATCHING) {
      for (let a = from; a < to; a += ps) {
        const i = (a - base) / ps
        const fl = tbl.flags[i]!
        const c = vcat | entryCategory(mm, vma, fl, false)
        if (!st.output(c, a, a + ps, ps)) return false
        if (fl & F_PRESENT && st.interesting(c)) tbl.flags[i] = (fl | F_UFFD) & ~F_WRITE
      }
      continue
    }
    if (!scanTable(mm, st, vma, vcat, tbl.flags, ((from - base) / ps) | 0, ((to - base) / ps) | 0, from)) return false
  }
  return true
}

/** Flag values a memo covers (every F_* bit is below F_HUGE << 1). */
const MEMO_FLAGS = F_HUGE << 1

/**
 * One PTE table, entries [i0, i1): pages with equal flags have equal categories, and consecutive
 * pages with the same output key are one output range, so output() runs once per run, not per
 * page. The key of a page is its returned categories when interesting, else -1: adjacent runs of
 * different categories but equal key would merge in output() anyway, and output() ignores pages that
 * are not interesting (outputKey() is output() past that test). The key of each flag value is computed once per VMA (st.memo).
 */
function scanTable(
  mm: Mm,
  st: ScanState,
  vma: Vma,
  vcat: number,
  flags: Uint16Array,
  i0: number,
  i1: number,
  addr0: number
): boolean {
  const ps = mm.page_size
  const memo = st.memoFor(vma, vcat)
  let runKey = -2
  let runStart = i0
  let i = i0
  while (i < i1) {
    const fl = flags[i]!
    let key = fl < MEMO_FLAGS ? memo[fl]! - 2 : -2
    if (key === -2) key = st.keyOf(vcat | entryCategory(mm, vma, fl, false), fl, memo)
    if (key !== runKey) {
      if (runKey >= 0 && !st.outputKey(runKey, addr0 + (runStart - i0) * ps, addr0 + (i - i0) * ps, ps)) return false
      runKey = key
      runStart = i
    }
    // the entries with the same flags that follow: a loop without calls, which V8 keeps tight
    i++
    while (i < i1 && flags[i] === fl) i++
  }
  return runKey < 0 || st.outputKey(runKey, addr0 + (runStart - i0) * ps, addr0 + (i1 - i0) * ps, ps)
}

function wpMatch(s: Slot, st: ScanState, c: number): void {
  const fl = s.t.flags[s.i]!
  if (fl & F_PRESENT && st.interesting(c)) s.t.flags[s.i] = (fl | F_UFFD) & ~F_WRITE
}

export { F_EXCLUSIVE }
