/**
 * Virtual time: an integer number of nanoseconds that only moves forward, and only when the
 * engine says so. Nothing in the simulation reads the host's clock.
 */
import { assert } from "./internal/assert.ts"

/** The largest virtual time the engine accepts (exclusive): integers stay exact below 2^53. */
export const T_NS_MAX = 2 ** 53

/** Asserts that `t_ns` is a valid virtual time: an integer in [0, 2^53). */
export function assertTime(t_ns: number, what: string): void {
  // the message only when it fails (this runs several times per event)
  if (!(Number.isSafeInteger(t_ns) && t_ns >= 0 && t_ns < T_NS_MAX))
    assert(false, `${what}: not a virtual time in ns: ${t_ns}`)
}

/** The simulation's clock, in integer ns. */
export class VirtualClock {
  #now_ns = 0

  /** The current virtual time in ns. */
  get now_ns(): number {
    return this.#now_ns
  }

  /** Moves the clock to `t_ns`; time never goes backwards. */
  advance_to(t_ns: number): void {
    assertTime(t_ns, "VirtualClock.advance_to")
    if (!(t_ns >= this.#now_ns)) assert(false, `VirtualClock.advance_to: ${t_ns} is before now (${this.#now_ns})`)
    this.#now_ns = t_ns
  }
}
