/**
 * arm64 stage-1 leaf descriptors (rwp-semantics.md §15.2). Hardware bits from
 * arch/arm64/include/asm/pgtable-hwdef.h, software bits and PAGE_* from pgtable-prot.h, swap
 * format and pte_modify() from pgtable.h. Assumes a 48-bit PA, no LPA2 (SH stays in the entry),
 * MT_NORMAL memory (AttrIndx 0) and no BTI/POE bits.
 */

import {
  bit,
  check_fields,
  genmask,
  has,
  type LayoutCaps,
  need_nonzero,
  need_present,
  type PteFields,
  PTE_NONE_FIELDS,
  type PteLayout,
  when
} from "./pte.ts"

export const PTE_VALID = bit(0) // pgtable-hwdef.h
export const PTE_TABLE_BIT = bit(1) // pgtable-hwdef.h: set in a level-3 page, clear in a block
export const PTE_TYPE_MASK = genmask(1, 0) // pgtable-hwdef.h
export const PTE_TYPE_PAGE = 3n // pgtable-hwdef.h
export const PMD_TYPE_SECT = 1n // pgtable-hwdef.h: block descriptor
export const PTE_ATTRINDX_MASK = genmask(4, 2) // pgtable-hwdef.h
export const PTE_USER = bit(6) // pgtable-hwdef.h: AP[1]
export const PTE_RDONLY = bit(7) // pgtable-hwdef.h: AP[2]
export const PTE_SHARED = genmask(9, 8) // pgtable-hwdef.h: SH[1:0] inner shareable
export const PTE_AF = bit(10) // pgtable-hwdef.h: access flag
export const PTE_NG = bit(11) // pgtable-hwdef.h: nG
export const PTE_GP = bit(50) // pgtable-hwdef.h: BTI guarded
export const PTE_DBM = bit(51) // pgtable-hwdef.h: dirty bit management
export const PTE_CONT = bit(52) // pgtable-hwdef.h: contiguous hint
export const PTE_PXN = bit(53) // pgtable-hwdef.h: privileged execute-never
export const PTE_UXN = bit(54) // pgtable-hwdef.h: user execute-never

export const PTE_WRITE = PTE_DBM // pgtable-prot.h
export const PTE_DIRTY = bit(55) // pgtable-prot.h (SW)
export const PTE_SPECIAL = bit(56) // pgtable-prot.h (SW)
export const PTE_PRESENT_INVALID = PTE_NG // pgtable-prot.h: only when !PTE_VALID
export const PTE_UFFD = bit(58) // pgtable-prot.h (was PTE_UFFD_WP)
export const PTE_SWP_EXCLUSIVE = bit(2) // pgtable-prot.h: swap PTEs only
export const PTE_SWP_UFFD = bit(3) // pgtable-prot.h: swap PTEs only (was PTE_SWP_UFFD_WP)

/** pgtable-prot.h: _PAGE_DEFAULT = PTE_TYPE_PAGE | PTE_AF | PTE_SHARED | PTE_ATTRINDX(MT_NORMAL) */
export const _PAGE_DEFAULT = PTE_TYPE_PAGE | PTE_AF | PTE_SHARED
/** pgtable-prot.h: PAGE_NONE */
export const PAGE_NONE = (_PAGE_DEFAULT & ~PTE_VALID) | PTE_PRESENT_INVALID | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN

// pgtable.h swap entry: bits 0-1 zero, 2 exclusive, 3 uffd, 6-10 type, 11 zero, 12-61 offset
export const __SWP_TYPE_SHIFT = 6
export const __SWP_TYPE_BITS = 5
export const __SWP_OFFSET_SHIFT = 12
export const __SWP_OFFSET_BITS = 50

/** pgtable-hwdef.h: PTE_ADDR_LOW, the output address bits of a 48-bit PA for this page size. */
export function PTE_ADDR_LOW(page_shift: number): bigint {
  return genmask(47, page_shift)
}

/** pgtable.h pte_modify(): the bits newprot replaces. */
const MODIFY_MASK =
  PTE_USER | PTE_PXN | PTE_UXN | PTE_RDONLY | PTE_PRESENT_INVALID | PTE_VALID | PTE_WRITE | PTE_GP | PTE_ATTRINDX_MASK

function pte_hw_dirty(raw: bigint): boolean {
  return has(raw, PTE_WRITE) && !has(raw, PTE_RDONLY) // pgtable.h
}

/** pgtable.h pte_mkdirty(): sw dirty, and hw dirty if writable. */
function pte_mkdirty(raw: bigint): bigint {
  raw |= PTE_DIRTY
  return has(raw, PTE_WRITE) ? raw & ~PTE_RDONLY : raw
}

/** pgtable.h pte_modify(), keeping hardware dirtiness across the RDONLY change. */
function pte_modify(raw: bigint, newprot: bigint): bigint {
  if (pte_hw_dirty(raw)) raw |= PTE_DIRTY
  raw = (raw & ~MODIFY_MASK) | (newprot & MODIFY_MASK)
  return has(raw, PTE_DIRTY) ? pte_mkdirty(raw) : raw
}

/** pgtable-prot.h PAGE_SHARED{,_EXEC}/PAGE_READONLY{,_EXEC}: a user page's vm_page_prot. */
function user_prot(prot: { write: boolean; exec: boolean }): bigint {
  return (
    _PAGE_DEFAULT | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN | when(!prot.exec, PTE_UXN) | when(prot.write, PTE_WRITE)
  )
}

