// Page tables shaped like the kernel's: a PMD entry is either a huge leaf or points to a leaf
// table of pmd_size/page_size entries (512 with 4 KiB pages); hugetlb 1 GiB pages are PUD leaves.
// Entries are two typed arrays (flags, value) so a walk allocates nothing. The flag bits are the
// arch-neutral meaning of an entry; @rwpsim/hw's PTE layouts turn them into each arch's raw bits.

/** pte_present(): a mapped frame, including PAGE_NONE (protnone) entries. */
export const F_PRESENT = 1 << 0
/** PAGE_NONE protection: present for the kernel, inaccessible to the MMU (RWP, NUMA hint, PROT_NONE). */
export const F_PROTNONE = 1 << 1
/** pte_write() */
export const F_WRITE = 1 << 2
/** pte_uffd() / pte_swp_uffd(): RWP-protected in a VM_UFFD_RWP VMA, write-protected in a VM_UFFD_WP one. */
export const F_UFFD = 1 << 3
/** pte_young() */
export const F_YOUNG = 1 << 4
/** pte_dirty() */
export const F_DIRTY = 1 << 5
/** pte_soft_dirty() */
export const F_SOFT_DIRTY = 1 << 6
/** A swap entry: the value is the swap slot. */
export const F_SWAP = 1 << 7
/** Maps the shared zero page. */
export const F_ZERO = 1 << 8
/** PageAnonExclusive / pte_swp_exclusive() */
export const F_EXCLUSIVE = 1 << 9
/** A PTE marker (PTE_MARKER_UFFD_WP with F_UFFD): not present, no frame. */
export const F_MARKER = 1 << 10
/** Maps an anonymous page (else a page-cache page or the zero page). */
export const F_ANON = 1 << 11
/** A PMD or PUD leaf. */
export const F_HUGE = 1 << 12

/** Entry levels. */
export const PTE_LEVEL = 0
export const PMD_LEVEL = 1
export const PUD_LEVEL = 2

/** PMD slots held in the directory array (2 TiB of address space with 2 MiB PMDs). */
const DIR_WINDOW = 1 << 20

/**
 * One leaf table, or one huge entry (length 1). A PTE table's arrays are views into the page
 * tables' pool (PageTables.pool_flags, pool_val), re-pointed when the pool grows: hold the table,
 * not its arrays, across anything that may allocate a table.
 */
export interface EntryTable {
  flags: Uint16Array
  val: Int32Array
}

function table(n: number): EntryTable {
  return { flags: new Uint16Array(n), val: new Int32Array(n) }
}

/** A PTE table: entries [k * ptrs_per_pte, (k + 1) * ptrs_per_pte) of the pool. */
interface PteTable extends EntryTable {
  readonly k: number
}

/** PTE tables the pool holds at first; it grows by half as many again when full. */
const POOL_TABLES_MIN = 16

/** A PMD slot: a huge leaf (leaf.flags[0] != 0) or a pointer to a PTE table. */
export interface Pmd {
  readonly leaf: EntryTable
  pte: EntryTable | null
  /** Populated PTEs in `pte`, so empty tables can be freed (free_pte_range). */
  used: number
}

/**
 * What a Slot holds before a lookup fills it: one table shared by all (a walk makes a Slot per call,
 * and two typed arrays each were most of what a hole punch allocated). Nothing reads or writes it
 * through a Slot whose lookup failed.
 */
export const NO_TABLE: EntryTable = table(1)

/** A reusable cursor on one entry: which table, which index, which level. */
export class Slot {
  t: EntryTable = NO_TABLE
  i = 0
  level = PTE_LEVEL
  /** Address of the first byte the entry maps. */
  base = 0
  /** Bytes the entry maps. */
  size = 0
  pmd: Pmd | null = null
}

