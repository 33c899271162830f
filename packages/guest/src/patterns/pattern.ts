// The contract every access pattern meets: a page-index generator over a span of guest pages.
import type { RandomSource } from "../random.ts"

/** Draws the guest page index of the next access; allocation-free, O(1) (expected) per draw. */
export interface PagePattern {
  /** The next page, in [first, first + count) of the pattern's span; t_ns is the time since its phase began. */
  next(rng: RandomSource, t_ns: number): number
}
