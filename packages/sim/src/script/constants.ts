// Scenario flag names → the kernel's bits. Every group is the set of the kernel's exported
// constants with that prefix, so a name is valid exactly when the kernel model defines it.
import * as uapi from "@rwpsim/kernel"

export type FlagGroup =
  | "PROT_"
  | "MAP_"
  | "MADV_"
  | "FALLOC_FL_"
  | "O_"
  | "UFFD_FEATURE_"
  | "UFFDIO_REGISTER_MODE_"
  | "UFFDIO_RWPROTECT_MODE_"
  | "UFFDIO_WRITEPROTECT_MODE_"
  | "UFFDIO_COPY_MODE_"
  | "UFFD_PAGEFAULT_FLAG_"
  | "PAGE_IS_"
  | "PM_SCAN_"
  | "UFFD_EVENT_"

const table = uapi as unknown as Record<string, unknown>
const groups = new Map<FlagGroup, ReadonlyMap<string, number>>()

/** name → value of one constant group, in the kernel's export order made stable by sorting on value. */
export function group(prefix: FlagGroup): ReadonlyMap<string, number> {
  let g = groups.get(prefix)
  if (g === undefined) {
    const entries: [string, number][] = []
    for (const name of Object.keys(table).sort()) {
      const v = table[name]
      if (name.startsWith(prefix) && typeof v === "number") entries.push([name, v])
    }
    // userfaultfd(2) takes UFFD_USER_MODE_ONLY beside the O_ flags.
    if (prefix === "O_" && typeof table.UFFD_USER_MODE_ONLY === "number")
      entries.push(["UFFD_USER_MODE_ONLY", table.UFFD_USER_MODE_ONLY])
    entries.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    g = new Map(entries)
    groups.set(prefix, g)
  }
  return g
}

export type Flags = { readonly names: readonly string[] } | { readonly raw: number }

/** The unknown names of `flags` in `prefix` (empty when all are known). */
export function unknownNames(flags: Flags, prefix: FlagGroup): string[] {
  if ("raw" in flags) return []
  const g = group(prefix)
  return flags.names.filter((n) => !g.has(n))
}

/** The bits of `flags` (names must have been validated). */
export function bits(flags: Flags, prefix: FlagGroup): number {
  if ("raw" in flags) return flags.raw
  const g = group(prefix)
  let v = 0
  for (const n of flags.names) v = (v | g.get(n)!) >>> 0
  return v
}

/** The names of the set bits of `value`, in bit order; bits with no name are shown as hex. */
export function names(value: number, prefix: FlagGroup): string[] {
  const out: string[] = []
  let left = value >>> 0
  for (const [n, v] of group(prefix)) {
    if (v !== 0 && (v & (v - 1)) === 0 && (left & v) === v) {
      out.push(n)
      left = (left & ~v) >>> 0
    }
  }
  if (left !== 0) out.push(`0x${left.toString(16)}`)
  return out
}

/** `_UFFDIO_*` ioctl numbers as bits of a uffdio_api/uffdio_register `ioctls` mask. */
export function ioctlBit(name: string): bigint | undefined {
  const v = table[name.startsWith("_") ? name : `_${name}`]
  return typeof v === "number" ? 1n << BigInt(v) : undefined
}

export function ioctlNames(mask: bigint): string[] {
  const out: string[] = []
  for (const name of Object.keys(table).sort()) {
    const v = table[name]
    if (name.startsWith("_UFFDIO_") && typeof v === "number" && (mask & (1n << BigInt(v))) !== 0n) out.push(name)
  }
  return out
}
