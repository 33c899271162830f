/** A broken invariant of the simulator itself (a programmer error): thrown, never caught. */
export class AssertionError extends Error {
  override readonly name = "AssertionError"
}

/** Throws an AssertionError when `condition` is false. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}
