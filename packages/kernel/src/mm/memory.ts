// mm/memory.c, mm/huge_memory.c, mm/hugetlb.c, mm/shmem.c fault paths: one access by a task goes
// through its TLB, then the page-table walk, then handle_mm_fault() until it completes, sleeps in
// handle_userfault(), or gets a signal. This is the per-access path: no allocation on a TLB hit or a
// walk that finds an accessible entry.
import { TLB_USER, TLB_WRITE } from "@rwpsim/hw"
import { FAULT_RETRY, handle_userfault } from "../fs/handle_userfault.ts"
import {
  ACCESS_BLOCKED,
  ACCESS_DONE,
  ACCESS_F_FAULT,
  ACCESS_F_RWP_ASYNC,
  ACCESS_F_SWAPIN,
  ACCESS_F_TLB_MISS,
  ACCESS_SIGBUS,
  ACCESS_SIGSEGV,
  UFFD_FEATURE_RWP_ASYNC,
  UFFD_FEATURE_WP_ASYNC
} from "../uapi.ts"
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
  PMD_LEVEL,
  PTE_LEVEL,
  type Slot
} from "./pgtable.ts"
import { cacheHasPage, cacheIsSwap, cachePfn, cacheSlot, pageEntry } from "./shmem.ts"
import { writableFor } from "./walk.ts"
import {
  VM_EXEC,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_NOHUGEPAGE,
  VM_READ,
  VM_UFFD_MINOR,
  VM_UFFD_MISSING,
  VM_UFFD_RWP,
  VM_UFFD_WP,
  VM_WRITE,
  type Vma
} from "./vma.ts"

/** The access state shared with the Kernel facade. */
export interface AccessState {
  access_value: number
  access_flags: number
}

const MAX_FAULT_LOOPS = 16

/**
 * One access of `addr` by `task`. user=false is a kernel-mode access (copy_from_user, GUP) by a VMM
 * thread. Returns ACCESS_DONE, ACCESS_BLOCKED, ACCESS_SIGSEGV or ACCESS_SIGBUS.
 * This entry is small enough for V8 to inline into the guest's burst loop, together with the
 * layers above it: it turns the address into an int32 page index above the page tables' window
 * (0x7f0000000000 up, where mmap places mappings) and an int32 offset, and the rest of the access
 * (the TLB, the walk, the fault) takes those, never the address as a double: a double argument of
 * a call that is not inlined is a heap number, one allocation per access.
 */
export function access(
  mm: Mm,
  st: AccessState,
  task: number,
  addr: number,
  write: boolean,
  value: number,
  user: boolean
): number {
  // page sizes are powers of two: the product is exact, as the quotient is
  const vpn = Math.floor(addr * mm.inv_page_size)
  const rel = vpn - mm.pt.window_vpn
  if (rel >= 0 && rel < mm.pt.window_pages)
    return access_rel(mm, st, task, rel | 0, (addr - vpn * mm.page_size) | 0, write, value, user)
  return access_far(mm, st, task, addr, write, value, user)
}

/**
 * access() of the first byte of page `rel` of the page tables' window (window_page() gives it): for
 * callers on the per-access path, which pass the page as an int32 and never the address as a
 * double (a double argument of a call V8 does not inline is a heap number, one per access).
 */
export function access_window(
  mm: Mm,
  st: AccessState,
  task: number,
  rel: number,
  write: boolean,
  value: number,
  user: boolean
): number {
  if (rel >= 0 && rel < mm.pt.window_pages) return access_rel(mm, st, task, rel, 0, write, value, user)
  return access_far(mm, st, task, mm.pt.window_addr + rel * mm.page_size, write, value, user)
}

/** The window page of `addr` (what access_window() takes): its vpn less the window's base. */
export function window_page(mm: Mm, addr: number): number {
  return Math.floor(addr * mm.inv_page_size) - mm.pt.window_vpn
}

/**
 * Page `rel` pages above the window's base, at byte `off` in it: the TLB; on a miss (or a hit
 * without write permission) the common walk (a PTE-mapped, accessible page in a non-hugetlb VMA,
 * with no Slot bookkeeping, an async RWP fault resolved in line); else access_slow(). One function,
 * too large for V8 to inline into its callers: what they inline of the access stays small, so that
 * the guest's burst loop takes in every layer above it and never passes the address as a double.
 */
