// Comparing what an op did with what its step expects; each mismatch ends the step with a message
// that says expected versus actual.
import { type Flags, type FlagGroup, bits, ioctlBit, ioctlNames, names } from "./constants.ts"
import { StepFailed } from "./context.ts"

export interface ErrnoExpect {
  readonly errno?: string | undefined
}

type Sys = { readonly ok: true } | { readonly ok: false; readonly errno: string }

/**
 * Checks the errno expectation. True when the call succeeded as expected and its results should be
 * checked; false when it failed with the expected errno.
 */
export function checkErrno<R extends Sys>(
  res: R,
  expect: ErrnoExpect | undefined,
  what: string
): res is Extract<R, { ok: true }> {
  const want = expect?.errno
  if (res.ok) {
    if (want !== undefined) throw new StepFailed(`expected ${what} to fail with ${want}, it succeeded`)
    return true
  }
  if (want === undefined) throw new StepFailed(`${what} failed with ${res.errno}, expected success`)
  if (want !== res.errno) throw new StepFailed(`expected ${what} to fail with ${want}, got ${res.errno}`)
  return false
}

export function checkEqual(what: string, want: unknown, got: unknown): void {
  if (want !== got) throw new StepFailed(`${what}: expected ${String(want)}, got ${String(got)}`)
}

/** `include`/`exclude`/`exact` checks of a bit mask against flag names. */
export function checkMask(
  what: string,
  got: number,
  prefix: FlagGroup,
  e: { exact?: Flags | undefined; include?: Flags | undefined; exclude?: Flags | undefined }
): void {
  const shown = () => `[${names(got, prefix).join(", ")}]`
  if (e.exact !== undefined) {
    const want = bits(e.exact, prefix)
    if (want !== got >>> 0) {
      const missing = names((want & ~got) >>> 0, prefix)
      const extra = names((got & ~want) >>> 0, prefix)
      throw new StepFailed(
        `${what}: expected exactly [${names(want, prefix).join(", ")}], got ${shown()}` +
          (missing.length > 0 ? `; missing ${missing.join(", ")}` : "") +
          (extra.length > 0 ? `; unexpected ${extra.join(", ")}` : "")
      )
    }
  }
  if (e.include !== undefined) {
    const want = bits(e.include, prefix)
    const missing = (want & ~got) >>> 0
    if (missing !== 0)
      throw new StepFailed(`${what}: expected to include ${names(missing, prefix).join(", ")}, got ${shown()}`)
  }
  if (e.exclude !== undefined) {
    const bad = (bits(e.exclude, prefix) & got) >>> 0
    if (bad !== 0) throw new StepFailed(`${what}: expected to exclude ${names(bad, prefix).join(", ")}, got ${shown()}`)
  }
}

export function checkIoctls(what: string, got: bigint, include?: readonly string[], exclude?: readonly string[]): void {
  for (const n of include ?? []) {
    const b = ioctlBit(n)
    if (b === undefined || (got & b) === 0n)
      throw new StepFailed(`${what}: expected to include ${n}, got [${ioctlNames(got).join(", ")}]`)
  }
  for (const n of exclude ?? []) {
    const b = ioctlBit(n)
    if (b !== undefined && (got & b) !== 0n)
      throw new StepFailed(`${what}: expected to exclude ${n}, got [${ioctlNames(got).join(", ")}]`)
  }
}
