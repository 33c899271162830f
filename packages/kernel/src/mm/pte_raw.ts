// The arch's raw PTE of an entry: the model's flags through @rwpsim/hw's layout of this machine
// (arch/*/include/asm/pgtable*.h), so a trace or a test can show the bits the hardware would see.
import { pte_layout, type PteFields, type PteLayout } from "@rwpsim/hw"
import type { Mm } from "./mm.ts"
import {
  F_DIRTY,
  F_EXCLUSIVE,
  F_HUGE,
  F_MARKER,
  F_PRESENT,
  F_PROTNONE,
  F_SOFT_DIRTY,
  F_SWAP,
  F_UFFD,
  F_WRITE,
  F_YOUNG,
  F_ZERO,
  PTE_LEVEL,
  Slot
} from "./pgtable.ts"
import { VM_EXEC } from "./vma.ts"

const layouts = new WeakMap<Mm, PteLayout | null>()

/** The raw entry mapping addr, or null when the arch has no modelled layout or nothing is mapped. */
export function pte_raw(mm: Mm, addr: number): bigint | null {
  let layout = layouts.get(mm)
  if (layout === undefined) {
    layout = pte_layout(mm.features)
    layouts.set(mm, layout)
  }
  const vma = mm.vmas.lookup(addr)
  if (layout === null || vma === null) return null
  const s = new Slot()
  if (!mm.pt.lookup(addr, mm.level(vma), false, s)) return null
  const f = s.t.flags[s.i]!
  if (f === 0 || f & F_MARKER) return null
  const huge = s.level !== PTE_LEVEL || (f & F_HUGE) !== 0
  const protnone = (f & F_PROTNONE) !== 0
  const fields: PteFields = {
    kind: f & F_PRESENT ? "present" : f & F_SWAP ? "swap" : "none",
    pfn: s.t.val[s.i]!,
    swap_type: 0,
    write: !protnone && (f & F_WRITE) !== 0,
    user: !protnone && (f & F_PRESENT) !== 0,
    exec: !protnone && (f & F_PRESENT) !== 0 && (vma.vm_flags & VM_EXEC) !== 0,
    protnone,
    uffd: layout.has_uffd_bit && (f & F_UFFD) !== 0,
    young: (f & F_YOUNG) !== 0,
    dirty: (f & F_DIRTY) !== 0,
    soft_dirty: layout.has_soft_dirty && (f & F_SOFT_DIRTY) !== 0,
    exclusive: (f & F_SWAP) !== 0 && (f & F_EXCLUSIVE) !== 0,
    special: (f & F_ZERO) !== 0,
    huge
  }
  return layout.encode(fields)
}
