// mm/madvise.c: MADV_DONTNEED, MADV_REMOVE, MADV_FREE, MADV_PAGEOUT, MADV_COLD, MADV_HUGEPAGE and
// MADV_NOHUGEPAGE. DONTNEED zaps the range, so RWP protection is lost (the entries are gone, there
// is no marker): the next access is a MISSING fault if registered, else a fresh page.
import { err, type SysResult } from "../errno.ts"
import { uffd_event } from "../fs/userfaultfd_events.ts"
import {
  MADV_COLD,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_NORMAL,
  MADV_PAGEOUT,
  MADV_REMOVE,
  UFFD_EVENT_REMOVE,
  UFFD_FEATURE_EVENT_REMOVE
} from "../uapi.ts"
import { zapRange } from "./mmap.ts"
import type { Mm } from "./mm.ts"
import { punch_hole } from "./truncate.ts"
import { pageout_range } from "./vmscan.ts"
import { F_UFFD } from "./pgtable.ts"
import { type Vma, VM_HUGEPAGE, VM_NOHUGEPAGE, VM_UFFD_RWP } from "./vma.ts"
import { walkEntries, zapEntry } from "./walk.ts"

const KNOWN = new Set([
  MADV_NORMAL,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_REMOVE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_COLD,
  MADV_PAGEOUT
])

export function do_madvise(mm: Mm, start: number, len: number, advice: number): SysResult {
  const ps = mm.page_size
  if (!KNOWN.has(advice)) return err("EINVAL")
  if ((advice === MADV_HUGEPAGE || advice === MADV_NOHUGEPAGE) && !mm.features.transparent_hugepage)
    return err("EINVAL")
  if (start % ps !== 0 || len < 0) return err("EINVAL")
  const end = start + Math.ceil(len / ps) * ps
  if (end === start) return { ok: true }
  const vmas = mm.vmas.range(start, end)
  // madvise_walk_vmas(): unmapped parts give ENOMEM after the mapped parts are advised
  let covered = 0
  for (const v of vmas) covered += Math.min(end, v.end) - Math.max(start, v.start)
  const unmapped = covered < end - start
  for (const v of vmas) {
    const r = advise(mm, v, Math.max(start, v.start), Math.min(end, v.end), advice)
    if (!r.ok) return r
  }
  return unmapped ? err("ENOMEM") : { ok: true }
}

function advise(mm: Mm, v: Vma, start: number, end: number, advice: number): SysResult {
  switch (advice) {
    case MADV_DONTNEED:
    case MADV_FREE: {
      if (advice === MADV_FREE && !v.anon) return err("EINVAL")
      if (v.hugetlb) {
        const h = v.file!.page_bytes
        if (start % h !== 0) return err("EINVAL")
        end = Math.min(v.end, Math.ceil(end / h) * h)
      }
      if (v.uffd !== null && v.uffd.features & UFFD_FEATURE_EVENT_REMOVE) {
        uffd_event(mm, v.uffd, UFFD_EVENT_REMOVE, start, end)
      }
      if (mm.mutants.dontneed_keeps_protection && v.vm_flags & VM_UFFD_RWP) zapUnprotected(mm, v, start, end)
      else zapRange(mm, v, start, end)
      mm.flush_tlb_range(start, end)
      return { ok: true }
    }
    case MADV_REMOVE: {
      // madvise_remove(): only shared file mappings; punches the file
      if (v.file === null || !v.shared) return err("EINVAL")
      if (v.uffd !== null && v.uffd.features & UFFD_FEATURE_EVENT_REMOVE) {
        uffd_event(mm, v.uffd, UFFD_EVENT_REMOVE, start, end)
      }
      punch_hole(mm, v.file, v.offset(start), end - start)
      return { ok: true }
    }
    case MADV_PAGEOUT:
    case MADV_COLD:
      if (v.hugetlb) return err("EINVAL") // can_madv_lru_vma()
      if (advice === MADV_PAGEOUT) pageout_range(mm, v, start, end)
      return { ok: true }
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE: {
      if (v.hugetlb) return { ok: true }
      const set = advice === MADV_HUGEPAGE ? VM_HUGEPAGE : VM_NOHUGEPAGE
      for (const part of mm.vmas.isolate(start, end))
        part.vm_flags = (part.vm_flags & ~(VM_HUGEPAGE | VM_NOHUGEPAGE)) | set
      return { ok: true }
    }
    default:
      return { ok: true }
  }
}

/** Mutant dontneed-keeps-protection: protected entries survive the zap. */
function zapUnprotected(mm: Mm, v: Vma, start: number, end: number): void {
  walkEntries(mm, v, start, end, true, (s) => {
    if (!(s.t.flags[s.i]! & F_UFFD)) zapEntry(mm, s)
  })
}
