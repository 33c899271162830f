/** Thrown by assert(): a broken invariant, a programmer error, never caught. */
export class AssertionError extends Error {
  override readonly name = "AssertionError"
}

/** Checks a programmer invariant; throws AssertionError when it does not hold. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}
