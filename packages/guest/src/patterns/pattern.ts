// The contract every access pattern meets: a page-index generator over a span of guest pages.
import type { RandomSource } from "../random.ts"

/**
 * Draws the guest page index of the next access; allocation-free, O(1) (expected) per draw. The
 * burst loop never passes the time as a double per access (a double argument of a call V8 does not
 * inline is a heap number): it seeks when the phase time reaches seek_at_ns, then draws.
 */
export interface PagePattern {
  /** The next page, in [first, first + count) of the pattern's span; t_ns is the time since its phase began. */
  next(rng: RandomSource, t_ns: number): number
  /** The next page at the phase time of the last seek (0 until the first): what next() draws. */
  draw(rng: RandomSource): number
  /** Phase time from which draw() needs a seek first (+Infinity for a pattern that ignores time). */
  readonly seek_at_ns: number
  /** Moves the pattern to phase time t_ns (never earlier than the last). */
  seek(t_ns: number): void
}
