// The guest's view of a PRNG stream: one per vCPU (the caller passes the "guest.vcpu<N>" stream;
// sched's Prng satisfies this structurally). Helpers reduce draws in the int31 domain, where V8's
// `%` is fast (bench/README.md), and keep draws unbiased by rejection.
import { assert } from "./assert.ts"

/** A deterministic source of uniform 32-bit words. */
export interface RandomSource {
  /** An integer uniform in [0, 2^32). */
  nextU32(): number
  /**
   * nextU32() < threshold, of one draw (the same stream). The per-access decisions use it: a u32
   * returned by a call V8 does not inline is a heap number half the time (a Smi holds 31 bits
   * under pointer compression), a boolean never is.
   */
  below(threshold: number): boolean
}

/** 2^31: draws are reduced from 31 bits. */
const INT31_RANGE = 0x80000000
/** 2^32, as a double. */
const U32_RANGE = 0x100000000
/** u32Threshold(1): every u32 draw is below it. */
export const U32_ALWAYS = U32_RANGE

/** The largest int31 draw accepted for an unbiased index in [0, count): rejects the last partial bucket. */
export function int31AcceptMax(count: number): number {
  assert(Number.isInteger(count) && count >= 1 && count <= INT31_RANGE, `index range ${count} is not in [1, 2^31]`)
  return INT31_RANGE - 1 - (INT31_RANGE % count)
}

/** An unbiased integer in [0, count); accept_max from int31AcceptMax(count). Allocation-free. */
export function drawBelow(rng: RandomSource, count: number, accept_max: number): number {
  let r = rng.nextU32() >>> 1
  while (r > accept_max) r = rng.nextU32() >>> 1
  return r % count
}

/** The u32 threshold for a probability: `rng.nextU32() < threshold` holds with probability p. */
export function u32Threshold(p: number): number {
  assert(p >= 0 && p <= 1, `probability ${p} is not in [0, 1]`)
  return Math.round(p * U32_RANGE)
}

/** A double uniform in [0, 1) from one draw (32 bits of resolution). */
export function drawUnit(rng: RandomSource): number {
  return rng.nextU32() / U32_RANGE
}
