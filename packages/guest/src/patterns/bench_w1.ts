// The page draws of the C reference's workloads W1 and W2 (bench/README.md, bench/ref.c), so a
// bench can run the very same access sequence through the guest and kernel and compare counts with
// the C. W1: draw r1 then r2; hot (r1 % 10 != 0) → r2 % hot_count, else hot_count + r2 %
// (count - hot_count), with hot_count = floor(count / 10). W2 draws r0 first: unless it is the
// first access of a burst, r0 & 7 != 0 touches the previous page again. The u32 modulo is slightly
// biased, on purpose: it is the reference. It is reduced in the int31 domain, where V8's `%` is
// fast (bench/README.md), with the same result as the u32 `%`. Not scenario patterns.
import { assert } from "../assert.ts"
import type { RandomSource } from "../random.ts"
import type { PagePattern } from "./pattern.ts"

/** ref.c's stream: one xorshift32 (13, 17, 5), seed 0x9E3779B9 by default. */
export class Xorshift32 implements RandomSource {
  private x: number

  constructor(seed = 0x9e3779b9) {
    assert(Number.isInteger(seed) && seed > 0 && seed < 0x100000000, `xorshift32 seed ${seed}`)
    this.x = seed | 0
  }

  nextU32(): number {
    let x = this.x
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.x = x
    return x >>> 0
  }

  below(threshold: number): boolean {
    return this.nextU32() < threshold
  }
}

/** (x % m) for a u32 x and 1 <= m < 2^30, computed with int31 operands only. */
function modU32(x: number, m: number): number {
  return ((((x >>> 1) % m) << 1) + (x & 1)) % m
}

/** ref.c's W1 draw over [first, first + count). */
export class BenchW1Pattern implements PagePattern {
  readonly first: number
  readonly count: number
  readonly hot_count: number
  private readonly cold_count: number

  constructor(first: number, count: number) {
    assert(Number.isInteger(first) && first >= 0, `span first ${first} is not a page index`)
    assert(Number.isInteger(count) && count >= 10 && count < 2 ** 30, `span count ${count} is not in [10, 2^30)`)
    this.first = first
    this.count = count
    this.hot_count = Math.floor(count / 10)
    this.cold_count = count - this.hot_count
  }

  /** Ignores time: never needs a seek. */
  readonly seek_at_ns = Number.POSITIVE_INFINITY

  seek(_t_ns: number): void {}

  next(rng: RandomSource, _t_ns: number): number {
    return this.draw(rng)
  }

  draw(rng: RandomSource): number {
    const r1 = rng.nextU32()
    const r2 = rng.nextU32()
    return (
      this.first + (modU32(r1, 10) !== 0 ? modU32(r2, this.hot_count) : this.hot_count + modU32(r2, this.cold_count))
    )
  }
}

/**
 * ref.c's W2 draw (`./ref N loc`): W1 with temporal locality. Bursts are `burst` accesses of one
 * vCPU (each vCPU has its own pattern): the first draw of each burst is a W1 draw after r0.
 */
export class BenchW2Pattern implements PagePattern {
  readonly w1: BenchW1Pattern
  readonly burst: number
  /** Draws made. */
  draws = 0
  /** Draws left in the current burst (0: the next draw starts a burst). */
  private left = 0
  private prev = -1

  constructor(first: number, count: number, burst: number) {
    assert(Number.isInteger(burst) && burst >= 1, `burst ${burst}`)
    this.w1 = new BenchW1Pattern(first, count)
    this.burst = burst
  }

  /** Ignores time: never needs a seek. */
  readonly seek_at_ns = Number.POSITIVE_INFINITY

  seek(_t_ns: number): void {}

  next(rng: RandomSource, _t_ns: number): number {
    return this.draw(rng)
  }

  draw(rng: RandomSource): number {
    const r0 = rng.nextU32()
    this.draws++
    const first = this.left === 0
    this.left = (first ? this.burst : this.left) - 1
    if (!first && (r0 & 7) !== 0) return this.prev
    this.prev = this.w1.draw(rng)
    return this.prev
  }
}
