/**
 * riscv64 Sv39/Sv48/Sv57 leaf entries (rwp-semantics.md §15.3, §2.4), from
 * arch/riscv/include/asm/pgtable-bits.h, PAGE_* and the swap format from pgtable.h.
 * Bits 59 (soft-dirty) and 60 (uffd) exist only with the Svrsw60t59b extension. A leaf looks the
 * same at every level, so `huge` is not in the entry. Present leaves are always readable
 * (exec-only PAGE_EXEC is not modelled); Svpbmt/Svnapot bits are never set.
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
  U64,
  when
} from "./pte.ts"

export const _PAGE_PRESENT = bit(0) // pgtable-bits.h: V
export const _PAGE_READ = bit(1) // pgtable-bits.h: R
export const _PAGE_WRITE = bit(2) // pgtable-bits.h: W
export const _PAGE_EXEC = bit(3) // pgtable-bits.h: X
export const _PAGE_USER = bit(4) // pgtable-bits.h: U
export const _PAGE_GLOBAL = bit(5) // pgtable-bits.h: G
export const _PAGE_ACCESSED = bit(6) // pgtable-bits.h: A
export const _PAGE_DIRTY = bit(7) // pgtable-bits.h: D
export const _PAGE_SOFT = genmask(9, 8) // pgtable-bits.h: RSW
export const _PAGE_SPECIAL = bit(8) // pgtable-bits.h: first RSW bit
export const _PAGE_TABLE = _PAGE_PRESENT // pgtable-bits.h: a non-leaf entry
export const _PAGE_PROT_NONE = _PAGE_GLOBAL // pgtable-bits.h: only meaningful with V = 0
export const _PAGE_LEAF = _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC // pgtable-bits.h
export const _PAGE_SWP_EXCLUSIVE = _PAGE_ACCESSED // pgtable-bits.h: swap PTEs only
export const _PAGE_PFN_SHIFT = 10 // pgtable-bits.h
export const _PAGE_PFN_MASK = genmask(53, 10) // pgtable-64.h
export const _PAGE_MTMASK_SVPBMT = genmask(62, 61) // pgtable-64.h: Svpbmt memory type
export const _PAGE_NAPOT = bit(63) // pgtable-64.h: Svnapot

/** pgtable-bits.h: _PAGE_SOFT_DIRTY, bit 59 with Svrsw60t59b, else 0 */
export function _PAGE_SOFT_DIRTY(svrsw60t59b: boolean): bigint {
  return when(svrsw60t59b, bit(59))
}
/** pgtable-bits.h: _PAGE_SWP_SOFT_DIRTY = _PAGE_EXEC with Svrsw60t59b, else 0 */
export function _PAGE_SWP_SOFT_DIRTY(svrsw60t59b: boolean): bigint {
  return when(svrsw60t59b, _PAGE_EXEC)
}
/** pgtable-bits.h: _PAGE_UFFD (was _PAGE_UFFD_WP), bit 60 with Svrsw60t59b, else 0 */
export function _PAGE_UFFD(svrsw60t59b: boolean): bigint {
  return when(svrsw60t59b, bit(60))
}
/** pgtable-bits.h: _PAGE_SWP_UFFD (was _PAGE_SWP_UFFD_WP) = _PAGE_USER with Svrsw60t59b, else 0 */
export function _PAGE_SWP_UFFD(svrsw60t59b: boolean): bigint {
  return when(svrsw60t59b, _PAGE_USER)
}

/** pgtable.h: _PAGE_BASE of every user prot */
export const _PAGE_BASE = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_USER
/** pgtable.h: PAGE_NONE = _PAGE_PROT_NONE | _PAGE_READ (stays a leaf) */
export const PAGE_NONE = _PAGE_PROT_NONE | _PAGE_READ
/** pgtable.h: _PAGE_CHG_MASK, what pte_modify() keeps */
export const _PAGE_CHG_MASK =
  ~(_PAGE_PRESENT | _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC | _PAGE_USER | _PAGE_GLOBAL | _PAGE_MTMASK_SVPBMT) & U64

// pgtable.h swap entry: 0 V=0, 1-2 zero, 3 soft-dirty, 4 uffd, 5 PROT_NONE=0, 6 exclusive, 7-11 type, 12+ offset
export const __SWP_TYPE_SHIFT = 7
export const __SWP_TYPE_BITS = 5
export const __SWP_OFFSET_SHIFT = __SWP_TYPE_BITS + __SWP_TYPE_SHIFT

/** pgtable.h pte_modify() */
function pte_modify(raw: bigint, newprot: bigint): bigint {
  return (raw & _PAGE_CHG_MASK) | newprot
}

/** pgtable.h PAGE_WRITE{,_EXEC}/PAGE_READ{,_EXEC}: a user page's vm_page_prot. */
function user_prot(prot: { write: boolean; exec: boolean }): bigint {
  return _PAGE_BASE | _PAGE_READ | when(prot.write, _PAGE_WRITE) | when(prot.exec, _PAGE_EXEC)
}

/**
 * The riscv64 layout. svrsw60t59b: the hart has the extension (bits 59/60 free for software);
 * uffd: pgtable_supports_uffd(), which needs it.
 */
