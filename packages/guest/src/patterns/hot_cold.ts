// Hot/cold: a hot window of hot_set * count pages takes hot_share of the accesses, the rest of the
// span the others, each uniform. With a shift, the window slides by `by` of the span every `every`
// ns of phase time, wrapping: start = floor(floor(t / every) * by * count) mod count. Each access
// draws the hot/cold choice (a u32 threshold), then the page inside the chosen part.
import { assert } from "../assert.ts"
import { drawBelow, int31AcceptMax, type RandomSource, u32Threshold } from "../random.ts"
import type { PagePattern } from "./pattern.ts"

/** A share of `by` that is a whole number of pages in decimal (5% of 100 pages) stays one in binary. */
const SHIFT_EPSILON = 1e-6

/** hot_shift: the hot window moves by `by` (share of the span) every `every_ns` of phase time. */
export interface HotShiftSpec {
  readonly every_ns: number
  readonly by: number
}

/** Draws from a (possibly sliding) hot window with probability hot_share, else from the rest of the span. */
export class HotColdPattern implements PagePattern {
  readonly first: number
  readonly count: number
  readonly hot_count: number
  private readonly cold_count: number
  private readonly hot_threshold: number
  private readonly hot_accept_max: number
  private readonly cold_accept_max: number
  private readonly every_ns: number
  private readonly by: number
  /** Offset of the hot window's first page from `first`, valid for t in [window_from_ns, seek_at_ns). */
  private window_offset = 0
  private window_from_ns = 0
  /** The end of the window's validity: a draw at or after it needs a seek (moveWindow). */
  seek_at_ns: number

  constructor(first: number, count: number, hot_set: number, hot_share: number, shift: HotShiftSpec | null) {
    assert(Number.isInteger(first) && first >= 0, `span first ${first} is not a page index`)
    assert(Number.isInteger(count) && count >= 1, `span count ${count} is not a positive integer`)
    assert(hot_set >= 0 && hot_set <= 1, `hot_set ${hot_set} is not in [0, 1]`)
    this.first = first
    this.count = count
    this.hot_count = Math.min(count, Math.max(hot_set > 0 ? 1 : 0, Math.round(hot_set * count)))
    this.cold_count = count - this.hot_count
    this.hot_threshold = u32Threshold(hot_share)
    this.hot_accept_max = this.hot_count > 0 ? int31AcceptMax(this.hot_count) : 0
    this.cold_accept_max = this.cold_count > 0 ? int31AcceptMax(this.cold_count) : 0
    if (shift === null) {
      this.every_ns = 0
      this.by = 0
      this.seek_at_ns = Number.POSITIVE_INFINITY
    } else {
      assert(Number.isInteger(shift.every_ns) && shift.every_ns > 0, `hot_shift.every ${shift.every_ns} is not > 0 ns`)
      assert(shift.by >= 0 && shift.by <= 1, `hot_shift.by ${shift.by} is not in [0, 1]`)
      this.every_ns = shift.every_ns
      this.by = shift.by
      this.seek_at_ns = shift.every_ns
    }
  }

  /** The hot window's first page at phase time t_ns (the window is [start, start + hot_count) mod the span). */
  hotStart(t_ns: number): number {
    if (t_ns >= this.seek_at_ns || t_ns < this.window_from_ns) this.moveWindow(t_ns)
    return this.first + this.window_offset
  }

  next(rng: RandomSource, t_ns: number): number {
    if (t_ns >= this.seek_at_ns || t_ns < this.window_from_ns) this.moveWindow(t_ns)
    return this.draw(rng)
  }

  seek(t_ns: number): void {
    this.moveWindow(t_ns)
  }

  draw(rng: RandomSource): number {
    const hot = rng.below(this.hot_threshold)
    let offset: number
    if ((hot && this.hot_count > 0) || this.cold_count === 0) {
      offset = this.window_offset + drawBelow(rng, this.hot_count, this.hot_accept_max)
    } else {
      offset = this.window_offset + this.hot_count + drawBelow(rng, this.cold_count, this.cold_accept_max)
    }
    return this.first + (offset >= this.count ? offset - this.count : offset)
  }

  private moveWindow(t_ns: number): void {
    if (!(this.every_ns > 0 && t_ns >= 0)) assert(false, `hot window asked for phase time ${t_ns}`)
    const n = Math.floor(t_ns / this.every_ns)
    this.window_offset = Math.floor(n * this.by * this.count + SHIFT_EPSILON) % this.count
    this.window_from_ns = n * this.every_ns
    this.seek_at_ns = this.window_from_ns + this.every_ns
  }
}
