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
    this.h_integral_x1 = this.hIntegral(1.5) - 1
    this.h_integral_count = this.hIntegral(count + 0.5)
    this.squeeze = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2))
  }

  next(rng: RandomSource, _t_ns: number): number {
    const hx1 = this.h_integral_x1
    const hn = this.h_integral_count
    for (;;) {
      // u is uniform in (H(1.5) - 1, H(count + 0.5)]
      const u = hn + drawUnit(rng) * (hx1 - hn)
      const x = this.hIntegralInverse(u)
      let k = Math.floor(x + 0.5)
      if (k < 1) k = 1
      else if (k > this.count) k = this.count
      if (k - x <= this.squeeze || u >= this.hIntegral(k + 0.5) - this.h(k)) return this.first + k - 1
    }
  }

  /** H(x) = (x^(1-s) - 1) / (1-s), or log x at s = 1: the integral of h. */
  private hIntegral(x: number): number {
    const log_x = Math.log(x)
    return expm1OverX((1 - this.skew) * log_x) * log_x
  }

  /** h(x) = x^-s. */
  private h(x: number): number {
    return Math.exp(-this.skew * Math.log(x))
  }

  /** The inverse of H. */
  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.skew)
    if (t < -1) t = -1 // rounding can push t just below -1, where log1p is undefined
    return Math.exp(log1pOverX(t) * x)
  }
}

/** log1p(x) / x, continuous at 0. */
function log1pOverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x))
}

/** expm1(x) / x, continuous at 0. */
function expm1OverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x))
}