/** The arm64 layout for a 4K/16K/64K granule; uffd = CONFIG_HAVE_ARCH_USERFAULTFD_WP. */
export function layout(page_shift: number, uffd: boolean): PteLayout {
  if (page_shift !== 12 && page_shift !== 14 && page_shift !== 16) throw new Error("arm64 layout: page_shift")
  const addr_mask = PTE_ADDR_LOW(page_shift)
  const shift = BigInt(page_shift)
  const caps: LayoutCaps = {
    arch: "arm64",
    has_uffd_bit: uffd,
    has_soft_dirty: false, // arm64 does not select HAVE_ARCH_SOFT_DIRTY
    max_pfn: 2 ** (48 - page_shift) - 1,
    max_swap_offset: 2 ** __SWP_OFFSET_BITS - 1
  }
  const l: PteLayout = {
    arch: "arm64",
    has_uffd_bit: uffd,
    uffd_bit: uffd ? 58 : -1,
    swp_uffd_bit: uffd ? 3 : -1,
    has_soft_dirty: false,
    max_pfn: caps.max_pfn,
    max_swap_offset: caps.max_swap_offset,
    encode(f: PteFields): bigint {
      check_fields(f, caps)
      if (f.kind === "none") return 0n
      if (f.kind === "swap") {
        return need_nonzero(
          "arm64",
          (BigInt(f.swap_type) << BigInt(__SWP_TYPE_SHIFT)) |
            (BigInt(f.pfn) << BigInt(__SWP_OFFSET_SHIFT)) |
            when(f.uffd, PTE_SWP_UFFD) |
            when(f.exclusive, PTE_SWP_EXCLUSIVE)
        )
      }
      // a level-3 page has type 0b11, a block (pgtable.h pmd_mkhuge()) 0b01; AF comes from young
      const base = (f.huge ? PMD_TYPE_SECT : PTE_TYPE_PAGE) | PTE_SHARED
      const prot = f.protnone
        ? (base & ~PTE_VALID) | PTE_PRESENT_INVALID | PTE_RDONLY | PTE_PXN | PTE_UXN // PAGE_NONE
        : base |
          PTE_NG |
          PTE_PXN |
          when(f.user, PTE_USER) |
          when(!f.exec, PTE_UXN) |
          when(f.write, PTE_WRITE) |
          when(!(f.write && f.dirty), PTE_RDONLY)
      return (
        (BigInt(f.pfn) << shift) |
        prot |
        when(f.young, PTE_AF) |
        when(f.dirty, PTE_DIRTY) |
        when(f.special, PTE_SPECIAL) |
        when(f.uffd, PTE_UFFD)
      )
    },
    decode(raw: bigint): PteFields {
      if (raw === 0n) return { ...PTE_NONE_FIELDS }
      if (l.pte_present(raw)) {
        const protnone = l.pte_protnone(raw)
        return {
          kind: "present",
          pfn: Number((raw & addr_mask) >> shift),
          swap_type: 0,
          write: has(raw, PTE_WRITE),
          user: has(raw, PTE_USER),
          exec: !has(raw, PTE_UXN), // pgtable.h pte_user_exec()
          protnone,
          uffd: l.pte_uffd(raw),
          young: has(raw, PTE_AF),
          dirty: has(raw, PTE_DIRTY) || pte_hw_dirty(raw), // pgtable.h pte_dirty()
          soft_dirty: false,
          exclusive: false,
          special: has(raw, PTE_SPECIAL),
          huge: !has(raw, PTE_TABLE_BIT)
        }
      }
      return {
        ...PTE_NONE_FIELDS,
        kind: "swap",
        pfn: Number((raw >> BigInt(__SWP_OFFSET_SHIFT)) & ((1n << BigInt(__SWP_OFFSET_BITS)) - 1n)),
        swap_type: Number((raw >> BigInt(__SWP_TYPE_SHIFT)) & ((1n << BigInt(__SWP_TYPE_BITS)) - 1n)),
        uffd: l.pte_swp_uffd(raw),
        exclusive: has(raw, PTE_SWP_EXCLUSIVE)
      }
    },
    pte_present(raw: bigint): boolean {
      // pgtable.h: pte_valid() || pte_present_invalid()
      return has(raw, PTE_VALID) || (raw & (PTE_VALID | PTE_PRESENT_INVALID)) === PTE_PRESENT_INVALID
    },
    pte_protnone(raw: bigint): boolean {
      // pgtable.h: pte_present_invalid() && !pte_user() && !pte_user_exec()
      return (
        (raw & (PTE_VALID | PTE_PRESENT_INVALID)) === PTE_PRESENT_INVALID && !has(raw, PTE_USER) && has(raw, PTE_UXN)
      )
    },
    pte_uffd(raw: bigint): boolean {
      return uffd && has(raw, PTE_UFFD)
    },
    pte_swp_uffd(raw: bigint): boolean {
      return uffd && has(raw, PTE_SWP_UFFD)
    },
    mk_rwp(raw: bigint): bigint {
      need_present(l, raw, "mk_rwp")
      if (!uffd) throw new Error("arm64 mk_rwp: no uffd bit")
      return pte_modify(raw, PAGE_NONE) | PTE_UFFD
    },
    resolve_rwp(raw: bigint, prot: { write: boolean; exec: boolean }): bigint {
      need_present(l, raw, "resolve_rwp")
      return (pte_modify(raw, user_prot(prot)) & ~PTE_UFFD) | PTE_AF
    }
  }
  return l
}