function access_rel(
  mm: Mm,
  st: AccessState,
  task: number,
  rel: number,
  off: number,
  write: boolean,
  value: number,
  user: boolean
): number {
  st.access_flags = 0
  let hit = -1
  if (task < mm.tlbs.length) {
    const tlb = mm.tlbs[task]!
    hit = tlb.lookup_rel(rel)
    if (hit >= 0) {
      const pfn = tlb.entry_pfn(hit)
      if (!write) {
        st.access_value = mm.frames.word[pfn]!
        return ACCESS_DONE
      }
      if ((tlb.entry_flags(hit) & TLB_WRITE) !== 0) {
        mm.frames.word[pfn] = value
        return ACCESS_DONE
      }
    }
    st.access_flags = ACCESS_F_TLB_MISS
  }
  const pt = mm.pt
  const addr = pt.window_addr + rel * mm.page_size + off
  if (mm.mmap_lock.writer >= 0 && mm.mmap_lock.writer !== task) {
    mm.blocked.set(task, mm.mmap_lock)
    mm.last_blocked = task
    return ACCESS_BLOCKED
  }
  // vma_lookup(), its cache hit in line: on the per-access path the address stays a double in a
  // register (a call that takes it boxes it: a heap number per access)
  let fv = mm.vmas.last
  if (fv === null || !(fv.start <= addr && addr < fv.end)) fv = vmaAt(mm, rel, off)
  if (fv !== null && (fv.vm_flags & VM_HUGETLB) === 0 && (fv.vm_flags & (write ? VM_WRITE : VM_READ)) !== 0) {
    const o = rel >>> pt.pte_shift
    const k1 = o < pt.window_pte.length ? pt.window_pte[o]! : 0
    if (k1 > 0) {
      const j = (k1 - 1) * pt.ptrs_per_pte + (rel & pt.pte_mask)
      const flags = pt.pool_flags
      let f = flags[j]!
      if ((f & (F_PRESENT | F_PROTNONE | F_UFFD)) === (F_PRESENT | F_PROTNONE | F_UFFD)) {
        // an RWP-protected page: do_uffd_rwp()'s async resolution and the walk's retry, in line,
        // when the retry will find the page accessible (else access_slow() does both)
        const ctx = fv.uffd
        const upgrade = writableFor(fv, f)
        if (
          (fv.vm_flags & VM_UFFD_RWP) === 0 ||
          ctx === null ||
          (ctx.features & UFFD_FEATURE_RWP_ASYNC) === 0 ||
          mm.mutants.async_queues_message ||
          (write && upgrade === 0)
        )
          return access_slow_at(mm, st, task, rel, off, write, value, user, hit)
        f = (f & ~(F_PROTNONE | F_UFFD | F_WRITE)) | F_YOUNG | upgrade
        flags[j] = f
        mm.stats.rwp_faults_async++
        st.access_flags |= ACCESS_F_RWP_ASYNC
        if (mm.trace !== undefined) mm.emit("k.rwp_async", { task, addr: addr - off, write })
        st.access_flags |= ACCESS_F_FAULT
      } else if ((f & (F_PRESENT | F_PROTNONE)) !== F_PRESENT || (write && (f & F_WRITE) === 0))
        return access_slow_at(mm, st, task, rel, off, write, value, user, hit)
      flags[j] = write ? f | F_YOUNG | F_DIRTY | F_SOFT_DIRTY : f | F_YOUNG
      const pfn = pt.pool_val[j]!
      if (write) mm.frames.word[pfn] = value
      else st.access_value = mm.frames.word[pfn]!
      if (task < mm.tlbs.length) {
        const tlb = mm.tlbs[task]!
        const tf = (f & F_WRITE && (write || f & F_DIRTY) ? TLB_WRITE : 0) | TLB_USER
        if (hit >= 0) tlb.refill(hit, pfn, tf)
        else tlb.fill_rel(rel, pfn, tf)
      }
      return ACCESS_DONE
    }
  }
  return access_slow_at(mm, st, task, rel, off, write, value, user, hit)
}

