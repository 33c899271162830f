// Uniform: every page of the span equally likely, unbiased (rejection in the int31 domain).
import { assert } from "../assert.ts"
import { drawBelow, int31AcceptMax, type RandomSource } from "../random.ts"
import type { PagePattern } from "./pattern.ts"

/** Draws pages uniformly from [first, first + count). */
export class UniformPattern implements PagePattern {
  readonly first: number
  readonly count: number
  private readonly accept_max: number

  constructor(first: number, count: number) {
    assert(Number.isInteger(first) && first >= 0, `span first ${first} is not a page index`)
    this.first = first
    this.count = count
    this.accept_max = int31AcceptMax(count)
  }

  /** Ignores time: never needs a seek. */
  readonly seek_at_ns = Number.POSITIVE_INFINITY

  seek(_t_ns: number): void {}

  next(rng: RandomSource, _t_ns: number): number {
    return this.draw(rng)
  }

  draw(rng: RandomSource): number {
    return this.first + drawBelow(rng, this.count, this.accept_max)
  }
}
