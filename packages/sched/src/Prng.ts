/**
 * Seeded randomness. xoshiro128** (Blackman and Vigna, prng.di.unimi.it/xoshiro128starstar.c) in
 * 32-bit integer math for the draws; splitmix64 (BigInt, at seeding time only) to fill its state.
 * One root seed gives one independent stream per purpose ("sched", "guest.vcpu<N>", "storage",
 * "faults"), keyed by an FNV-1a hash of the purpose's name, so draws in one never shift another.
 */
import { assert } from "./internal/assert.ts"

const MASK64 = 0xffff_ffff_ffff_ffffn
const TWO_32 = 2 ** 32

/** splitmix64's output function: the finalizer applied to a state that has been advanced. */
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64
  return z ^ (z >> 31n)
}

/** splitmix64 (Steele, Lea, Flood; Vigna's splitmix64.c): `count` outputs from `seed`. */
export function splitmix64(seed: bigint, count: number): bigint[] {
  assert(seed >= 0n && seed <= MASK64, "splitmix64: seed must be a 64-bit unsigned integer")
  const out: bigint[] = []
  let state = seed
  for (let i = 0; i < count; i++) {
    state = (state + 0x9e3779b97f4a7c15n) & MASK64
    out.push(mix64(state))
  }
  return out
}

/** FNV-1a, 64-bit, over the bytes of an ASCII string. */
export function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    assert(c < 0x80, `fnv1a64: purpose names are ASCII: ${JSON.stringify(s)}`)
    h = ((h ^ BigInt(c)) * 0x100000001b3n) & MASK64
  }
  return h
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** A xoshiro128** generator. State is four 32-bit words held as int32. */
export class Prng {
  #s0: number
  #s1: number
  #s2: number
  #s3: number

  /** A generator with the given state words (not all zero). */
  constructor(s0: number, s1: number, s2: number, s3: number) {
    for (const w of [s0, s1, s2, s3]) assert(Number.isInteger(w) && w >= 0 && w < TWO_32, "Prng: state word not u32")
    assert((s0 | s1 | s2 | s3) !== 0, "Prng: the all-zero state is a fixed point")
    this.#s0 = s0 | 0
    this.#s1 = s1 | 0
    this.#s2 = s2 | 0
    this.#s3 = s3 | 0
  }

  /** A generator whose state is two splitmix64 outputs of `seed`, low word first. */
  static fromSeed64(seed: bigint): Prng {
    const [a, b] = splitmix64(seed, 2)
    const w = (x: bigint, shift: bigint) => Number((x >> shift) & 0xffff_ffffn)
    return new Prng(w(a!, 0n), w(a!, 32n), w(b!, 0n), w(b!, 32n))
  }

  /** The next 32-bit output, as an unsigned integer in [0, 2^32). */
  nextU32(): number {
    const s1 = this.#s1
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    this.#s2 ^= this.#s0
    this.#s3 ^= s1
    this.#s1 = s1 ^ this.#s2
    this.#s0 ^= this.#s3
    this.#s2 ^= t
    this.#s3 = rotl(this.#s3, 11)
    return result
  }

  /**
   * nextU32() < threshold, of one draw. The step is written out again rather than calling
   * nextU32(): when V8 inlines below() into a hot loop but not nextU32() into it, the u32 would
   * come back boxed (a Smi holds 31 bits under pointer compression); a boolean never is.
   */
  below(threshold: number): boolean {
    const s1 = this.#s1
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    this.#s2 ^= this.#s0
    this.#s3 ^= s1
    this.#s1 = s1 ^ this.#s2
    this.#s0 ^= this.#s3
    this.#s2 ^= t
    this.#s3 = rotl(this.#s3, 11)
    return result < threshold
  }

  /** An unbiased integer in [0, n), for 1 <= n <= 2^32 (rejection sampling). */
  nextInt(n: number): number {
    assert(Number.isInteger(n) && n >= 1 && n <= TWO_32, `Prng.nextInt: n out of range: ${n}`)
    // Accept only draws below the largest multiple of n that fits in 32 bits.
    const limit = TWO_32 - (TWO_32 % n)
    for (;;) {
      const u = this.nextU32()
      if (u < limit) return u % n
    }
  }

  /** A float in [0, 1) with 53 random bits (two draws). */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5
    const lo = this.nextU32() >>> 6
    return (hi * 2 ** 26 + lo) / 2 ** 53
  }
}

/** The per-purpose streams of one run, all derived from its root seed. */
export class PrngStreams {
  readonly rootSeed: number
  readonly #root: bigint
  readonly #streams = new Map<string, Prng>()

  /** Streams for root seed `rootSeed`, an integer in [0, 2^53). */
  constructor(rootSeed: number) {
    assert(
      Number.isSafeInteger(rootSeed) && rootSeed >= 0,
      `PrngStreams: seed must be an integer 0..2^53-1: ${rootSeed}`
    )
    this.rootSeed = rootSeed
    this.#root = mix64(BigInt(rootSeed))
  }

  /** The stream for `purpose`, created on first use; the same name always gives the same stream. */
  stream(purpose: string): Prng {
    let prng = this.#streams.get(purpose)
    if (prng === undefined) {
      prng = Prng.fromSeed64(this.#root ^ fnv1a64(purpose))
      this.#streams.set(purpose, prng)
    }
    return prng
  }
}
