/**
 * x86_64 4-level/5-level leaf entries (rwp-semantics.md §15.1). Bits from
 * arch/x86/include/asm/pgtable_types.h, swap format from arch/x86/include/asm/pgtable_64.h.
 * Not modelled: the L1TF PFN inversion of non-present entries (pgtable-invert.h), protection keys,
 * memory encryption and shadow-stack SAVED_DIRTY moves (X86_FEATURE_USER_SHSTK off).
 */

import {
  bit,
  check_fields,
  genmask,
  has,
  type LayoutCaps,
  need_nonzero,
  need_present,
  not64,
  type PteFields,
  PTE_NONE_FIELDS,
  type PteLayout,
  U64,
  when
} from "./pte.ts"

export const _PAGE_PRESENT = bit(0) // pgtable_types.h _PAGE_BIT_PRESENT
export const _PAGE_RW = bit(1) // pgtable_types.h _PAGE_BIT_RW
export const _PAGE_USER = bit(2) // pgtable_types.h _PAGE_BIT_USER
export const _PAGE_PWT = bit(3) // pgtable_types.h _PAGE_BIT_PWT
export const _PAGE_PCD = bit(4) // pgtable_types.h _PAGE_BIT_PCD
export const _PAGE_ACCESSED = bit(5) // pgtable_types.h _PAGE_BIT_ACCESSED
export const _PAGE_DIRTY = bit(6) // pgtable_types.h _PAGE_BIT_DIRTY
export const _PAGE_PSE = bit(7) // pgtable_types.h _PAGE_BIT_PSE: PMD/PUD leaf
export const _PAGE_PAT = bit(7) // pgtable_types.h _PAGE_BIT_PAT: same bit in a 4K PTE
export const _PAGE_GLOBAL = bit(8) // pgtable_types.h _PAGE_BIT_GLOBAL
export const _PAGE_PROTNONE = bit(8) // pgtable_types.h _PAGE_BIT_PROTNONE = _PAGE_BIT_GLOBAL, only with !PRESENT
export const _PAGE_SPECIAL = bit(9) // pgtable_types.h _PAGE_BIT_SPECIAL = _PAGE_BIT_SOFTW1
export const _PAGE_UFFD = bit(10) // pgtable_types.h _PAGE_BIT_UFFD = _PAGE_BIT_SOFTW2 (64-bit only)
export const _PAGE_SOFT_DIRTY = bit(11) // pgtable_types.h _PAGE_BIT_SOFT_DIRTY = _PAGE_BIT_SOFTW3
export const _PAGE_PAT_LARGE = bit(12) // pgtable_types.h _PAGE_BIT_PAT_LARGE (PMD/PUD)
export const _PAGE_SAVED_DIRTY = bit(58) // pgtable_types.h _PAGE_BIT_SAVED_DIRTY = _PAGE_BIT_SOFTW5
export const _PAGE_PKEY_MASK = genmask(62, 59) // pgtable_types.h _PAGE_BIT_PKEY_BIT0..3
export const _PAGE_NX = bit(63) // pgtable_types.h _PAGE_BIT_NX

/** page_types.h: __PHYSICAL_MASK_SHIFT on x86_64 */
export const __PHYSICAL_MASK_SHIFT = 52
/** pgtable_types.h: PTE_PFN_MASK = PHYSICAL_PAGE_MASK, bits 12..51 */
export const PTE_PFN_MASK = genmask(__PHYSICAL_MASK_SHIFT - 1, 12)
export const PAGE_SHIFT = 12 // page_types.h

/** pgtable_types.h: _PAGE_DIRTY_BITS, either means pte_dirty() */
export const _PAGE_DIRTY_BITS = _PAGE_DIRTY | _PAGE_SAVED_DIRTY
/** pgtable_types.h: the bits pte_modify() keeps (the uffd bit among them, RWPv8-02) */
export const _COMMON_PAGE_CHG_MASK =
  PTE_PFN_MASK |
  _PAGE_PCD |
  _PAGE_PWT |
  _PAGE_SPECIAL |
  _PAGE_ACCESSED |
  _PAGE_DIRTY_BITS |
  _PAGE_SOFT_DIRTY |
  _PAGE_UFFD
/** pgtable_types.h: _PAGE_CHG_MASK (| _PAGE_PAT) and _HPAGE_CHG_MASK (| _PAGE_PSE) keep the same bit 7 */
export const _PAGE_CHG_MASK = _COMMON_PAGE_CHG_MASK | _PAGE_PAT
/** pgtable_types.h: PAGE_NONE = ___A | ___G with ___G read as _PAGE_PROTNONE */
export const PAGE_NONE = _PAGE_PROTNONE | _PAGE_ACCESSED

// pgtable_64.h swap entry: | TYPE (59-63) | ~OFFSET (9-58) | 0 (G) | 0 (L) | X | X | X | E | F | SD | 0 |
export const _PAGE_SWP_SOFT_DIRTY = _PAGE_RW // pgtable_types.h
export const _PAGE_SWP_UFFD = _PAGE_USER // pgtable_types.h (was _PAGE_SWP_UFFD_WP)
export const _PAGE_SWP_EXCLUSIVE = _PAGE_PWT // pgtable_types.h
export const SWP_TYPE_BITS = 5 // pgtable_64.h
export const SWP_OFFSET_FIRST_BIT = 9 // pgtable_64.h: _PAGE_BIT_PROTNONE + 1
export const SWP_OFFSET_SHIFT = SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS // pgtable_64.h
const SWP_OFFSET_BITS = 64 - SWP_OFFSET_SHIFT // 50

