// Virtual time and sizes as a reader wants them: `12.004 ms` aligned in a column, addresses in hex,
// and the spec's value syntax (durations, addresses) for command-line arguments.
import { address, duration } from "@rwpsim/scenario"

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

/** A duration as the spec writes it (`"10ms"`, `"250ns"`, or integer ns), or an error message. */
export function parseDurationArg(text: string): number | string {
  const v = /^\d+$/.test(text) ? Number(text) : text
  const r = duration.safeParse(v)
  return r.success ? r.data : `expected a duration like 1000 (ns), "50us" or "10ms", got "${text}"`
}

/** An address as the spec writes it (`guest_mem+0x1000`, `0x7f0000001000`, `4096`), unresolved. */
export function parseAddressArg(text: string): { readonly base: string | null; readonly offset: number } | string {
  const v = /^\d+$/.test(text) ? Number(text) : text
  const r = address.safeParse(v)
  return r.success
    ? r.data
    : `expected an address like 4096, 0x7f0000001000, guest_mem or "guest_mem+0x1000", got "${text}"`
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
