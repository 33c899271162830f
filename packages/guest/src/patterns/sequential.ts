// Sequential: first, first+1, ..., first+count-1, then wraps to first. Draws nothing from the PRNG.
import { assert } from "../assert.ts"
import type { RandomSource } from "../random.ts"
import type { PagePattern } from "./pattern.ts"

/** Walks the span in page order and wraps at its end. */
export class SequentialPattern implements PagePattern {
  readonly first: number
  readonly count: number
  private offset: number

  constructor(first: number, count: number, start_offset = 0) {
    assert(Number.isInteger(first) && first >= 0, `span first ${first} is not a page index`)
    assert(Number.isInteger(count) && count >= 1, `span count ${count} is not a positive integer`)
    assert(Number.isInteger(start_offset) && start_offset >= 0 && start_offset < count, "start offset outside the span")
    this.first = first
    this.count = count
    this.offset = start_offset
  }

  /** Ignores time: never needs a seek. */
  readonly seek_at_ns = Number.POSITIVE_INFINITY

  seek(_t_ns: number): void {}

  next(rng: RandomSource, _t_ns: number): number {
    return this.draw(rng)
  }

  draw(_rng: RandomSource): number {
    const page = this.first + this.offset
    const after = this.offset + 1
    this.offset = after === this.count ? 0 : after
    return page
  }
}
