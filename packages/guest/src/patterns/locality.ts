// Temporal locality (an rwpsim extension of a phase: `locality`), as in the bench's W2: with
// probability `locality` an access touches the vCPU's previous page again, else the inner pattern
// draws a fresh one. One access of the simulator stands for the burst of loads and stores a real
// vCPU makes to a page before it moves on, so without locality every access would be a TLB miss
// over a large hot set, which no real guest shows. The first access of a phase always draws.
// Each access takes one draw for the choice, before the inner pattern's.
import { type RandomSource, u32Threshold } from "../random.ts"
import type { PagePattern } from "./pattern.ts"

export class LocalityPattern implements PagePattern {
  private readonly threshold: number
  private previous = -1
  /** The inner pattern's, kept in a field (a getter returning a double would box it). */
  seek_at_ns: number

  constructor(
    private readonly inner: PagePattern,
    locality: number
  ) {
    this.threshold = u32Threshold(locality)
    this.seek_at_ns = inner.seek_at_ns
  }

  next(rng: RandomSource, t_ns: number): number {
    if (t_ns >= this.seek_at_ns) this.seek(t_ns)
    return this.draw(rng)
  }

  seek(t_ns: number): void {
    this.inner.seek(t_ns)
    this.seek_at_ns = this.inner.seek_at_ns
  }

  draw(rng: RandomSource): number {
    if (this.previous >= 0 && rng.below(this.threshold)) return this.previous
    const page = this.inner.draw(rng)
    this.previous = page
    return page
  }
}

/** `pattern` with a phase's locality (itself when the locality is 0, so its draws are unchanged). */
export function withLocality(pattern: PagePattern, locality: number): PagePattern {
  return locality > 0 ? new LocalityPattern(pattern, locality) : pattern
}
