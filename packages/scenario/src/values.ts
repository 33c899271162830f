/**
 * The value types of scenario files (spec "Values"): each is a zod type whose input is what a user
 * writes (`4096`, `"4KiB"`, `"buf+0x3000"`) and whose output is the canonical form the runner uses
 * (bytes, integer ns, `{ base, offset }`). Names and flags are only checked for shape here; the
 * runner resolves them, since only it knows the mappings and the kernel's constants.
 */
import * as z from "zod"
import { expected, show } from "./messages.ts"
import { strict } from "./strict.ts"

const UNIT_SIZE: Readonly<Record<string, bigint>> = {
  B: 1n,
  KiB: 1n << 10n,
  MiB: 1n << 20n,
  GiB: 1n << 30n,
  TiB: 1n << 40n
}
const UNIT_NS: Readonly<Record<string, bigint>> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n }

const SIZE_RE = /^(\d+(?:\.\d+)?) ?(B|KiB|MiB|GiB|TiB)$/
const DURATION_RE = /^(\d+(?:\.\d+)?) ?(ns|us|ms|s)$/
const PERCENT_RE = /^(\d+(?:\.\d+)?) ?%$/
const BANDWIDTH_RE = /^(\d+(?:\.\d+)?) ?(B|KiB|MiB|GiB|TiB)\/s$/
const HEX_RE = /^0x[0-9a-fA-F]+$/
/** Names given with `as:` (and storage names): no `+`, so `name+offset` is unambiguous. */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/
/** A kernel constant's name, as in the uapi headers (`UFFD_FEATURE_RWP`, `_UFFDIO_RWPROTECT`). */
export const CONSTANT_RE = /^[A-Z_][A-Z0-9_]*$/
const ADDRESS_STRING_RE =
  /^(?:0x[0-9a-fA-F]+|[A-Za-z_][A-Za-z0-9_.-]*(?: ?\+ ?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?: ?(?:B|KiB|MiB|GiB|TiB))?))?)$/

/** `digits[.fraction] * unit` exactly, or undefined when it is not a whole safe integer. */
function scaleDecimal(decimal: string, unit: bigint): number | undefined {
  const [whole, fraction = ""] = decimal.split(".")
  const scaled = BigInt(whole + fraction) * unit
  const divisor = 10n ** BigInt(fraction.length)
  if (scaled % divisor !== 0n) return undefined
  const value = scaled / divisor
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined
}

type Ctx = z.core.$RefinementCtx<unknown>

function fail(ctx: Ctx, input: unknown, message: string): never {
  ctx.issues.push({ code: "custom", input, message })
  return z.NEVER
}

/** Bytes from a size string already matched by SIZE_RE-like `m`; undefined when not whole. */
function sizeOf(m: RegExpExecArray): number | undefined {
  return scaleDecimal(m[1], UNIT_SIZE[m[2]])
}

const SIZE_WHAT = 'a size like 4096 or "4KiB" (units B, KiB, MiB, GiB, TiB)'
const sizeError = expected(SIZE_WHAT)

/** size: an integer number of bytes, or a string with a unit B, KiB, MiB, GiB, TiB → bytes. */
export const size = z
  .union(
    [
      z.int({ error: sizeError }).min(0, { error: sizeError }),
      z.string({ error: sizeError }).regex(SIZE_RE, { error: sizeError })
    ],
    { error: sizeError }
  )
  .transform((v, ctx) => {
    if (typeof v === "number") return v
    return sizeOf(SIZE_RE.exec(v)!) ?? fail(ctx, v, `expected a whole number of bytes (below 2^53), got ${show(v)}`)
  })
  .meta({ id: "size", description: 'A size: an integer number of bytes, or a string with a unit: "4KiB", "2MiB".' })

const DURATION_WHAT = 'a duration like 1000 (ns) or "50us" (units ns, us, ms, s)'
const durationError = expected(DURATION_WHAT)