export class PageTables {
  readonly page_size: number
  readonly pmd_size: number
  readonly pud_size: number
  /** PTEs per leaf table (PTRS_PER_PTE). */
  readonly ptrs_per_pte: number
  /**
   * The PMD slots: a directory array over the window where mmap places mappings (from
   * 0x7f0000000000 up, 2 TiB with 2 MiB PMDs), a map for anything outside it (MAP_FIXED far away).
   */
  private readonly dir: (Pmd | undefined)[] = []
  private readonly dir_base: number
  private readonly far = new Map<number, Pmd>()
  /** The PMD slot the last lookup used: consecutive walks mostly stay inside one 2 MiB region. */
  private last_idx = -1
  private last_pmd: Pmd | null = null
  readonly puds = new Map<number, EntryTable>()
  /**
   * The per-access walk's view of the window (mm/memory.ts access_walk): page `rel` above
   * window_vpn is entry (rel & pte_mask) of the PTE table of PMD slot rel >>> pte_shift, whose pool
   * index + 1 is window_pte[rel >>> pte_shift] (0: no PTE table). Pages up to window_pages.
   */
  readonly window_vpn: number
  readonly window_addr: number
  readonly window_pages: number
  readonly pte_shift: number
  readonly pte_mask: number
  window_pte = new Int32Array(0)
  /** Every PTE table's entries, table k at [k * ptrs_per_pte, (k + 1) * ptrs_per_pte). */
  pool_flags: Uint16Array
  pool_val: Int32Array
  private readonly pool_tables: (PteTable | undefined)[] = []
  private readonly pool_free: number[] = []
  private pool_next = 0
  /**
   * How many PTE tables the mappings could need at most (the mm counts its VMAs' PMD slots): the
   * pool grows by half, but never past this while it holds, so a 64 GiB guest's tables are not
   * followed by up to half as many again of unused pool.
   */
  tables_wanted: () => number = () => Number.POSITIVE_INFINITY

  constructor(page_size: number, pmd_size: number) {
    this.page_size = page_size
    this.pmd_size = pmd_size
    this.ptrs_per_pte = pmd_size / page_size
    this.pud_size = pmd_size * this.ptrs_per_pte
    this.dir_base = Math.floor(0x7f0000000000 / pmd_size)
    this.window_vpn = this.dir_base * this.ptrs_per_pte
    this.window_addr = this.dir_base * pmd_size
    this.window_pages = Math.min(DIR_WINDOW * this.ptrs_per_pte, 2 ** 30)
    this.pte_shift = Math.log2(this.ptrs_per_pte)
    this.pte_mask = this.ptrs_per_pte - 1
    this.pool_flags = new Uint16Array(POOL_TABLES_MIN * this.ptrs_per_pte)
    this.pool_val = new Int32Array(POOL_TABLES_MIN * this.ptrs_per_pte)
  }

  /** pte_alloc(): a zeroed PTE table from the pool for PMD slot idx. */
  private allocPte(idx: number, pmd: Pmd): EntryTable {
    const n = this.ptrs_per_pte
    let k = this.pool_free.pop()
    if (k === undefined) {
      k = this.pool_next++
      if ((k + 1) * n > this.pool_flags.length) this.growPool()
    } else {
      this.pool_flags.fill(0, k * n, (k + 1) * n)
      this.pool_val.fill(0, k * n, (k + 1) * n)
    }
    const t: PteTable = {
      k,
      flags: this.pool_flags.subarray(k * n, (k + 1) * n),
      val: this.pool_val.subarray(k * n, (k + 1) * n)
    }
    this.pool_tables[k] = t
    pmd.pte = t
    const o = idx - this.dir_base
    if (o >= 0 && o < DIR_WINDOW) {
      if (o >= this.window_pte.length) {
        const w = new Int32Array(Math.min(DIR_WINDOW, Math.max(64, 2 * (o + 1))))
        w.set(this.window_pte)
        this.window_pte = w
      }
      this.window_pte[o] = k + 1
    }
    return t
  }

  /** pte_free(): PMD slot idx drops its PTE table (if any). */
  dropPte(idx: number, pmd: Pmd): void {
    const t = pmd.pte as PteTable | null
    pmd.pte = null
    if (t === null) return
    // whoever still holds the table keeps its last contents, as when tables were their own arrays
    t.flags = t.flags.slice()
    t.val = t.val.slice()
    this.pool_tables[t.k] = undefined
    this.pool_free.push(t.k)
    const o = idx - this.dir_base
    if (o >= 0 && o < this.window_pte.length) this.window_pte[o] = 0
  }

