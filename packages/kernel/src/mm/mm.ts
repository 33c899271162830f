// struct mm_struct and the machine around it: the one simulated process's address space, the frames,
// the files and swap, the per-vCPU TLBs, the tasks asleep, and the counters. Every mm/ and fs/
// module works on this state.
import { type CpuFeatures, Tlb } from "@rwpsim/hw"
import type { UffdCtx, WaitObject } from "../fs/userfaultfd_ctx.ts"
import { Mutants } from "../mutants.ts"
import { FrameTable } from "./page_alloc.ts"
import { PageTables, PMD_LEVEL, PTE_LEVEL, PUD_LEVEL, Slot } from "./pgtable.ts"
import type { File } from "./shmem.ts"
import { SwapArea } from "./swap.ts"
import { type Vma, VmaList } from "./vma.ts"
import { splitHugePmd } from "./walk.ts"

/** A trace sink for kernel events (fields are JSON scalars). */
export type TraceFn = (ev: string, fields: { readonly [key: string]: string | number | boolean | null }) => void

export interface KernelStats {
  rwp_faults_sync: number
  rwp_faults_async: number
  missing_faults: number
  minor_faults_uffd: number
  wp_faults: number
  /** Page faults handled in the kernel (anonymous/file population, COW, NUMA hint, swap-in). */
  page_faults: number
  swapins: number
  swapouts: number
  tlb_shootdowns: number
  messages_queued: number
  migrations: number
}

export type FdEntry = { readonly kind: "file"; readonly file: File } | { readonly kind: "uffd"; readonly ctx: UffdCtx }

/** The mmap_lock, as something a task can find held. */
export class MmapLock implements WaitObject {
  writer = -1
  describe(): string {
    return `mmap_lock (write-held by task ${this.writer})`
  }
}

export class Mm {
  readonly page_size: number
  readonly page_shift: number
  /** 1 / page_size, exact (a power of two): the per-access path multiplies instead of dividing. */
  readonly inv_page_size: number
  readonly pt: PageTables
  readonly frames = new FrameTable()
  readonly swap = new SwapArea()
  readonly vmas = new VmaList()
  readonly fds = new Map<number, FdEntry>()
  readonly tlbs: Tlb[]
  readonly mmap_lock = new MmapLock()
  /** Tasks asleep, and on what. */
  readonly blocked = new Map<number, WaitObject>()
  /** The task that went to sleep most recently (what blocked_on/blocked_addr describe). */
  last_blocked = -1
  /** Tasks woken since the last drain, in wake order. */
  woken: number[] = []
  readonly stats: KernelStats = {
    rwp_faults_sync: 0,
    rwp_faults_async: 0,
    missing_faults: 0,
    minor_faults_uffd: 0,
    wp_faults: 0,
    page_faults: 0,
    swapins: 0,
    swapouts: 0,
    tlb_shootdowns: 0,
    messages_queued: 0,
    migrations: 0
  }
  /** mmap placement cursor: the next mapping goes above it. */
  mmap_next = 0x7f0000000000
  next_file_id = 0
  /** The reusable walk cursor (nothing on a walk allocates). */
  readonly slot = new Slot()

  constructor(
    readonly features: CpuFeatures,
    vcpus: number,
    tlb: { entries: number; ways: number },
    readonly trace: TraceFn | undefined,
    readonly mutants: Mutants = new Mutants()
  ) {
    this.page_size = features.page_size
    this.page_shift = features.page_shift
    this.inv_page_size = 1 / features.page_size
    this.pt = new PageTables(features.page_size, features.pmd_size)
    // the PMD slots of the VMAs that map PTEs (hugetlb maps PMD and PUD leaves): a bound on the PTE
    // tables in use, however they are touched (slots two VMAs share count twice)
    this.pt.tables_wanted = () => {
      const pmd = this.pt.pmd_size
      let n = 0
      for (const v of this.vmas.list) if (!v.hugetlb) n += Math.floor((v.end - 1) / pmd) - Math.floor(v.start / pmd) + 1
      return n
    }
    this.tlbs = []
    for (let i = 0; i < vcpus; i++) {
      const t = new Tlb(tlb.entries, tlb.ways)
      t.window_vpn = this.pt.window_vpn
      this.tlbs.push(t)
    }
    // __split_vma() -> vma_adjust_trans_huge(): a PMD-mapped THP the new boundary cuts is split first
    this.vmas.beforeSplit = (v, addr) => {
      if (v.hugetlb || addr % this.pt.pmd_size === 0) return
      const pmd = this.pt.getPmd(Math.floor(addr / this.pt.pmd_size))
      if (pmd !== undefined && pmd.leaf.flags[0] !== 0) splitHugePmd(this, v, addr - (addr % this.pt.pmd_size))
    }
  }

  /** The level a VMA's leaf entries live at (hugetlb: PMD or PUD; else PTE, with THP at PMD). */
  level(vma: Vma): number {
    if (!vma.hugetlb) return PTE_LEVEL
    return vma.file!.page_bytes >= this.pt.pud_size ? PUD_LEVEL : PMD_LEVEL
  }

  /** Bytes per leaf entry of a VMA (hugetlb: the huge page size). */
  entrySize(vma: Vma): number {
    return vma.hugetlb ? vma.file!.page_bytes : this.page_size
  }

  /** flush_tlb_range() on every CPU: one shootdown. */
  flush_tlb_range(start: number, end: number): void {
    if (end <= start) return
    const s = Math.floor(start / this.page_size)
    const e = Math.ceil(end / this.page_size)
    for (const t of this.tlbs) t.flush_range(s, e)
    this.stats.tlb_shootdowns++
  }

  /** Marks tasks runnable again. */
  wakeTask(task: number): void {
    if (this.blocked.delete(task)) this.woken.push(task)
  }

  /** The lowest free descriptor (0-2 are the standard streams). */
  fdLowest(): number {
    let fd = 3
    while (this.fds.has(fd)) fd++
    return fd
  }

  fdNew(e: FdEntry): number {
    const fd = this.fdLowest()
    this.fds.set(fd, e)
    return fd
  }

  /** Traces `ev`. Callers on a frequent path test `trace !== undefined` first: the fields are an object. */
  emit(ev: string, fields: { readonly [key: string]: string | number | boolean | null }): void {
    this.trace?.(ev, fields)
  }
}
