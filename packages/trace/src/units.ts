// Virtual time and sizes as a reader wants them: `12.004 ms` aligned in a column, addresses in hex,
// and the spec's value syntax (durations, addresses) for command-line arguments.

/** `t` in the unit that suits it, 3 decimals, right-aligned to 11 columns: `   12.004 ms`. */
export function formatTime(ns: number, width = 11): string {
  return showTime(ns).padStart(width)
}

/** `t` in the unit that suits it, 3 decimals: `950 ns`, `12.004 ms`, `3.000 s`. */
export function showTime(ns: number): string {
  if (ns < 1_000) return `${ns} ns`
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(3)} us`
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(3)} ms`
  return `${(ns / 1_000_000_000).toFixed(3)} s`
}

const NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }
const BYTES: Readonly<Record<string, number>> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 }

/** `digits[.fraction]` times `unit`, when that is a whole safe integer. */
function scaled(decimal: string, unit: number): number | undefined {
  const [whole, fraction = ""] = decimal.split(".")
  const v = BigInt(whole + fraction) * BigInt(unit)
  const d = 10n ** BigInt(fraction.length)
  if (v % d !== 0n || v / d > BigInt(Number.MAX_SAFE_INTEGER)) return undefined
  return Number(v / d)
}

// The spec's value syntax ("Values"), as the scenario package parses it; kept here without zod so
// the trace readers start fast (a test checks both agree).

/** A duration as the spec writes it (`"10ms"`, `"250ns"`, or integer ns), or an error message. */
export function parseDurationArg(text: string): number | string {
  const bad = `expected a duration like 1000 (ns), "50us" or "10ms", got "${text}"`
  if (/^\d+$/.test(text)) return Number.isSafeInteger(Number(text)) ? Number(text) : bad
  const m = /^(\d+(?:\.\d+)?) ?(ns|us|ms|s)$/.exec(text)
  return m === null ? bad : (scaled(m[1]!, NS[m[2]!]!) ?? bad)
}

function parseOffset(text: string): number | undefined {
  if (/^0x[0-9a-fA-F]+$/.test(text)) {
    const n = Number.parseInt(text.slice(2), 16)
    return Number.isSafeInteger(n) ? n : undefined
  }
  if (/^\d+$/.test(text)) return Number.isSafeInteger(Number(text)) ? Number(text) : undefined
  const m = /^(\d+(?:\.\d+)?) ?(B|KiB|MiB|GiB|TiB)$/.exec(text)
  return m === null ? undefined : scaled(m[1]!, BYTES[m[2]!]!)
}

/** An address as the spec writes it (`guest_mem+0x1000`, `0x7f0000001000`, `4096`), unresolved. */
export function parseAddressArg(text: string): { readonly base: string | null; readonly offset: number } | string {
  const bad = `expected an address like 4096, 0x7f0000001000, guest_mem or "guest_mem+0x1000", got "${text}"`
  if (/^(\d+|0x[0-9a-fA-F]+)$/.test(text)) {
    const n = parseOffset(text)
    return n === undefined ? bad : { base: null, offset: n }
  }
  const m = /^([A-Za-z_][A-Za-z0-9_.-]*)(?: ?\+ ?(.+))?$/.exec(text)
  if (m === null) return bad
  if (m[2] === undefined) return { base: m[1]!, offset: 0 }
  const offset = parseOffset(m[2])
  return offset === undefined ? bad : { base: m[1]!, offset }
}

export const hex = (n: number): string => `0x${n.toString(16)}`

/** Bytes with a binary unit when exact: `4KiB`, `128MiB`, else the integer. */
export function showSize(n: number): string {
  for (const [unit, b] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10]
  ] as const) {
    if (n >= b && n % b === 0) return `${n / b}${unit}`
  }
  return String(n)
}