/** An address outside the window (MAP_FIXED far away): the TLB, then access_slow(). */
function access_far(
  mm: Mm,
  st: AccessState,
  task: number,
  addr: number,
  write: boolean,
  value: number,
  user: boolean
): number {
  st.access_flags = 0
  let hit = -1
  if (task < mm.tlbs.length) {
    const tlb = mm.tlbs[task]!
    hit = tlb.lookup(Math.floor(addr / mm.page_size))
    if (hit >= 0) {
      const pfn = tlb.entry_pfn(hit)
      if (!write) {
        st.access_value = mm.frames.word[pfn]!
        return ACCESS_DONE
      }
      if ((tlb.entry_flags(hit) & TLB_WRITE) !== 0) {
        mm.frames.word[pfn] = value
        return ACCESS_DONE
      }
    }
    st.access_flags = ACCESS_F_TLB_MISS
  }
  return access_slow(mm, st, task, addr, write, value, user, hit)
}

/** vma_lookup() of the page `rel` pages above the window's base, at byte `off` in it. */
function vmaAt(mm: Mm, rel: number, off: number): Vma | null {
  return mm.vmas.lookup(mm.pt.window_addr + rel * mm.page_size + off)
}

/** access_slow() of the page `rel` pages above the window's base, at byte `off` in it. */
function access_slow_at(
  mm: Mm,
  st: AccessState,
  task: number,
  rel: number,
  off: number,
  write: boolean,
  value: number,
  user: boolean,
  hit: number
): number {
  return access_slow(mm, st, task, mm.pt.window_addr + rel * mm.page_size + off, write, value, user, hit)
}

/** The walk that may fault: handle_mm_fault() until the entry is accessible, the task sleeps or a signal. */
function access_slow(
  mm: Mm,
  st: AccessState,
  task: number,
  addr: number,
  write: boolean,
  value: number,
  user: boolean,
  hit: number
): number {
  const tlb = task < mm.tlbs.length ? mm.tlbs[task]! : null
  const vpn = Math.floor(addr / mm.page_size)
  if (mm.mmap_lock.writer >= 0 && mm.mmap_lock.writer !== task) {
    mm.blocked.set(task, mm.mmap_lock)
    mm.last_blocked = task
    return ACCESS_BLOCKED
  }
  const s = mm.slot
  for (let loop = 0; loop < MAX_FAULT_LOOPS; loop++) {
    const vma = mm.vmas.lookup(addr)
    if (vma === null) return ACCESS_SIGSEGV
    // arch access_error(): the VMA's permissions decide before the page tables do.
    const vf = vma.vm_flags
    if (write ? (vf & VM_WRITE) === 0 : (vf & (VM_READ | VM_WRITE | VM_EXEC)) === 0) return ACCESS_SIGSEGV
    const found = mm.pt.lookup(addr, mm.level(vma), false, s)
    const f = found ? s.t.flags[s.i]! : 0
    if ((f & (F_PRESENT | F_PROTNONE)) === F_PRESENT && (!write || (f & F_WRITE) !== 0)) {
      s.t.flags[s.i] = write ? f | F_YOUNG | F_DIRTY | F_SOFT_DIRTY : f | F_YOUNG
      const pfn = s.t.val[s.i]!
      if (write) mm.frames.word[pfn] = value
      else st.access_value = mm.frames.word[pfn]!
      if (tlb !== null) {
        const tf = (f & F_WRITE && (write || f & F_DIRTY) ? TLB_WRITE : 0) | TLB_USER
        // a hit without write permission is refilled in place; a miss takes the set's next way
        if (hit >= 0 && loop === 0) tlb.refill(hit, pfn, tf)
        else if (tlb.probe(vpn)) tlb.insert(vpn, pfn, tf)
        else tlb.fill(vpn, pfn, tf)
      }
      return ACCESS_DONE
    }
    const r = handle_mm_fault(mm, st, task, vma, addr, write, user, found ? s : null, f)
    if (r !== FAULT_RETRY) return r
    st.access_flags |= ACCESS_F_FAULT
  }
  throw new Error(`access of 0x${addr.toString(16)}: the fault did not converge`)
}

