// Zipf over the span: the page of rank k (k = 1..count, page first + k - 1) is drawn with probability
// proportional to k^-skew. Hörmann and Derflinger's rejection-inversion ("Rejection-inversion to
// generate variates from monotone discrete distributions", 1996), as in Apache Commons RNG's
// RejectionInversionZipfSampler: O(1) expected draws per page and O(1) memory, so a 16M-page span
// needs no table. Math.log/exp/log1p/expm1 are V8's fdlibm ports, deterministic for a Node version.
import { assert } from "../assert.ts"
import { drawUnit, type RandomSource } from "../random.ts"
import type { PagePattern } from "./pattern.ts"

/** Draws pages with Zipf-distributed ranks; rank 1 is the span's first page. */
export class ZipfPattern implements PagePattern {
  readonly first: number
  readonly count: number
  readonly skew: number
  private readonly h_integral_x1: number
  private readonly h_integral_count: number
  private readonly squeeze: number

  constructor(first: number, count: number, skew: number) {
    assert(Number.isInteger(first) && first >= 0, `span first ${first} is not a page index`)
    assert(Number.isInteger(count) && count >= 1 && count < 0x80000000, `span count ${count} is not in [1, 2^31)`)
    assert(Number.isFinite(skew) && skew >= 0, `zipf skew ${skew} is not a finite number >= 0`)
    this.first = first
    this.count = count
    this.skew = skew
    this.h_integral_x1 = hIntegral(1.5, skew) - 1
    this.h_integral_count = hIntegral(count + 0.5, skew)
    this.squeeze = 2 - hIntegralInverse(hIntegral(2.5, skew) - h(2, skew), skew)
  }

  /** Ignores time: never needs a seek. */
  readonly seek_at_ns = Number.POSITIVE_INFINITY

  seek(_t_ns: number): void {}

  next(rng: RandomSource, _t_ns: number): number {
    return this.draw(rng)
  }

  draw(rng: RandomSource): number {
    // One attempt, loop-free so V8 inlines it into the burst loop (a call that is not inlined
    // boxes its double arguments); the rare rejection redraws out of line.
    const k = this.attempt(rng)
    return k > 0 ? this.first + k - 1 : this.redraw(rng)
  }

  /** One rejection-inversion attempt: a rank in [1, count], or 0 when rejected. */
  private attempt(rng: RandomSource): number {
    const hn = this.h_integral_count
    // u is uniform in (H(1.5) - 1, H(count + 0.5)]
    const u = hn + drawUnit(rng) * (this.h_integral_x1 - hn)
    const s = this.skew
    // x = H^-1(u), written out (as every helper below) so nothing here is a call that boxes doubles
    let t = u * (1 - s)
    if (t < -1) t = -1 // rounding can push t just below -1, where log1p is undefined
    const x = Math.exp((Math.abs(t) > 1e-8 ? Math.log1p(t) / t : 1 - t * (0.5 - t * (1 / 3 - 0.25 * t))) * u)
    let k = Math.floor(x + 0.5)
    if (k < 1) k = 1
    else if (k > this.count) k = this.count
    if (k - x <= this.squeeze) return k
    // accept when u >= H(k + 0.5) - h(k)
    const log_k = Math.log(k + 0.5)
    const y = (1 - s) * log_k
    const h_integral_k = (Math.abs(y) > 1e-8 ? Math.expm1(y) / y : 1 + y * 0.5 * (1 + (y / 3) * (1 + 0.25 * y))) * log_k
    return u >= h_integral_k - Math.exp(-s * Math.log(k)) ? k : 0
  }

  private redraw(rng: RandomSource): number {
    for (;;) {
      const k = this.attempt(rng)
      if (k > 0) return this.first + k - 1
    }
  }
}

// The constructor's helpers; attempt() writes the same formulas out.

/** H(x) = (x^(1-s) - 1) / (1-s), or log x at s = 1: the integral of h. */
function hIntegral(x: number, s: number): number {
  const log_x = Math.log(x)
  return expm1OverX((1 - s) * log_x) * log_x
}

/** h(x) = x^-s. */
function h(x: number, s: number): number {
  return Math.exp(-s * Math.log(x))
}

/** The inverse of H. */
function hIntegralInverse(x: number, s: number): number {
  let t = x * (1 - s)
  if (t < -1) t = -1 // rounding can push t just below -1, where log1p is undefined
  return Math.exp(log1pOverX(t) * x)
}

/** log1p(x) / x, continuous at 0. */
function log1pOverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x))
}

/** expm1(x) / x, continuous at 0. */
function expm1OverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x))
}
