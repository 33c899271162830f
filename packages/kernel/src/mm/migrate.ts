// mm/migrate.c: move the present pages of a range to new frames, as NUMA balancing or compaction
// would. The entry keeps every bit but the frame (a migration entry carries the uffd bit and
// remove_migration_pte() re-applies PAGE_NONE, RWPv10-07); the old translation is shot down.
import type { Mm } from "./mm.ts"
import { F_ANON, F_PRESENT, F_PROTNONE, F_UFFD, F_ZERO } from "./pgtable.ts"
import { cacheHasPage, cachePfn, pageEntry } from "./shmem.ts"
import { walkEntries } from "./walk.ts"
import type { Vma } from "./vma.ts"

export function migrate_range(mm: Mm, vma: Vma, start: number, end: number): void {
  const moved = new Map<number, number>()
  walkEntries(mm, vma, start, end, false, (s) => {
    const f = s.t.flags[s.i]!
    if (!(f & F_PRESENT) || f & F_ZERO) return
    const old = s.t.val[s.i]!
    if (f & F_ANON) {
      const nf = mm.frames.alloc(mm.frames.word[old]!)
      mm.frames.put(old)
      s.t.val[s.i] = nf
      if (mm.mutants.migration_drops_uffd && f & F_UFFD) s.t.flags[s.i] = f & ~(F_UFFD | F_PROTNONE)
      mm.stats.migrations++
      return
    }
    moved.set(old, 0)
  })
  // a page-cache page moves once, and every mapping of it follows (remove_migration_ptes over rmap)
  if (moved.size > 0 && vma.file !== null) {
    const file = vma.file
    for (let i = 0; i < file.cache.length; i++) {
      const e = file.cache[i]!
      if (!cacheHasPage(e) || !moved.has(cachePfn(e))) continue
      const old = cachePfn(e)
      const nf = mm.frames.alloc(mm.frames.word[old]!)
      moved.set(old, nf)
      file.cache[i] = pageEntry(nf)
      mm.frames.put(old)
      mm.stats.migrations++
    }
    for (const m of file.i_mmap) {
      walkEntries(mm, m, m.start, m.end, false, (s) => {
        const nf = moved.get(s.t.val[s.i]!)
        const f = s.t.flags[s.i]!
        if (nf === undefined || !(f & F_PRESENT) || f & (F_ANON | F_ZERO)) return
        mm.frames.get(nf)
        mm.frames.put(s.t.val[s.i]!)
        s.t.val[s.i] = nf
      })
      mm.flush_tlb_range(m.start, m.end)
    }
  }
  mm.flush_tlb_range(Math.max(start, vma.start), Math.min(end, vma.end))
}
