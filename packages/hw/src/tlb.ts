/**
 * A per-CPU, set-associative TLB over typed arrays. lookup() runs on every simulated access, so it
 * is a masked set index and a short compare loop, with no allocation. Replacement within a set is
 * round-robin (deterministic). flush_range() follows arch/x86/mm/tlb.c: past
 * tlb_single_page_flush_ceiling pages a full flush is cheaper than page-by-page invalidation.
 */

/** The entry allows writes (the PTE was writable when it was loaded). */
export const TLB_WRITE = 1
/** The entry allows user-mode access. */
export const TLB_USER = 2

/** arch/x86/mm/tlb.c: tlb_single_page_flush_ceiling (pages). */
export const tlb_single_page_flush_ceiling = 33

const INVALID = -1

export class Tlb {
  readonly entries: number
  readonly ways: number
  readonly sets: number
  hits = 0
  misses = 0
  flushes = 0
  private readonly set_mask: number
  /** Virtual page number per entry, INVALID when empty (Float64: VPNs exceed 32 bits). */
  private readonly vpn: Float64Array
  private readonly pfn: Float64Array
  private readonly flags: Int32Array
  /** Next way to replace, per set. */
  private readonly victim: Int32Array

  constructor(entries: number, ways: number) {
    assert(Number.isInteger(entries) && Number.isInteger(ways) && ways > 0 && entries >= ways, "Tlb: entries/ways")
    assert(entries % ways === 0, "Tlb: entries must be a multiple of ways")
    const sets = entries / ways
    assert((sets & (sets - 1)) === 0, "Tlb: sets (entries/ways) must be a power of two")
    this.entries = entries
    this.ways = ways
    this.sets = sets
    this.set_mask = sets - 1
    this.vpn = new Float64Array(entries).fill(INVALID)
    this.pfn = new Float64Array(entries)
    this.flags = new Int32Array(entries)
    this.victim = new Int32Array(sets)
  }

  /** Index of the valid entry for vpn, or -1; counts a hit or a miss. */
  lookup(vpn: number): number {
    const base = (vpn & this.set_mask) * this.ways
    const end = base + this.ways
    const tags = this.vpn
    for (let i = base; i < end; i++) {
      if (tags[i] === vpn) {
        this.hits++
        return i
      }
    }
    this.misses++
    return -1
  }

  /**
   * The first vpn of a window that lookup_rel() and fill_rel() index by an int32 page offset (the
   * kernel's page-table window): the vpn, a double, stays inside the TLB instead of crossing a call
   * as a heap number.
   */
  window_vpn = 0

  /** lookup() of vpn window_vpn + rel. */
  lookup_rel(rel: number): number {
    return this.lookup(this.window_vpn + rel)
  }

  /** fill() of vpn window_vpn + rel. */
  fill_rel(rel: number, pfn: number, flags: number): void {
    this.fill(this.window_vpn + rel, pfn, flags)
  }

  /** Whether vpn is cached, without touching the hit/miss counters. */
  probe(vpn: number): boolean {
    return this.find(vpn) !== -1
  }

  /** The frame of entry i; i must come from lookup() (unchecked: this is the TLB-hit path). */
  entry_pfn(i: number): number {
    return this.pfn[i] as number
  }

  /** The TLB_* flags of entry i; i must come from lookup(). */
  entry_flags(i: number): number {
    return this.flags[i] as number
  }

  /** Load a translation; replaces an existing entry for vpn, else an empty way, else round-robin. */
  insert(vpn: number, pfn: number, flags: number): void {
    assert(Number.isSafeInteger(vpn) && vpn >= 0, "Tlb.insert: vpn")
    assert(Number.isSafeInteger(pfn) && pfn >= 0, "Tlb.insert: pfn")
    const set = vpn & this.set_mask
    const base = set * this.ways
    let slot = this.find(vpn)
    if (slot === -1) {
      for (let i = base; i < base + this.ways; i++) {
        if (this.vpn[i] === INVALID) {
          slot = i
          break
        }
      }
    }
    if (slot === -1) {
      const way = this.victim[set] as number
      slot = base + way
      this.victim[set] = way + 1 === this.ways ? 0 : way + 1
    }
    this.vpn[slot] = vpn
    this.pfn[slot] = pfn
    this.flags[slot] = flags
  }

  /**
   * Load a translation for a vpn that lookup() just missed (the walk's fill): no search, no checks,
   * round-robin within the set. The per-access path uses this instead of insert().
   */
  fill(vpn: number, pfn: number, flags: number): void {
    const set = vpn & this.set_mask
    const way = this.victim[set] as number
    const slot = set * this.ways + way
    this.victim[set] = way + 1 === this.ways ? 0 : way + 1
    this.vpn[slot] = vpn
    this.pfn[slot] = pfn
    this.flags[slot] = flags
  }

  /** Replace entry i (found by lookup()) with a new translation. */
  refill(i: number, pfn: number, flags: number): void {
    this.pfn[i] = pfn
    this.flags[i] = flags
  }

  /** arch/x86/mm/tlb.c: flush_tlb_mm_range() for [start_vpn, end_vpn); full flush past the ceiling. */
  flush_range(start_vpn: number, end_vpn: number): void {
    assert(start_vpn <= end_vpn, "Tlb.flush_range: start after end")
    if (start_vpn === end_vpn) return
    if (end_vpn - start_vpn > tlb_single_page_flush_ceiling) {
      this.flush_all()
      return
    }
    this.flushes++
    for (let v = start_vpn; v < end_vpn; v++) {
      const i = this.find(v)
      if (i !== -1) this.vpn[i] = INVALID
    }
  }

  /** arch/x86/mm/tlb.c: flush_tlb_all() on this CPU. */
  flush_all(): void {
    this.flushes++
    this.vpn.fill(INVALID)
    this.victim.fill(0)
  }

  private find(vpn: number): number {
    const base = (vpn & this.set_mask) * this.ways
    for (let i = base; i < base + this.ways; i++) {
      if (this.vpn[i] === vpn) return i
    }
    return -1
  }
}

function assert(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${what}`)
}
