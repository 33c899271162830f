/**
 * The choice tape: every real scheduler choice (which of several runnable threads goes first, which
 * waiter a wake picks) is drawn here and recorded, so a run can be replayed and shrunk. A loaded
 * schedule (the scenario's `schedule` key) supplies the choices while it lasts, then the seed does.
 * The "sched" stream advances on every choice, replayed or not, so a schedule that is a prefix of a
 * run's recorded choices reproduces that run exactly.
 */
import * as Data from "effect/Data"
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

/** A choice the tape is about to make once the loaded schedule has run out (what a ChoicePolicy sees). */
export interface ChoicePoint {
  /** Its position on the tape (choices with one option are not on it). */
  readonly index: number
  readonly kind: string
  /** How many options: the pick is an integer in [0, n). */
  readonly n: number
  /** What the seed picks here (the "sched" stream advances whatever the policy returns). */
  readonly drawn: number
  /**
   * Inside order(): the positions, in the original list, of the options still left (option i is
   * among[i]); a policy that gives each position a priority (PCT) picks by it. Absent for choose().
   */
  readonly among?: readonly number[]
}

/**
 * Picks instead of the seed once the schedule has run out: explorers and property tests steer
 * the interleaving through it. It must return an integer in [0, n); the tape records it.
 */
export type ChoicePolicy = (choice: ChoicePoint) => number

/** Draws, replays and records scheduler choices. */
export class ChoiceTape {
  readonly #prng: Prng
  readonly #clock: VirtualClock
  readonly #trace: Trace
  readonly #schedule: readonly number[]
  readonly #policy: ChoicePolicy | undefined
  readonly #recorded: number[] = []

  /**
   * `prng` is the "sched" stream; `schedule` the recorded choices to replay first; `policy`, if
   * given, makes the choices after the schedule instead of the seed.
   */
  constructor(prng: Prng, clock: VirtualClock, trace: Trace, schedule: readonly number[] = [], policy?: ChoicePolicy) {
    this.#prng = prng
    this.#clock = clock
    this.#trace = trace
    this.#schedule = schedule
    this.#policy = policy
  }

  /** An index in [0, n): the next scheduled value while the schedule lasts, else a draw. n == 1 is no choice. */
  choose(kind: string, n: number): number {
    return this.#choose(kind, n, undefined)
  }

  #choose(kind: string, n: number, among: readonly number[] | undefined): number {
    assert(Number.isInteger(n) && n >= 1 && n <= 2 ** 32, `ChoiceTape.choose(${kind}): bad option count ${n}`)
    if (n === 1) return 0
    const drawn = this.#prng.nextInt(n)
    const index = this.#recorded.length
    let pick = drawn
    if (index < this.#schedule.length) {
      pick = this.#schedule[index]!
      if (!(Number.isInteger(pick) && pick >= 0 && pick < n)) throw new ScheduleMismatch({ index, kind, n, pick })
    } else if (this.#policy !== undefined) {
      pick = this.#policy(
        among === undefined ? { index, kind, n, drawn } : { index, kind, n, drawn, among: among.slice() }
      )
      assert(Number.isInteger(pick) && pick >= 0 && pick < n, `ChoicePolicy: picked ${pick} of ${n} (${kind})`)
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
    while (left.length > 0) out.push(left.splice(this.#choose(kind, left.length, left), 1)[0]!)
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
