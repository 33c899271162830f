// Stall episodes: each time a vCPU was blocked (from the access that blocked to its completion) or
// paused (from the pause to the resume). Percentiles are nearest-rank over every episode (the
// spec's stall_ns_p50/p99/max), so they need every length, not an estimate; but a long run of a
// large guest has tens of millions of episodes, and a Float64 each (plus a sorted copy at the end)
// was the largest state of the 64 GiB runs. The lengths repeat a lot (the same fault path costs the
// same), so they are kept as a sorted table of distinct lengths with their counts, and recent ones
// in a buffer that is sorted and merged in when it fills.

/** Recent episodes buffered at least (the buffer grows with the table, so a merge is amortized). */
const BUFFER_MIN = 4096

/** The multiset of episode lengths in ns. */
export class StallEpisodes {
  /** Episodes not yet merged into the table. */
  #buf = new Float64Array(BUFFER_MIN)
  #buffered = 0
  /** Distinct lengths in increasing order, and how many episodes had each. */
  #len = new Float64Array(0)
  #cnt = new Float64Array(0)
  #distinct = 0
  #count = 0
  #sum = 0

  get count(): number {
    return this.#count
  }

  record(ns: number): void {
    if (this.#buffered === this.#buf.length) this.#merge()
    this.#buf[this.#buffered++] = ns
    this.#count++
    this.#sum += ns
  }

  /** Nearest-rank percentiles (0 when there was no episode): p in (0, 100]. */
  percentiles(ps: readonly number[]): number[] {
    const n = this.#count
    if (n === 0) return ps.map(() => 0)
    this.#merge()
    return ps.map((p) => this.#at(Math.min(n, Math.max(1, Math.ceil((p / 100) * n)))))
  }

  /** The sum of every episode's length (integer ns: exact below 2^53). */
  total(): number {
    return this.#sum
  }

  /** Bytes held (tests show the table stays small when lengths repeat). */
  bytes(): number {
    return this.#buf.byteLength + this.#len.byteLength + this.#cnt.byteLength
  }

  /** The length at rank `rank` (1-based) in increasing order; the table is merged. */
  #at(rank: number): number {
    let seen = 0
    for (let i = 0; i < this.#distinct; i++) {
      seen += this.#cnt[i]!
      if (seen >= rank) return this.#len[i]!
    }
    return this.#len[this.#distinct - 1]!
  }

  /** Sorts the buffer and merges it into the table; the buffer then holds as many as the table. */
  #merge(): void {
    const b = this.#buf.subarray(0, this.#buffered).sort()
    const len = new Float64Array(this.#distinct + b.length)
    const cnt = new Float64Array(this.#distinct + b.length)
    let i = 0
    let j = 0
    let d = 0
    while (i < this.#distinct || j < b.length) {
      const v = j === b.length || (i < this.#distinct && this.#len[i]! <= b[j]!) ? this.#len[i]! : b[j]!
      let c = 0
      if (i < this.#distinct && this.#len[i] === v) c += this.#cnt[i++]!
      while (j < b.length && b[j] === v) {
        c++
        j++
      }
      len[d] = v
      cnt[d++] = c
    }
    this.#len = len.slice(0, d)
    this.#cnt = cnt.slice(0, d)
    this.#distinct = d
    this.#buffered = 0
    if (this.#buf.length < d) this.#buf = new Float64Array(d)
  }
}
