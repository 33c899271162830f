/**
 * The choice tape: every real scheduler choice (which of several runnable threads goes first, which
 * waiter a wake picks) is drawn here and recorded, so a run can be replayed and shrunk. A loaded
 * schedule (the scenario's `schedule` key) supplies the choices while it lasts, then the seed does.
 * The "sched" stream advances on every choice, replayed or not, so a schedule that is a prefix of a
 * run's recorded choices reproduces that run exactly.
 */
import { Data } from "effect"
import { assert } from "./internal/assert.ts"
import type { Prng } from "./Prng.ts"
import type { Trace } from "./Trace.ts"
import type { VirtualClock } from "./VirtualClock.ts"

/** A loaded schedule holds a value that does not fit the choice being made (user input, not a bug). */
export class ScheduleMismatch extends Data.TaggedError("ScheduleMismatch")<{
  readonly index: number
  readonly kind: string
  readonly n: number
  readonly pick: number
}> {
  override get message(): string {
    return `schedule[${this.index}] is ${this.pick}, but that ${this.kind} choice has ${this.n} options (0..${this.n - 1})`
  }
}

/** Draws, replays and records scheduler choices. */
export class ChoiceTape {
  readonly #prng: Prng
  readonly #clock: VirtualClock
  readonly #trace: Trace
  readonly #schedule: readonly number[]
  readonly #recorded: number[] = []

  /** `prng` is the "sched" stream; `schedule` the recorded choices to replay first. */
  constructor(prng: Prng, clock: VirtualClock, trace: Trace, schedule: readonly number[] = []) {
    this.#prng = prng
    this.#clock = clock
    this.#trace = trace
    this.#schedule = schedule
  }

  /** An index in [0, n): the next scheduled value while the schedule lasts, else a draw. n == 1 is no choice. */
  choose(kind: string, n: number): number {
    assert(Number.isInteger(n) && n >= 1 && n <= 2 ** 32, `ChoiceTape.choose(${kind}): bad option count ${n}`)
    if (n === 1) return 0
    const drawn = this.#prng.nextInt(n)
    const index = this.#recorded.length
    let pick = drawn
    if (index < this.#schedule.length) {
      pick = this.#schedule[index]!
      if (!(Number.isInteger(pick) && pick >= 0 && pick < n)) throw new ScheduleMismatch({ index, kind, n, pick })
    }
    this.#recorded.push(pick)
    if (this.#trace.enabled) this.#trace.emit(this.#clock.now_ns, "choice", { kind, n, pick })
    return pick
  }

  /** A permutation of 0..n-1 made of n-1 choices (each picks the next among those left). */
  order(kind: string, n: number): number[] {
    assert(Number.isInteger(n) && n >= 0, `ChoiceTape.order(${kind}): bad count ${n}`)
    const left = Array.from({ length: n }, (_, i) => i)
    const out: number[] = []
    while (left.length > 0) out.push(left.splice(this.choose(kind, left.length), 1)[0]!)
    return out
  }

  /** True while choices still come from the loaded schedule. */
  get replaying(): boolean {
    return this.#recorded.length < this.#schedule.length
  }

  /** The choices made so far, in order (what the scenario's `schedule` key replays). */
  recorded(): number[] {
    return this.#recorded.slice()
  }
}