/** handle_mm_fault(): FAULT_RETRY when the entry changed and the walk should run again. */
function handle_mm_fault(
  mm: Mm,
  st: AccessState,
  task: number,
  vma: Vma,
  addr: number,
  write: boolean,
  user: boolean,
  s: Slot | null,
  f: number
): number {
  if (s !== null && f & F_PRESENT) {
    if (f & F_PROTNONE) {
      // handle_pte_fault(): protnone in an accessible VMA is RWP (uffd bit, VM_UFFD_RWP) or a NUMA hint.
      if (vma.vm_flags & VM_UFFD_RWP && f & F_UFFD) return do_uffd_rwp(mm, st, task, vma, addr, write, user, s, f)
      mm.stats.page_faults++
      mm.pt.set(s, (f & ~F_PROTNONE) | F_YOUNG | writableFor(vma, f), s.t.val[s.i]!) // do_numa_page()
      return FAULT_RETRY
    }
    return do_wp_page(mm, task, vma, addr, user, s, f)
  }
  if (s !== null && f & F_SWAP) return do_swap_page(mm, st, vma, write, s, f)
  if (vma.hugetlb) return hugetlb_no_page(mm, task, vma, addr, write, user, f)
  if (vma.anon) return do_anonymous_page(mm, task, vma, addr, write, user, f)
  return do_shared_fault(mm, st, task, vma, addr, write, user, f)
}

/** The RWP series' do_uffd_rwp() / do_huge_pmd_uffd_rwp() / the hugetlb RWP branch. */
function do_uffd_rwp(
  mm: Mm,
  st: AccessState,
  task: number,
  vma: Vma,
  addr: number,
  write: boolean,
  user: boolean,
  s: Slot,
  f: number
): number {
  const ctx = vma.uffd
  if (ctx !== null && ctx.features & UFFD_FEATURE_RWP_ASYNC) {
    // RWPv10-12: restore vm_page_prot, clear the uffd bit, mark young, and upgrade write where the
    // kernel may (never on hugetlb); no message.
    const upgrade = vma.hugetlb ? (vma.shared ? writableFor(vma, f) : 0) : writableFor(vma, f)
    mm.pt.set(s, (f & ~(F_PROTNONE | F_UFFD | F_WRITE)) | F_YOUNG | upgrade, s.t.val[s.i]!)
    mm.stats.rwp_faults_async++
    st.access_flags |= ACCESS_F_RWP_ASYNC
    if (mm.mutants.async_queues_message) queueStrayMessage(mm, task, vma, addr, write)
    if (mm.trace !== undefined) mm.emit("k.rwp_async", { task, addr: addr - (addr % mm.page_size), write })
    return FAULT_RETRY
  }
  mm.stats.rwp_faults_sync++
  return handle_userfault(mm, task, vma, addr, VM_UFFD_RWP, write, user)
}

/** Mutant async-queues-message: a message nobody waits for (the task does not sleep). */
function queueStrayMessage(mm: Mm, task: number, vma: Vma, addr: number, write: boolean): void {
  if (handle_userfault(mm, task, vma, addr, VM_UFFD_RWP, write, true) === ACCESS_BLOCKED) mm.blocked.delete(task)
}

/** do_wp_page(): a write to a present entry that is not writable. */
function do_wp_page(mm: Mm, task: number, vma: Vma, addr: number, user: boolean, s: Slot, f: number): number {
  if (vma.vm_flags & VM_UFFD_WP && f & F_UFFD) {
    const ctx = vma.uffd
    if (ctx !== null && ctx.features & UFFD_FEATURE_WP_ASYNC) {
      mm.pt.set(s, (f & ~F_UFFD) | writableFor(vma, f | F_EXCLUSIVE), s.t.val[s.i]!)
      return FAULT_RETRY
    }
    mm.stats.wp_faults++
    return handle_userfault(mm, task, vma, addr, VM_UFFD_WP, true, user)
  }
  mm.stats.page_faults++
  const pfn = s.t.val[s.i]!
  if ((f & (F_ANON | F_EXCLUSIVE)) === (F_ANON | F_EXCLUSIVE) || vma.shared) {
    mm.pt.set(s, f | F_WRITE | F_DIRTY, pfn) // wp_page_reuse()
    return FAULT_RETRY
  }
  // wp_page_copy(): COW of the zero page, a page-cache page of a private mapping, or a shared anon page.
  const word = f & F_ZERO ? 0 : mm.frames.word[pfn]!
  const nf = mm.frames.alloc(word)
  if (!(f & F_ZERO)) mm.frames.put(pfn)
  const keep = f & (F_HUGE | F_SOFT_DIRTY)
  mm.pt.set(s, keep | F_PRESENT | F_ANON | F_EXCLUSIVE | F_WRITE | F_DIRTY | F_YOUNG, nf)
  mm.flush_tlb_range(s.base, s.base + s.size)
  return FAULT_RETRY
}