/** duration: an integer number of nanoseconds, or a string with a unit ns, us, ms, s → integer ns. */
export const duration = z
  .union(
    [
      z.int({ error: durationError }).min(0, { error: durationError }),
      z.string({ error: durationError }).regex(DURATION_RE, { error: durationError })
    ],
    { error: durationError }
  )
  .transform((v, ctx) => {
    if (typeof v === "number") return v
    const m = DURATION_RE.exec(v)!
    return (
      scaleDecimal(m[1], UNIT_NS[m[2]]) ??
      fail(ctx, v, `expected a whole number of nanoseconds (below 2^53), got ${show(v)}`)
    )
  })
  .meta({
    id: "duration",
    description: 'A duration: an integer number of nanoseconds, or a string with a unit: "250ns", "50us", "10ms", "2s".'
  })

const PERCENT_WHAT = 'a percentage like 0.1 or "10%" (0 to 1, or 0% to 100%)'
const percentError = expected(PERCENT_WHAT)

/** percentage: a number from 0 to 1, or a string "10%" → a number from 0 to 1. */
export const percentage = z
  .union(
    [
      z.number({ error: percentError }).min(0, { error: percentError }).max(1, { error: percentError }),
      z.string({ error: percentError }).regex(PERCENT_RE, { error: percentError })
    ],
    { error: percentError }
  )
  .transform((v, ctx) => {
    if (typeof v === "number") return v
    const p = Number(PERCENT_RE.exec(v)![1])
    return p <= 100 ? p / 100 : fail(ctx, v, `expected ${PERCENT_WHAT}, got ${show(v)}`)
  })
  .meta({ id: "percentage", description: 'A percentage: a number from 0 to 1, or a string "10%".' })

const BANDWIDTH_WHAT = 'a bandwidth like "2GiB/s" (a size per second) or an integer number of bytes per second'
const bandwidthError = expected(BANDWIDTH_WHAT)

/** bandwidth: a size per second, "2GiB/s" (or an integer number of bytes per second) → bytes/s. */
export const bandwidth = z
  .union(
    [
      z.int({ error: bandwidthError }).min(1, { error: bandwidthError }),
      z.string({ error: bandwidthError }).regex(BANDWIDTH_RE, { error: bandwidthError })
    ],
    { error: bandwidthError }
  )
  .transform((v, ctx) => {
    if (typeof v === "number") return v
    const bytes = sizeOf(BANDWIDTH_RE.exec(v)!)
    if (bytes === undefined)
      return fail(ctx, v, `expected a whole number of bytes per second (below 2^53), got ${show(v)}`)
    return bytes > 0 ? bytes : fail(ctx, v, `expected a bandwidth above 0, got ${show(v)}`)
  })
  .meta({
    id: "bandwidth",
    description: 'A bandwidth: a size per second, "2GiB/s", or an integer of bytes per second.'
  })

const NAME_WHAT = 'a name like "guest_mem" (a letter or _, then letters, digits, _ . -)'
const nameError = expected(NAME_WHAT)

/** A name given with `as:` or referring to one (files, mappings, userfaultfds, storage objects). */
export const name = z
  .string({ error: nameError })
  .regex(NAME_RE, { error: nameError })
  .meta({ id: "name", description: "A name given with `as:` (files, mappings, userfaultfds, storage objects)." })

/** An address before the runner resolves it: `base` is a mapping's name (its start) or null. */
export interface Address {
  readonly base: string | null
  readonly offset: number
}

const ADDRESS_WHAT = 'an address like 4096, "buf", "buf+0x3000" or "buf+8KiB"'
const addressError = expected(ADDRESS_WHAT)

function parseOffset(text: string): number | undefined {
  if (HEX_RE.test(text)) {
    const n = Number.parseInt(text.slice(2), 16)
    return Number.isSafeInteger(n) ? n : undefined
  }
  if (/^\d+$/.test(text)) {
    const n = Number(text)
    return Number.isSafeInteger(n) ? n : undefined
  }
  const m = SIZE_RE.exec(text)
  return m === null ? undefined : sizeOf(m)
}

