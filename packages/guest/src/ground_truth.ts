// The guest's own record of what it did, independent of the kernel model, so a kernel or VMM bug
// cannot hide itself: per guest page, the last value written (and whether one was) and the cycle
// stamp that counts distinct pages per tracker cycle (wss_true_pages).
// A completed read that does not return the last write (0 if never written) is a no_data_loss
// violation: counted and kept (the first violations_max in full), never thrown.
// Layout: one 8-byte record per page, so an access touches one cache line of ground truth (a
// uniform access over a large guest misses cache on every array it touches):
//   words[2p]     cycle stamp (bits 0-30; 0 = never accessed) | GT_WRITTEN (bit 31)
//   words[2p + 1] last value written (0 if never)
// No access time per page: what the checker needs of time (was a page touched after its
// protection?) it keeps in its own flag byte, and 8 B per page more would be a quarter of the
// state budget of a 64 GiB guest.
import { assert } from "./assert.ts"

/** Bit 31 of a record's first word: the page has been written. */
export const GT_WRITTEN = 0x80000000
/** Bits 0-30 of a record's first word: the last cycle in which the page was accessed. */
export const GT_CYCLE_MASK = 0x7fffffff
/** Pages a ground truth can hold (record word indexes stay below 2^31). */
export const GT_PAGES_MAX = 1 << 29

/** One guest read that did not return the guest's last write to that page. */
export interface DataLossViolation {
  readonly page: number
  readonly t_ns: number
  readonly vcpu: number
  readonly expected: number
  readonly actual: number
}

/** Per-page shadow of the guest's accesses and writes, with per-cycle distinct-page counts. */
export class GroundTruth {
  readonly pages_count: number
  /** The records as u32 words: [2p] stamp | GT_WRITTEN, [2p + 1] last value (layout above). */
  readonly words: Uint32Array
  /** The cycle in progress (from 1) and the distinct pages accessed in it so far. */
  cycle = 1
  cycle_pages = 0
  /** Cycles completed by nextCycle() and the sum of their distinct-page counts. */
  cycles_completed = 0
  cycle_pages_sum = 0
  /** Reads that did not return the last write (every one is counted). */
  data_loss = 0
  readonly violations: DataLossViolation[] = []
  readonly violations_max: number

  constructor(pages_count: number, violations_max = 16) {
    assert(Number.isInteger(pages_count) && pages_count >= 1, `ground truth for ${pages_count} pages`)
    assert(pages_count <= GT_PAGES_MAX, `ground truth for ${pages_count} pages exceeds ${GT_PAGES_MAX}`)
    assert(Number.isInteger(violations_max) && violations_max >= 0, `violations_max ${violations_max}`)
    this.pages_count = pages_count
    this.words = new Uint32Array(2 * pages_count)
    this.violations_max = violations_max
  }

  /** Whether the guest has ever written page p. */
  written(page: number): boolean {
    return (this.words[2 * page] & GT_WRITTEN) !== 0
  }

  /** What a read of page p must return: the last write, or 0 if never written. */
  expected(page: number): number {
    return this.words[2 * page + 1]
  }

  /** Whether page p was ever accessed (or seeded with a write before the run). */
  accessed(page: number): boolean {
    return (this.words[2 * page] & GT_CYCLE_MASK) !== 0
  }

  /** The last cycle in which page p was accessed (0: never). */
  cycleOf(page: number): number {
    return this.words[2 * page] & GT_CYCLE_MASK
  }

  /**
   * Records one completed access by `vcpu` at t_ns: a write stores `value`; a read checks that the
   * kernel returned `actual` = the last write. Returns false when the read lost data. (The burst
   * loop inlines the same steps.)
   */
  recordAccess(page: number, t_ns: number, vcpu: number, write: boolean, value: number, actual: number): boolean {
    if (!(Number.isInteger(page) && page >= 0 && page < this.pages_count))
      assert(false, `page ${page} outside the guest`)
    const w = this.words
    const r = page << 1
    const head = w[r]
    if ((head & GT_CYCLE_MASK) !== this.cycle) {
      w[r] = (head & GT_WRITTEN) | this.cycle
      this.cycle_pages++
    }
    if (write) {
      w[r] |= GT_WRITTEN
      w[r + 1] = value
      return true
    }
    const expected = w[r + 1]
    if (actual >>> 0 === expected) return true
    this.recordLoss(page, t_ns, vcpu, expected, actual >>> 0)
    return false
  }

  /** Counts one lost read and keeps it while fewer than violations_max are kept (allocates: cold path). */
  recordLoss(page: number, t_ns: number, vcpu: number, expected: number, actual: number): void {
    this.data_loss++
    if (this.violations.length < this.violations_max) this.violations.push({ page, t_ns, vcpu, expected, actual })
  }

  /** Ends the cycle in progress (the tracker's interval boundary) and returns its distinct-page count. */
  nextCycle(): number {
    assert(this.cycle < GT_CYCLE_MASK, "cycle stamp overflow")
    const pages = this.cycle_pages
    this.cycles_completed++
    this.cycle_pages_sum += pages
    this.cycle++
    this.cycle_pages = 0
    return pages
  }

  /** wss_true_pages: the mean over completed cycles of distinct pages accessed, rounded down (0 with none). */
  wssTruePages(): number {
    return this.cycles_completed === 0 ? 0 : Math.floor(this.cycle_pages_sum / this.cycles_completed)
  }
}