export function layout(svrsw60t59b: boolean, uffd: boolean): PteLayout {
  if (uffd && !svrsw60t59b) throw new Error("riscv64 layout: the uffd bit needs Svrsw60t59b")
  const soft_dirty = _PAGE_SOFT_DIRTY(svrsw60t59b)
  const swp_soft_dirty = _PAGE_SWP_SOFT_DIRTY(svrsw60t59b)
  const uffd_bits = when(uffd, _PAGE_UFFD(svrsw60t59b))
  const swp_uffd_bits = when(uffd, _PAGE_SWP_UFFD(svrsw60t59b))
  const caps: LayoutCaps = {
    arch: "riscv64",
    has_uffd_bit: uffd,
    has_soft_dirty: svrsw60t59b,
    max_pfn: 2 ** 44 - 1,
    max_swap_offset: 2 ** (64 - __SWP_OFFSET_SHIFT) - 1
  }
  const l: PteLayout = {
    arch: "riscv64",
    has_uffd_bit: uffd,
    uffd_bit: uffd ? 60 : -1,
    swp_uffd_bit: uffd ? 4 : -1,
    has_soft_dirty: svrsw60t59b,
    max_pfn: caps.max_pfn,
    max_swap_offset: caps.max_swap_offset,
    encode(f: PteFields): bigint {
      check_fields(f, caps)
      if (f.kind === "none") return 0n
      if (f.kind === "swap") {
        return need_nonzero(
          "riscv64",
          (BigInt(f.swap_type) << BigInt(__SWP_TYPE_SHIFT)) |
            (BigInt(f.pfn) << BigInt(__SWP_OFFSET_SHIFT)) |
            when(f.uffd, swp_uffd_bits) |
            when(f.soft_dirty, swp_soft_dirty) |
            when(f.exclusive, _PAGE_SWP_EXCLUSIVE)
        )
      }
      const prot = f.protnone
        ? PAGE_NONE
        : _PAGE_PRESENT | _PAGE_READ | when(f.write, _PAGE_WRITE) | when(f.exec, _PAGE_EXEC) | when(f.user, _PAGE_USER)
      return (
        (BigInt(f.pfn) << BigInt(_PAGE_PFN_SHIFT)) |
        prot |
        when(f.young, _PAGE_ACCESSED) |
        when(f.dirty, _PAGE_DIRTY) |
        when(f.special, _PAGE_SPECIAL) |
        when(f.soft_dirty, soft_dirty) |
        when(f.uffd, uffd_bits)
      )
    },
    decode(raw: bigint, huge = false): PteFields {
      if (raw === 0n) return { ...PTE_NONE_FIELDS }
      if (l.pte_present(raw)) {
        return {
          kind: "present",
          pfn: Number((raw & _PAGE_PFN_MASK) >> BigInt(_PAGE_PFN_SHIFT)),
          swap_type: 0,
          write: has(raw, _PAGE_WRITE),
          user: has(raw, _PAGE_USER),
          exec: has(raw, _PAGE_EXEC),
          protnone: l.pte_protnone(raw),
          uffd: l.pte_uffd(raw),
          young: has(raw, _PAGE_ACCESSED),
          dirty: has(raw, _PAGE_DIRTY),
          soft_dirty: has(raw, soft_dirty),
          exclusive: false,
          special: has(raw, _PAGE_SPECIAL),
          huge
        }
      }
      return {
        ...PTE_NONE_FIELDS,
        kind: "swap",
        pfn: Number(raw >> BigInt(__SWP_OFFSET_SHIFT)),
        swap_type: Number((raw >> BigInt(__SWP_TYPE_SHIFT)) & ((1n << BigInt(__SWP_TYPE_BITS)) - 1n)),
        uffd: l.pte_swp_uffd(raw),
        soft_dirty: has(raw, swp_soft_dirty),
        exclusive: has(raw, _PAGE_SWP_EXCLUSIVE)
      }
    },
    pte_present(raw: bigint): boolean {
      return has(raw, _PAGE_PRESENT | _PAGE_PROT_NONE) // pgtable.h pte_present()
    },
    pte_protnone(raw: bigint): boolean {
      return (raw & (_PAGE_PRESENT | _PAGE_PROT_NONE)) === _PAGE_PROT_NONE // pgtable.h pte_protnone()
    },
    pte_uffd(raw: bigint): boolean {
      return has(raw, uffd_bits)
    },
    pte_swp_uffd(raw: bigint): boolean {
      return has(raw, swp_uffd_bits)
    },
    mk_rwp(raw: bigint): bigint {
      need_present(l, raw, "mk_rwp")
      if (!uffd) throw new Error("riscv64 mk_rwp: no uffd bit (needs Svrsw60t59b)")
      return pte_modify(raw, PAGE_NONE) | uffd_bits
    },
    resolve_rwp(raw: bigint, prot: { write: boolean; exec: boolean }): bigint {
      need_present(l, raw, "resolve_rwp")
      return (pte_modify(raw, user_prot(prot)) & ~uffd_bits) | _PAGE_ACCESSED
    }
  }
  return l
}