/** pgtable_64.h __swp_entry(): offset inverted into bits 9..58, type in 59..63. */
function swp_entry(type: number, offset: number): bigint {
  return (
    (((not64(BigInt(offset)) << BigInt(SWP_OFFSET_SHIFT)) & U64) >> BigInt(SWP_TYPE_BITS)) |
    (BigInt(type) << BigInt(64 - SWP_TYPE_BITS))
  )
}

/** pgtable.h pte_modify() without the shadow-stack and L1TF steps. */
function pte_modify(raw: bigint, newprot: bigint): bigint {
  return (raw & _PAGE_CHG_MASK) | (newprot & ~_PAGE_CHG_MASK)
}

/** pgtable_types.h PAGE_SHARED{,_EXEC}/PAGE_READONLY{,_EXEC}: a user page's vm_page_prot. */
function user_prot(prot: { write: boolean; exec: boolean }): bigint {
  return _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | when(prot.write, _PAGE_RW) | when(!prot.exec, _PAGE_NX)
}

/** The x86_64 layout; uffd = CONFIG_HAVE_ARCH_USERFAULTFD_WP (pgtable_supports_uffd()). */
export function layout(uffd: boolean): PteLayout {
  const caps: LayoutCaps = {
    arch: "x86_64",
    has_uffd_bit: uffd,
    has_soft_dirty: true,
    max_pfn: 2 ** (__PHYSICAL_MASK_SHIFT - PAGE_SHIFT) - 1,
    // the all-ones offset would encode type 0 as pte_none
    max_swap_offset: 2 ** SWP_OFFSET_BITS - 2
  }
  const l: PteLayout = {
    arch: "x86_64",
    has_uffd_bit: uffd,
    uffd_bit: uffd ? 10 : -1,
    swp_uffd_bit: uffd ? 2 : -1,
    has_soft_dirty: true,
    max_pfn: caps.max_pfn,
    max_swap_offset: caps.max_swap_offset,
    encode(f: PteFields): bigint {
      check_fields(f, caps)
      if (f.kind === "none") return 0n
      if (f.kind === "swap") {
        return need_nonzero(
          "x86_64",
          swp_entry(f.swap_type, f.pfn) |
            when(f.uffd, _PAGE_SWP_UFFD) |
            when(f.soft_dirty, _PAGE_SWP_SOFT_DIRTY) |
            when(f.exclusive, _PAGE_SWP_EXCLUSIVE)
        )
      }
      const prot = f.protnone
        ? _PAGE_PROTNONE
        : _PAGE_PRESENT | when(f.write, _PAGE_RW) | when(f.user, _PAGE_USER) | when(!f.exec, _PAGE_NX)
      return (
        (BigInt(f.pfn) << BigInt(PAGE_SHIFT)) |
        prot |
        when(f.young, _PAGE_ACCESSED) |
        when(f.dirty, _PAGE_DIRTY) |
        when(f.soft_dirty, _PAGE_SOFT_DIRTY) |
        when(f.special, _PAGE_SPECIAL) |
        when(f.uffd, _PAGE_UFFD) |
        when(f.huge, _PAGE_PSE)
      )
    },
    decode(raw: bigint): PteFields {
      if (raw === 0n) return { ...PTE_NONE_FIELDS }
      if (l.pte_present(raw)) {
        const protnone = l.pte_protnone(raw)
        return {
          kind: "present",
          pfn: Number((raw & PTE_PFN_MASK) >> BigInt(PAGE_SHIFT)),
          swap_type: 0,
          write: has(raw, _PAGE_RW),
          user: has(raw, _PAGE_USER),
          exec: !protnone && !has(raw, _PAGE_NX),
          protnone,
          uffd: l.pte_uffd(raw),
          young: has(raw, _PAGE_ACCESSED),
          dirty: has(raw, _PAGE_DIRTY_BITS),
          soft_dirty: has(raw, _PAGE_SOFT_DIRTY),
          exclusive: false,
          special: has(raw, _PAGE_SPECIAL),
          huge: has(raw, _PAGE_PSE)
        }
      }
      // pgtable_64.h __swp_type() / __swp_offset()
      return {
        ...PTE_NONE_FIELDS,
        kind: "swap",
        pfn: Number(((not64(raw) << BigInt(SWP_TYPE_BITS)) & U64) >> BigInt(SWP_OFFSET_SHIFT)),
        swap_type: Number(raw >> BigInt(64 - SWP_TYPE_BITS)),
        uffd: l.pte_swp_uffd(raw),
        soft_dirty: has(raw, _PAGE_SWP_SOFT_DIRTY),
        exclusive: has(raw, _PAGE_SWP_EXCLUSIVE)
      }
    },
    pte_present(raw: bigint): boolean {
      return has(raw, _PAGE_PRESENT | _PAGE_PROTNONE) // pgtable.h pte_present()
    },
    pte_protnone(raw: bigint): boolean {
      return (raw & (_PAGE_PROTNONE | _PAGE_PRESENT)) === _PAGE_PROTNONE // pgtable.h pte_protnone()
    },
    pte_uffd(raw: bigint): boolean {
      return uffd && has(raw, _PAGE_UFFD)
    },
    pte_swp_uffd(raw: bigint): boolean {
      return uffd && has(raw, _PAGE_SWP_UFFD)
    },
    mk_rwp(raw: bigint): bigint {
      need_present(l, raw, "mk_rwp")
      if (!uffd) throw new Error("x86_64 mk_rwp: no uffd bit")
      return pte_modify(raw, PAGE_NONE) | _PAGE_UFFD
    },
    resolve_rwp(raw: bigint, prot: { write: boolean; exec: boolean }): bigint {
      need_present(l, raw, "resolve_rwp")
      return (pte_modify(raw, user_prot(prot)) & ~_PAGE_UFFD) | _PAGE_ACCESSED
    }
  }
  return l
}
