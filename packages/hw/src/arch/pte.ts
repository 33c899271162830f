/**
 * The arch-neutral view of one leaf page-table entry and the interface every arch layout implements
 * (rwp-semantics.md §15, §2.2, §8.1). Raw entries are 64-bit bigints.
 */

import type { Arch } from "../cpufeature.ts"

/** The arch-neutral meaning of one leaf entry. */
export interface PteFields {
  kind: "none" | "present" | "swap"
  /** present: frame number; swap: swap offset */
  pfn: number
  swap_type: number
  write: boolean
  user: boolean
  exec: boolean
  /** PAGE_NONE: RWP-protected, NUMA hint or PROT_NONE. write/user/exec are false. */
  protnone: boolean
  /** pte_uffd (present) / pte_swp_uffd (swap) */
  uffd: boolean
  young: boolean
  dirty: boolean
  soft_dirty: boolean
  /** swap only: PG_anon_exclusive remembered in the swap entry */
  exclusive: boolean
  special: boolean
  /** PMD/PUD leaf (x86 PSE; arm64 block; riscv leaf at a higher level) */
  huge: boolean
}

export interface PteLayout {
  readonly arch: Arch
  /** pgtable_supports_uffd(): riscv only with Svrsw60t59b */
  readonly has_uffd_bit: boolean
  /** bit index of the uffd bit in a present PTE, -1 if none */
  readonly uffd_bit: number
  /** bit index of the uffd bit in a swap PTE, -1 if none */
  readonly swp_uffd_bit: number
  /** CONFIG_MEM_SOFT_DIRTY bits exist (x86 yes, arm64 no, riscv only with Svrsw60t59b) */
  readonly has_soft_dirty: boolean
  /** largest encodable pfn of a present entry */
  readonly max_pfn: number
  /** largest encodable swap offset */
  readonly max_swap_offset: number
  /**
   * mk_pte / pte_mkuffd / swp_entry_to_pte etc. composed. Throws on a field this layout cannot hold
   * (uffd or soft-dirty without a bit, pfn out of range) or an inconsistent combination.
   */
  encode(f: PteFields): bigint
  /**
   * The fields of raw. `huge` says the entry was read at PMD/PUD level: x86 (PSE) and arm64 (block
   * type) carry it in the entry and ignore the argument; riscv has no such bit and returns it.
   */
  decode(raw: bigint, huge?: boolean): PteFields
  /** true for protnone entries too */
  pte_present(raw: bigint): boolean
  /** exactly the §2.2 table formula */
  pte_protnone(raw: bigint): boolean
  /** the uffd bit of a present entry (the raw bit, as the kernel tests it) */
  pte_uffd(raw: bigint): boolean
  /** the uffd bit of a swap entry */
  pte_swp_uffd(raw: bigint): boolean
  /** pte_modify(pte, PAGE_NONE) | uffd: the RWP-protected encoding of a present entry (§8.1) */
  mk_rwp(raw: bigint): bigint
  /** The inverse: pte_modify(pte, vm_page_prot) of a user page, clear uffd, pte_mkyoung (do_numa_page order). */
  resolve_rwp(raw: bigint, prot: { write: boolean; exec: boolean }): bigint
}

/** pte_none(): every field clear. */
export const PTE_NONE_FIELDS: Readonly<PteFields> = Object.freeze({
  kind: "none",
  pfn: 0,
  swap_type: 0,
  write: false,
  user: false,
  exec: false,
  protnone: false,
  uffd: false,
  young: false,
  dirty: false,
  soft_dirty: false,
  exclusive: false,
  special: false,
  huge: false
})

export const U64 = (1n << 64n) - 1n

/** 1 << n as a 64-bit value. */
export function bit(n: number): bigint {
  return 1n << BigInt(n)
}

/** Bits lo..hi inclusive (GENMASK_ULL(hi, lo)). */
export function genmask(hi: number, lo: number): bigint {
  return ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo)
}

/** ~x within 64 bits. */
export function not64(x: bigint): bigint {
  return ~x & U64
}

/** `bits` when `cond`, else 0. */
export function when(cond: boolean, bits: bigint): bigint {
  return cond ? bits : 0n
}

export function has(raw: bigint, bits: bigint): boolean {
  return (raw & bits) !== 0n
}

export const SWP_TYPE_MAX = 31 // 5 type bits on every arch here (MAX_SWAPFILES_SHIFT)

export interface LayoutCaps {
  arch: Arch
  has_uffd_bit: boolean
  has_soft_dirty: boolean
  max_pfn: number
  max_swap_offset: number
}

/** Throws unless f is a combination this layout can encode. */
export function check_fields(f: PteFields, c: LayoutCaps): void {
  const fail = (why: string): never => {
    throw new Error(`${c.arch} pte encode: ${why}`)
  }
  const flags_clear = (names: readonly (keyof PteFields)[]): void => {
    for (const n of names) if (f[n] !== false) fail(`${f.kind} entry cannot have ${n}`)
  }
  if (f.kind === "none") {
    flags_clear(["write", "user", "exec", "protnone", "uffd", "young", "dirty", "soft_dirty", "exclusive"])
    flags_clear(["special", "huge"])
    if (f.pfn !== 0 || f.swap_type !== 0) fail("none entry has pfn or swap_type")
    return
  }
  if (f.uffd && !c.has_uffd_bit) fail("no uffd bit on this machine (pgtable_supports_uffd() is false)")
  if (f.soft_dirty && !c.has_soft_dirty) fail("no soft-dirty bit on this machine")
  if (f.kind === "present") {
    if (!Number.isSafeInteger(f.pfn) || f.pfn < 0 || f.pfn > c.max_pfn) fail(`pfn ${f.pfn} out of range`)
    if (f.swap_type !== 0) fail("present entry has swap_type")
    flags_clear(["exclusive"])
    if (f.protnone) flags_clear(["write", "user", "exec"])
    return
  }
  if (!Number.isSafeInteger(f.pfn) || f.pfn < 0 || f.pfn > c.max_swap_offset) fail(`swap offset ${f.pfn} out of range`)
  if (!Number.isInteger(f.swap_type) || f.swap_type < 0 || f.swap_type > SWP_TYPE_MAX) fail("swap_type out of range")
  flags_clear(["write", "user", "exec", "protnone", "young", "dirty", "special", "huge"])
}

/** Throws unless raw is present (mk_rwp / resolve_rwp work on present entries only). */
export function need_present(l: PteLayout, raw: bigint, what: string): void {
  if (!l.pte_present(raw)) throw new Error(`${l.arch} ${what}: entry 0x${raw.toString(16)} is not present`)
}

/** Throws if a swap entry would encode as pte_none. */
export function need_nonzero(arch: Arch, raw: bigint): bigint {
  if (raw === 0n) throw new Error(`${arch} pte encode: swap entry encodes as pte_none`)
  return raw
}
