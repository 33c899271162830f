// Stall episodes: each time a vCPU was blocked (from the access that blocked to its completion) or
// paused (from the pause to the resume). Percentiles are nearest-rank over every episode.

/** A growable list of episode lengths in ns. */
export class StallEpisodes {
  #ns = new Float64Array(1024)
  #count = 0

  get count(): number {
    return this.#count
  }

  record(ns: number): void {
    if (this.#count === this.#ns.length) {
      const bigger = new Float64Array(this.#ns.length * 2)
      bigger.set(this.#ns)
      this.#ns = bigger
    }
    this.#ns[this.#count++] = ns
  }

  /** Nearest-rank percentiles (0 when there was no episode): p in (0, 100]. */
  percentiles(ps: readonly number[]): number[] {
    const n = this.#count
    if (n === 0) return ps.map(() => 0)
    const sorted = this.#ns.slice(0, n).sort()
    return ps.map((p) => sorted[Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1]!)
  }

  total(): number {
    let s = 0
    for (let i = 0; i < this.#count; i++) s += this.#ns[i]!
    return s
  }
}