/** do_swap_page(): brings an anonymous page back; an RWP-armed swap entry comes back PAGE_NONE + uffd. */
function do_swap_page(mm: Mm, st: AccessState, vma: Vma, write: boolean, s: Slot, f: number): number {
  const slot = s.t.val[s.i]!
  const pfn = mm.frames.alloc(mm.swap.load(slot))
  mm.swap.free(slot)
  mm.stats.swapins++
  mm.stats.page_faults++
  st.access_flags |= ACCESS_F_SWAPIN
  let nf = F_PRESENT | F_ANON | F_YOUNG | (f & (F_EXCLUSIVE | F_SOFT_DIRTY | F_UFFD))
  if (f & F_UFFD && vma.vm_flags & VM_UFFD_RWP) {
    // RWPv8: no write upgrade on swap-in; the retry goes through the RWP path.
    nf |= F_PROTNONE
  } else if (!(f & F_UFFD) && write && f & F_EXCLUSIVE) nf |= writableFor(vma, nf) | F_DIRTY
  mm.pt.set(s, nf, pfn)
  if (mm.trace !== undefined) mm.emit("k.swapin", { addr: s.base, uffd: (f & F_UFFD) !== 0 })
  return FAULT_RETRY
}

/** Whether first touch of addr may allocate a PMD-mapped THP (MADV_HUGEPAGE, aligned, inside the VMA). */
function thpSuitable(mm: Mm, vma: Vma, addr: number): boolean {
  if (!mm.features.transparent_hugepage) return false
  if ((vma.vm_flags & (VM_HUGEPAGE | VM_NOHUGEPAGE)) !== VM_HUGEPAGE) return false
  const size = mm.pt.pmd_size
  const base = addr - (addr % size)
  if (base < vma.start || base + size > vma.end) return false
  const pmd = mm.pt.getPmd(base / size)
  return pmd === undefined || (pmd.leaf.flags[0] === 0 && (pmd.pte === null || pmd.used === 0))
}

/** do_anonymous_page() / do_huge_pmd_anonymous_page() */
function do_anonymous_page(
  mm: Mm,
  task: number,
  vma: Vma,
  addr: number,
  write: boolean,
  user: boolean,
  f: number
): number {
  if (vma.vm_flags & VM_UFFD_MISSING) {
    mm.stats.missing_faults++
    return handle_userfault(mm, task, vma, addr, VM_UFFD_MISSING, write, user)
  }
  mm.stats.page_faults++
  const s = mm.slot
  const keepUffd = f & F_MARKER ? F_UFFD : 0
  if (thpSuitable(mm, vma, addr)) {
    mm.pt.lookup(addr, PMD_LEVEL, true, s)
    const pmd = s.pmd!
    mm.pt.dropPte(Math.floor(addr / mm.pt.pmd_size), pmd)
    pmd.used = 0
    mm.pt.set(
      s,
      F_HUGE | F_PRESENT | F_ANON | F_EXCLUSIVE | F_YOUNG | F_DIRTY | writableFor(vma, F_ANON | F_EXCLUSIVE),
      mm.frames.alloc(0)
    )
    return FAULT_RETRY
  }
  mm.pt.lookup(addr, PTE_LEVEL, true, s)
  if (!write) {
    // the zero page, mapped read-only (pte_mkspecial)
    mm.pt.set(s, F_PRESENT | F_ZERO | F_YOUNG | keepUffd, ZERO_PFN)
    return FAULT_RETRY
  }
  const w = keepUffd ? 0 : writableFor(vma, F_ANON | F_EXCLUSIVE)
  mm.pt.set(s, F_PRESENT | F_ANON | F_EXCLUSIVE | F_YOUNG | F_DIRTY | F_SOFT_DIRTY | w | keepUffd, mm.frames.alloc(0))
  return FAULT_RETRY
}