/** address: an integer, a mapping's name, or "name+offset" (offset a size or hex) → { base, offset }. */
export const address = z
  .union(
    [
      z.int({ error: addressError }).min(0, { error: addressError }),
      z.string({ error: addressError }).regex(ADDRESS_STRING_RE, { error: addressError })
    ],
    { error: addressError }
  )
  .transform((v, ctx): Address => {
    if (typeof v === "number") return { base: null, offset: v }
    if (HEX_RE.test(v)) {
      const offset = parseOffset(v)
      return offset === undefined
        ? fail(ctx, v, `expected an address below 2^53, got ${show(v)}`)
        : { base: null, offset }
    }
    const plus = v.indexOf("+")
    if (plus < 0) return { base: v, offset: 0 }
    const base = v.slice(0, plus).trim()
    const offset = parseOffset(v.slice(plus + 1).trim())
    if (offset === undefined) {
      return fail(ctx, v, `expected an offset after "+" that is a size like "8KiB" or hex like 0x3000, got ${show(v)}`)
    }
    return { base, offset }
  })
  .meta({
    id: "address",
    description:
      'An address: an integer, a mapping\'s name (its start), or "name+offset" where offset is a size or a hex number: "guest_mem+0x3000", "guest_mem+8KiB".'
  })

/** Flags as written: constant names (mapped to bits by the runner) or raw bits. */
export type Flags = { readonly names: readonly string[] } | { readonly raw: number }

const FLAGS_WHAT = "flags: a list of constant names like [UFFD_FEATURE_RWP], one name, [] or an integer of raw bits"
const flagsError = expected(FLAGS_WHAT)
const CONSTANT_WHAT = "a constant name like UFFD_FEATURE_RWP (capitals, digits and _)"
const constantError = expected(CONSTANT_WHAT)

/** One kernel constant's name. */
export const constantName = z.string({ error: constantError }).regex(CONSTANT_RE, { error: constantError })

/** flags: a list of constant names, one bare name, [] or an integer of raw bits → { names } | { raw }. */
export const flags = z
  .union(
    [
      z.array(constantName, { error: flagsError }),
      constantName,
      z.int({ error: flagsError }).min(0, { error: flagsError })
    ],
    { error: flagsError }
  )
  .transform((v): Flags => {
    if (typeof v === "number") return { raw: v }
    return { names: typeof v === "string" ? [v] : v }
  })
  .meta({
    id: "flags",
    description:
      "Flags: a list of the kernel's constant names ([UFFDIO_REGISTER_MODE_RWP, UFFDIO_REGISTER_MODE_MISSING]), a single name, [] for none, or an integer giving the raw bits."
  })

/** A set of ioctls: as flags, with `UFFDIO_X` normalised to the man pages' `_UFFDIO_X` (bit `1 << _UFFDIO_X`). */
export const ioctls = flags
  .transform((f): Flags => ("raw" in f ? f : { names: f.names.map((n) => (n.startsWith("_") ? n : `_${n}`)) }))
  .meta({
    description:
      "A set of ioctls, named as the man pages' `1 << _UFFDIO_*` bits (_UFFDIO_RWPROTECT); UFFDIO_RWPROTECT is accepted too and normalised to _UFFDIO_RWPROTECT. An integer gives raw bits."
  })

/** range: { start: address, len: size }. */
export const range = strict(
  {
    start: address.meta({ description: "First byte of the range. Required." }),
    len: size.meta({ description: "Length of the range in bytes. Required." })
  },
  "a range like { start: buf, len: 4KiB }"
).meta({ id: "range", description: "A range: { start: address, len: size }." })

/** A 32-bit page word (one unsigned word per page). */
export const word = z
  .int({ error: expected("an unsigned 32-bit integer (0 to 4294967295)") })
  .min(0, { error: expected("an unsigned 32-bit integer (0 to 4294967295)") })
  .max(0xffff_ffff, { error: expected("an unsigned 32-bit integer (0 to 4294967295)") })

export type Size = z.output<typeof size>
export type Duration = z.output<typeof duration>
export type Range = z.output<typeof range>
