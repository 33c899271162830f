// The page draw of the C reference's workload W1 (bench/README.md, ref.c), so a bench can run the
// very same access sequence through the guest and kernel and compare counts with the C: draw r1
// then r2; hot (r1 % 10 != 0) → r2 % hot_count, else hot_count + r2 % (count - hot_count), with
// hot_count = floor(count / 10). The u32 modulo is slightly biased, on purpose: it is the reference.
// Not a scenario pattern.
import { assert } from "../assert.ts"
import type { RandomSource } from "../random.ts"
import type { PagePattern } from "./pattern.ts"

/** ref.c's W1 draw over [first, first + count). */
export class BenchW1Pattern implements PagePattern {
  readonly first: number
  readonly count: number
  readonly hot_count: number
  private readonly cold_count: number

  constructor(first: number, count: number) {
    assert(Number.isInteger(first) && first >= 0, `span first ${first} is not a page index`)
    assert(Number.isInteger(count) && count >= 10, `span count ${count} is below 10 pages`)
    this.first = first
    this.count = count
    this.hot_count = Math.floor(count / 10)
    this.cold_count = count - this.hot_count
  }

  next(rng: RandomSource, _t_ns: number): number {
    const r1 = rng.nextU32()
    const r2 = rng.nextU32()
    return this.first + (r1 % 10 !== 0 ? r2 % this.hot_count : this.hot_count + (r2 % this.cold_count))
  }
}