  /**
   * A pool half as large again (or as large as `tables_wanted`, if that is less and still more than
   * the tables handed out), every live table's arrays re-pointed into it.
   */
  private growPool(): void {
    const n = this.ptrs_per_pte
    const grown = Math.max(POOL_TABLES_MIN, Math.ceil((this.pool_flags.length / n) * 1.5))
    const wanted = this.tables_wanted()
    const tables = wanted >= this.pool_next ? Math.min(grown, wanted) : grown
    const f = new Uint16Array(tables * n)
    f.set(this.pool_flags)
    const v = new Int32Array(tables * n)
    v.set(this.pool_val)
    this.pool_flags = f
    this.pool_val = v
    for (const t of this.pool_tables) {
      if (t === undefined) continue
      t.flags = f.subarray(t.k * n, (t.k + 1) * n)
      t.val = v.subarray(t.k * n, (t.k + 1) * n)
    }
  }

  /** The PMD slot with index idx (addr / pmd_size), if allocated. */
  getPmd(idx: number): Pmd | undefined {
    const o = idx - this.dir_base
    return o >= 0 && o < DIR_WINDOW ? this.dir[o] : this.far.get(idx)
  }

  private setPmd(idx: number, pmd: Pmd): void {
    const o = idx - this.dir_base
    if (o >= 0 && o < DIR_WINDOW) {
      while (this.dir.length < o) this.dir.push(undefined)
      this.dir[o] = pmd
    } else this.far.set(idx, pmd)
  }

  /** Every allocated PMD slot. */
  *allPmds(): IterableIterator<Pmd> {
    for (const p of this.dir) if (p !== undefined) yield p
    yield* this.far.values()
  }

  /**
   * The slot of `addr` at `level`; with `alloc`, missing tables are allocated (pte_alloc).
   * For PTE_LEVEL, a huge PMD leaf is returned instead of a PTE when one maps `addr`.
   * Returns false when nothing is there and `alloc` is false.
   */
  lookup(addr: number, level: number, alloc: boolean, s: Slot): boolean {
    if (level === PUD_LEVEL) {
      const idx = Math.floor(addr / this.pud_size)
      let e = this.puds.get(idx)
      if (e === undefined) {
        if (!alloc) return false
        e = table(1)
        this.puds.set(idx, e)
      }
      s.t = e
      s.i = 0
      s.level = PUD_LEVEL
      s.base = idx * this.pud_size
      s.size = this.pud_size
      s.pmd = null
      return true
    }
    const idx = Math.floor(addr / this.pmd_size)
    let pmd = idx === this.last_idx ? this.last_pmd! : this.getPmd(idx)
    if (pmd === undefined) {
      if (!alloc) return false
      pmd = { leaf: table(1), pte: null, used: 0 }
      this.setPmd(idx, pmd)
    }
    this.last_idx = idx
    this.last_pmd = pmd
    s.pmd = pmd
    if (level === PMD_LEVEL || pmd.leaf.flags[0] !== 0) {
      s.t = pmd.leaf
      s.i = 0
      s.level = PMD_LEVEL
      s.base = idx * this.pmd_size
      s.size = this.pmd_size
      return true
    }
    if (pmd.pte === null) {
      if (!alloc) return false
      this.allocPte(idx, pmd)
    }
    s.t = pmd.pte!
    s.i = Math.floor((addr - idx * this.pmd_size) / this.page_size)
    s.level = PTE_LEVEL
    s.base = idx * this.pmd_size + s.i * this.page_size
    s.size = this.page_size
    return true
  }

  /** free_pgtables(): drops the PMD slot at index idx. */
  freePmd(idx: number): void {
    const pmd = this.getPmd(idx)
    if (pmd !== undefined) this.dropPte(idx, pmd)
    const o = idx - this.dir_base
    if (o >= 0 && o < DIR_WINDOW) {
      if (o < this.dir.length) this.dir[o] = undefined
    } else this.far.delete(idx)
    if (idx === this.last_idx) {
      this.last_idx = -1
      this.last_pmd = null
    }
  }

  /** Writes an entry through a slot, keeping the PTE table's population count. */
  set(s: Slot, flags: number, val: number): void {
    const was = s.t.flags[s.i]!
    s.t.flags[s.i] = flags
    s.t.val[s.i] = val
    if (s.level === PTE_LEVEL && s.pmd !== null) {
      if (was === 0 && flags !== 0) s.pmd.used++
      else if (was !== 0 && flags === 0) s.pmd.used--
    }
  }

  /** Bytes of page-table state. */
  bytes(): number {
    let n = 0
    for (const _ of this.allPmds()) n += 16
    return n + this.pool_flags.byteLength + this.pool_val.byteLength + this.window_pte.byteLength + this.puds.size * 6
  }
}