/** do_fault() on a shmem mapping: shmem_get_folio() then finish_fault() (or COW for MAP_PRIVATE). */
function do_shared_fault(
  mm: Mm,
  st: AccessState,
  task: number,
  vma: Vma,
  addr: number,
  write: boolean,
  user: boolean,
  f: number
): number {
  const file = vma.file!
  const idx = Math.floor(vma.offset(addr) / file.page_bytes)
  if (idx >= file.pages) return ACCESS_SIGBUS // beyond EOF
  let e = file.cache[idx]!
  if (cacheHasPage(e) && vma.vm_flags & VM_UFFD_MINOR) {
    mm.stats.minor_faults_uffd++
    return handle_userfault(mm, task, vma, addr, VM_UFFD_MINOR, write, user)
  }
  if (!cacheHasPage(e)) {
    if (cacheIsSwap(e)) {
      const slot = cacheSlot(e)
      e = pageEntry(mm.frames.alloc(mm.swap.load(slot)))
      mm.swap.free(slot)
      mm.stats.swapins++
      st.access_flags |= ACCESS_F_SWAPIN
    } else {
      if (vma.vm_flags & VM_UFFD_MISSING) {
        mm.stats.missing_faults++
        return handle_userfault(mm, task, vma, addr, VM_UFFD_MISSING, write, user)
      }
      e = pageEntry(mm.frames.alloc(0))
    }
    file.cache[idx] = e
  }
  mm.stats.page_faults++
  return mapFilePage(mm, vma, addr, write, cachePfn(e), f)
}

/** finish_fault(): maps page-cache frame `pfn` at addr (a COW copy for a private write). */
function mapFilePage(mm: Mm, vma: Vma, addr: number, write: boolean, pfn: number, f: number): number {
  const s = mm.slot
  mm.pt.lookup(addr, mm.level(vma), true, s)
  const huge = s.level === PTE_LEVEL ? 0 : F_HUGE
  const keepUffd = f & F_MARKER ? F_UFFD : 0
  if (!vma.shared && write) {
    const nf = mm.frames.alloc(mm.frames.word[pfn]!)
    const w = keepUffd ? 0 : writableFor(vma, F_ANON | F_EXCLUSIVE)
    mm.pt.set(s, huge | F_PRESENT | F_ANON | F_EXCLUSIVE | F_YOUNG | F_DIRTY | w | keepUffd, nf)
    return FAULT_RETRY
  }
  mm.frames.get(pfn)
  const w = keepUffd ? 0 : writableFor(vma, 0)
  mm.pt.set(s, huge | F_PRESENT | F_YOUNG | (write ? F_DIRTY : 0) | w | keepUffd, pfn)
  return FAULT_RETRY
}

/** hugetlb_no_page(): the huge page from the hugetlbfs file (MISSING/MINOR as for shmem). */
function hugetlb_no_page(
  mm: Mm,
  task: number,
  vma: Vma,
  addr: number,
  write: boolean,
  user: boolean,
  f: number
): number {
  const file = vma.file!
  const idx = Math.floor(vma.offset(addr) / file.page_bytes)
  if (idx >= file.pages) return ACCESS_SIGBUS
  let e = file.cache[idx]!
  if (cacheHasPage(e) && vma.vm_flags & VM_UFFD_MINOR) {
    mm.stats.minor_faults_uffd++
    return handle_userfault(mm, task, vma, addr, VM_UFFD_MINOR, write, user)
  }
  if (!cacheHasPage(e)) {
    if (vma.vm_flags & VM_UFFD_MISSING) {
      mm.stats.missing_faults++
      return handle_userfault(mm, task, vma, addr, VM_UFFD_MISSING, write, user)
    }
    e = pageEntry(mm.frames.alloc(0))
    if (vma.shared) file.cache[idx] = e
    else {
      // a private hugetlb mapping of a hole gets an anonymous huge page, not a page-cache one
      const s = mm.slot
      mm.pt.lookup(addr, mm.level(vma), true, s)
      mm.pt.set(
        s,
        F_HUGE | F_PRESENT | F_ANON | F_EXCLUSIVE | F_YOUNG | F_DIRTY | writableFor(vma, F_ANON | F_EXCLUSIVE),
        cachePfn(e)
      )
      mm.stats.page_faults++
      return FAULT_RETRY
    }
  }
  mm.stats.page_faults++
  return mapFilePage(mm, vma, addr, write, cachePfn(e), f)
}

export { ACCESS_BLOCKED }
