// The VMM's own per-page bookkeeping: what it put in memory, what it evicted to storage and what it
// is evicting right now (a bit per guest page each), and, when a page must stay cold for more than
// one cycle, its age in cycles.
import { assert } from "./assert.ts"

/** A run of pages [first, first + count). */
export interface PageRange {
  readonly first: number
  readonly count: number
}

/** A bit per page (bit p % 32 of word p >> 5): 1/8 B per page where a byte array took 1. */
export class PageBits {
  readonly count: number
  readonly words: Uint32Array

  constructor(count: number) {
    this.count = count
    this.words = new Uint32Array(Math.ceil(count / 32))
  }

  get(p: number): boolean {
    return (this.words[p >>> 5]! & (1 << (p & 31))) !== 0
  }

  set(p: number, on: boolean): void {
    if (on) this.words[p >>> 5]! |= 1 << (p & 31)
    else this.words[p >>> 5]! &= ~(1 << (p & 31))
  }

  /** Sets or clears the pages of `r`. */
  setRange(r: PageRange, on: boolean): void {
    for (let p = r.first, end = r.first + r.count; p < end; p++) this.set(p, on)
  }

  fill(on: boolean): void {
    this.words.fill(on ? 0xffffffff : 0)
  }

  /** Flips every page's bit. */
  invert(): void {
    const w = this.words
    for (let i = 0; i < w.length; i++) w[i] = ~w[i]!
  }

  /** Pages whose bit is set. */
  countSet(): number {
    let n = 0
    for (let p = 0; p < this.count; p++) if (this.get(p)) n++
    return n
  }

  /** A copy, for a judgement against the state at one moment. */
  copy(): PageBits {
    const c = new PageBits(this.count)
    c.words.set(this.words)
    return c
  }
}

/** Per-page state of the VMM, indexed by guest page (tracking page: huge page for hugetlb). */
export class VmmPages {
  readonly count: number
  /** The VMM populated the page (UFFDIO_COPY) and has not evicted it since. */
  readonly populated: PageBits
  /** The page's content is in storage and not in memory (set at the punch, cleared at fault-back). */
  readonly evicted: PageBits
  /** The page is between its scan and its wake: a sync RWP fault on it is left to the wake. */
  readonly evicting: PageBits
  /** Cycles a page must go unaccessed before it is a victim (spec `vmm.cold_age`). */
  readonly cold_age: number
  /** Cycles since the tracker last judged the page accessed, up to cold_age; none for cold_age 1. */
  readonly #age: Uint8Array | Uint16Array | Uint32Array | null

  constructor(count: number, cold_age = 1) {
    assert(Number.isInteger(count) && count >= 1, `VmmPages of ${count} pages`)
    assert(Number.isInteger(cold_age) && cold_age >= 1, `cold_age ${cold_age}`)
    this.count = count
    this.cold_age = cold_age
    this.populated = new PageBits(count)
    this.evicted = new PageBits(count)
    this.evicting = new PageBits(count)
    const width = VmmPages.age_bytes(cold_age)
    this.#age =
      width === 0
        ? null
        : width === 1
          ? new Uint8Array(count)
          : width === 2
            ? new Uint16Array(count)
            : new Uint32Array(count)
  }

  /** Bytes of age per page for `cold_age`: none at 1, else the narrowest integer that counts to it. */
  static age_bytes(cold_age: number): number {
    return cold_age === 1 ? 0 : cold_age <= 0xff ? 1 : cold_age <= 0xffff ? 2 : 4
  }

  /** Bytes of state (the bench counts them). */
  bytes(): number {
    return this.populated.words.byteLength * 3 + (this.#age?.byteLength ?? 0)
  }

  /**
   * A page `hot` judged accessed is age 0, any other a cycle older (counted up to cold_age, all a
   * victim needs). With cold_age 1 (the default) no ages are kept: a page is old enough when this
   * cycle did not find it accessed.
   */
  age_cycle(hot: PageBits): void {
    const age = this.#age
    if (age === null) return
    const most = this.cold_age
    for (let p = 0; p < this.count; p++) {
      if (hot.get(p)) age[p] = 0
      else if (age[p]! < most) age[p]!++
    }
  }

  /**
   * The page has gone untouched for cold_age cycles, this one included (after age_cycle); so it was
   * not judged accessed this cycle.
   */
  old_enough(hot: PageBits, p: number): boolean {
    return this.#age === null ? !hot.get(p) : this.#age[p]! >= this.cold_age
  }
}

/** The runs of consecutive pages p for which `pick(p)` holds, in address order. */
export function rangesWhere(count: number, pick: (p: number) => boolean): PageRange[] {
  const out: PageRange[] = []
  let first = -1
  for (let p = 0; p < count; p++) {
    if (pick(p)) {
      if (first < 0) first = p
    } else if (first >= 0) {
      out.push({ first, count: p - first })
      first = -1
    }
  }
  if (first >= 0) out.push({ first, count: count - first })
  return out
}

/**
 * Sets page p's bit in `mark` for every page covered by a scan's regions: `vec` holds them as
 * PAGEMAP_SCAN fills the user's buffer, (start, end, categories) triples.
 */
export function markRegions(
  vec: Float64Array,
  base: number,
  page_bytes: number,
  mark: PageBits,
  /** Mark only the tracking pages a region covers whole (a split THP is cold only if all of it is). */
  whole = false
): number {
  let n = 0
  for (let o = 0; o < vec.length; o += 3) {
    const lo = (vec[o]! - base) / page_bytes
    const hi = (vec[o + 1]! - base) / page_bytes
    const first = Math.max(0, whole ? Math.ceil(lo) : Math.floor(lo))
    const last = Math.min(mark.count, whole ? Math.floor(hi) : Math.ceil(hi))
    for (let p = first; p < last; p++) {
      if (!mark.get(p)) n++
      mark.set(p, true)
    }
  }
  return n
}
