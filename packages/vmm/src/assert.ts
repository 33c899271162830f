// Programmer errors: a failed assertion throws (never a kernel-visible failure).

/** Thrown by assert(): a broken invariant of the code, not of the simulated system. */
export class AssertionError extends Error {
  override readonly name = "AssertionError"
}

/** Throws an AssertionError with `message` unless `cond` holds. */
export function assert(cond: boolean, message: string): asserts cond {
  if (!cond) throw new AssertionError(message)
}
