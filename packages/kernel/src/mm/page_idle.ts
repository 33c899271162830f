// mm/page_idle.c: idle page tracking (CONFIG_IDLE_PAGE_TRACKING), the fallback tracker of kernels and
// arches without RWP. A VMM reads PFNs from /proc/pid/pagemap and writes and reads
// /sys/kernel/mm/page_idle/bitmap by PFN; here the two steps are fused over a virtual range of one
// mapping. Marking a page idle clears the young bit of its PTEs without a TLB flush, as x86's
// ptep_clear_young_notify() does, so an access through a TLB entry loaded before the marking goes
// unseen: the imprecision real VMMs live with.
import { err, type SysResult } from "../errno.ts"
import type { Mm } from "./mm.ts"
import { F_PRESENT, F_YOUNG, F_ZERO, type Slot } from "./pgtable.ts"
import { walkEntries } from "./walk.ts"

/** Per-frame PG_idle, allocated on first use. */
const idleFlags = new WeakMap<Mm, { bits: Uint8Array }>()

function bitsOf(mm: Mm, pfn: number): Uint8Array {
  let e = idleFlags.get(mm)
  if (e === undefined) {
    e = { bits: new Uint8Array(Math.max(1024, mm.frames.word.length)) }
    idleFlags.set(mm, e)
  }
  if (pfn >= e.bits.length) {
    const b = new Uint8Array(Math.max(pfn + 1, e.bits.length * 2))
    b.set(e.bits)
    e.bits = b
  }
  return e.bits
}

function eachPage(mm: Mm, addr: number, len: number, fn: (s: Slot, page: number) => void): SysResult {
  if (!mm.features.idle_page_tracking) return err("ENOENT") // no /sys/kernel/mm/page_idle/bitmap
  if (addr % mm.page_size !== 0 || len <= 0) return err("EINVAL")
  const end = addr + len
  for (const v of mm.vmas.range(addr, end)) {
    walkEntries(mm, v, addr, end, false, (s) => {
      const f = s.t.flags[s.i]!
      if (!(f & F_PRESENT) || f & F_ZERO) return // page_idle_get_folio(): only LRU pages
      fn(s, Math.floor((Math.max(s.base, addr) - addr) / mm.page_size))
    })
  }
  return { ok: true }
}

/** Writes 1s to the bitmap for every page mapped in [addr, addr + len): young cleared, PG_idle set. */
export function page_idle_mark(mm: Mm, addr: number, len: number): SysResult {
  return eachPage(mm, addr, len, (s) => {
    s.t.flags[s.i] = s.t.flags[s.i]! & ~F_YOUNG
    bitsOf(mm, s.t.val[s.i]!)[s.t.val[s.i]!] = 1
  })
}

/**
 * Reads the bitmap for [addr, addr + len) into out (one byte per base page): 1 when the page is
 * mapped and still idle. A young PTE clears PG_idle first (page_idle_clear_pte_refs()).
 */
export function page_idle_read(mm: Mm, addr: number, len: number, out: Uint8Array): SysResult<{ idle: number }> {
  out.fill(0)
  let idle = 0
  const r = eachPage(mm, addr, len, (s, page) => {
    const pfn = s.t.val[s.i]!
    const bits = bitsOf(mm, pfn)
    if (s.t.flags[s.i]! & F_YOUNG) bits[pfn] = 0
    if (bits[pfn] === 0) return
    const n = Math.min(s.size / mm.page_size, out.length - page)
    for (let i = 0; i < n; i++) out[page + i] = 1
    idle += n
  })
  return r.ok ? { ok: true, idle } : r
}
