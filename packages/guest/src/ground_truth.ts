// The guest's own record of what it did, independent of the kernel model, so a kernel or VMM bug
// cannot hide itself: per guest page, the last access time, the last value written (and whether
// one was), and the cycle stamp that counts distinct pages per tracker cycle (wss_true_pages).
// A completed read that does not return the last write (0 if never written) is a no_data_loss
// violation: counted and kept (the first violations_max in full), never thrown.
// Memory: 8 + 4 + 4 bytes and one bit per page.
import { assert } from "./assert.ts"

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
  /** Latest virtual time each page was accessed (ns), -1 if never. */
  readonly last_access_ns: Float64Array
  /** The last value the guest wrote to each page (0 if never written). */
  readonly last_value: Uint32Array
  /** Bit p % 32 of word p >>> 5: page p has been written. */
  readonly written_bits: Uint32Array
  /** The last cycle in which each page was accessed (0: never; cycles count from 1). */
  readonly cycle_stamp: Uint32Array
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
    assert(Number.isInteger(violations_max) && violations_max >= 0, `violations_max ${violations_max}`)
    this.pages_count = pages_count
    this.last_access_ns = new Float64Array(pages_count).fill(-1)
    this.last_value = new Uint32Array(pages_count)
    this.written_bits = new Uint32Array((pages_count + 31) >>> 5)
    this.cycle_stamp = new Uint32Array(pages_count)
    this.violations_max = violations_max
  }

  /** Whether the guest has ever written page p. */
  written(page: number): boolean {
    return (this.written_bits[page >>> 5] & (1 << (page & 31))) !== 0
  }

  /** What a read of page p must return: the last write, or 0 if never written. */
  expected(page: number): number {
    return this.last_value[page]
  }

  /** Whether page p was ever accessed. */
  accessed(page: number): boolean {
    return this.last_access_ns[page] >= 0
  }

  /**
   * Records one completed access by `vcpu` at t_ns: a write stores `value`; a read checks that the
   * kernel returned `actual` = the last write. Returns false when the read lost data.
   */
  recordAccess(page: number, t_ns: number, vcpu: number, write: boolean, value: number, actual: number): boolean {
    assert(Number.isInteger(page) && page >= 0 && page < this.pages_count, `page ${page} outside the guest`)
    if (this.cycle_stamp[page] !== this.cycle) {
      this.cycle_stamp[page] = this.cycle
      this.cycle_pages++
    }
    if (t_ns > this.last_access_ns[page]) this.last_access_ns[page] = t_ns
    if (write) {
      this.last_value[page] = value
      this.written_bits[page >>> 5] |= 1 << (page & 31)
      return true
    }
    const expected = this.last_value[page]
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
    assert(this.cycle < 0xffffffff, "cycle stamp overflow")
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

  /** Distinct pages accessed at or after t_ns (the true working set of a window ending now). */
  pagesAccessedSince(t_ns: number): number {
    let n = 0
    const last = this.last_access_ns
    for (let p = 0; p < last.length; p++) if (last[p] >= t_ns) n++
    return n
  }
}
