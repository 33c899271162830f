// Test PRNG streams: a seeded mulberry32 (good enough for distribution tests), a scripted source
// that replays given words, and a counter wrapper that counts draws.
import type { RandomSource } from "../../src/index.ts"

/** mulberry32: a small seeded 32-bit generator. */
export class TestRng implements RandomSource {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  below(threshold: number): boolean {
    return this.nextU32() < threshold
  }
}

/** Returns the given words in order, then fails the test. */
export class ScriptedRng implements RandomSource {
  private i = 0
  constructor(private readonly words: readonly number[]) {}
  nextU32(): number {
    if (this.i >= this.words.length) throw new Error("scripted rng exhausted")
    return this.words[this.i++] >>> 0
  }
  below(threshold: number): boolean {
    return this.nextU32() < threshold
  }
  get used(): number {
    return this.i
  }
}

/** Counts the draws taken from an inner source. */
export class CountingRng implements RandomSource {
  draws = 0
  constructor(private readonly inner: RandomSource) {}
  nextU32(): number {
    this.draws++
    return this.inner.nextU32()
  }
  below(threshold: number): boolean {
    return this.nextU32() < threshold
  }
}
