// The human view of an event, one line as trace-cmd report prints it:
//      12.004 ms  vcpu1     k.userfault         addr=guest_mem+0x1000 reason=rwp write=false fd=4
// Addresses are shown against the trace's named mappings, flag words by their kernel names.
import * as K from "@rwpsim/kernel"
import { type FieldValue, fieldsOf, type TraceEvent } from "./record.ts"
import type { AddressSpace } from "./space.ts"
import { formatTime, hex, showSize } from "./units.ts"

const ADDRESS_FIELDS = new Set(["addr", "dst", "from", "to", "start", "address", "walk_end", "guest_mem", "io_mem"])

/** The single-bit constants named `prefix*`, shown without the prefix (`MISSING`, `RWP_ASYNC`). */
function bitNames(prefix: string): [number, string][] {
  const out: [number, string][] = []
  for (const [k, v] of Object.entries(K)) {
    if (k.startsWith(prefix) && typeof v === "number" && v > 0 && (v & (v - 1)) === 0)
      out.push([v, k.slice(prefix.length)])
  }
  return out.sort((a, b) => a[0] - b[0])
}

const FEATURES = bitNames("UFFD_FEATURE_").filter(([, k]) => k !== "TOGGLEABLE")
const PROT: [number, string][] = [
  [1, "READ"],
  [2, "WRITE"],
  [4, "EXEC"]
]
const MAP: [number, string][] = [
  [1, "SHARED"],
  [2, "PRIVATE"],
  [0x10, "FIXED"],
  [0x20, "ANONYMOUS"]
]
const REGISTER = bitNames("UFFDIO_REGISTER_MODE_")
const RWPROTECT = bitNames("UFFDIO_RWPROTECT_MODE_")
const WRITEPROTECT = bitNames("UFFDIO_WRITEPROTECT_MODE_")
const PAGE_IS = bitNames("PAGE_IS_")

/** `A|B` for the bits of `v` (unknown bits in hex), `0` for none. */
export function showBits(v: number, names: readonly [number, string][]): string {
  if (v === 0) return "0"
  const out: string[] = []
  let rest = v
  for (const [bit, name] of names) {
    if ((v & bit) !== 0) {
      out.push(name)
      rest &= ~bit
    }
  }
  if (rest !== 0) out.push(hex(rest))
  return out.join("|")
}

function flagNames(ev: string, key: string): readonly [number, string][] | undefined {
  if (key === "enable" || key === "disable" || key === "features" || key === "probed_features") return FEATURES
  if (key === "mode" && ev.endsWith("uffd_register")) return REGISTER
  if (key === "mode" && ev.endsWith("rwprotect")) return RWPROTECT
  if (key === "mode" && ev.endsWith("writeprotect")) return WRITEPROTECT
  if (key === "mask" || key === "inverted") return PAGE_IS
  if (key === "prot" && ev === "k.mmap") return PROT
  if (key === "flags" && ev === "k.mmap") return MAP
  return undefined
}

/** One field value for reading. */
export function showValue(ev: string, key: string, v: FieldValue, space: AddressSpace): string {
  if (typeof v === "number") {
    if (ADDRESS_FIELDS.has(key) && v >= 4096) return space.show(v)
    if ((key === "len" || key === "bytes") && v > 0) return showSize(v)
    if ((key === "off" || key === "offset") && v > 0) return hex(v)
    const names = flagNames(ev, key)
    if (names !== undefined && Number.isInteger(v) && v >= 0) return showBits(v, names)
    return String(v)
  }
  if (typeof v === "string") return /^[\w.:/+-]+$/.test(v) ? v : JSON.stringify(v)
  return JSON.stringify(v)
}

/** ANSI colour on a TTY; identity otherwise. */
export interface Paint {
  readonly dim: (s: string) => string
  readonly thread: (name: string, s: string) => string
  readonly event: (ev: string, s: string) => string
}

const esc = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`
const THREAD_COLOURS = ["33", "36", "35", "32", "34", "93", "96", "95"]

export const PLAIN: Paint = { dim: (s) => s, thread: (_n, s) => s, event: (_e, s) => s }

export const ANSI: Paint = {
  dim: esc("2"),
  thread: (name, s) => {
    const m = /^vcpu(\d+)$/.exec(name)
    if (m !== null) return esc(THREAD_COLOURS[Number(m[1]) % THREAD_COLOURS.length]!)(s)
    if (name === "tracker") return esc("1;34")(s)
    if (name === "handler") return esc("1;32")(s)
    return esc("2")(s)
  },
  event: (ev, s) => {
    if (ev === "violation" || ev === "error" || ev === "fail" || ev.startsWith("checker.") || ev.startsWith("guest."))
      return esc("1;31")(s)
    if (ev.startsWith("k.")) return esc("36")(s)
    if (ev.startsWith("vmm.")) return esc("32")(s)
    if (ev.startsWith("vcpu")) return esc("33")(s)
    if (ev === "step") return esc("35")(s)
    return s
  }
}

/** The view line of `e`, run by `thread`. */
export function formatEvent(e: TraceEvent, thread: string, space: AddressSpace, paint: Paint = PLAIN): string {
  const fields = fieldsOf(e)
    .map(([k, v]) => `${paint.dim(`${k}=`)}${showValue(e.ev, k, v, space)}`)
    .join(" ")
  return `${paint.dim(formatTime(e.t))}  ${paint.thread(thread, thread.padEnd(8))}  ${paint.event(e.ev, e.ev.padEnd(18))}  ${fields}`.trimEnd()
}
