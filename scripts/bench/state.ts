// What the bench counts as state per guest page outside the kernel (the kernel counts its own).
import type { Workload } from "@rwpsim/scenario"
import { HANDLER_NOTES_KEPT, VmmPages } from "@rwpsim/vmm"
/**
 * The typed arrays per guest page outside the kernel in a workload run (read off the code, every
 * `new ...Array(pages)` of packages/guest, vmm and sim/workload):
 * - the guest's ground truth, 8 B (the cycle stamp and written flag, the last value);
 * - CheckedMemory's flags, 1 (the checker's per-page shadow: armed, protected and untouched since,
 *   touched at the last scan, watched);
 * - VmmPages: populated, evicted and evicting a bit each, 3/8 (and an age per page only when
 *   cold_age > 1: the e2e runs use the default, 1);
 * - the tracker's judgement, a bit per page, 1/8 (its present bits are for anonymous memory, its
 *   idle-page arrays for that tracker only);
 * - the storage object's words 4 and its written bitmap, 1/8.
 * And once per run, whatever the guest's size: the fault handler's ring of its last
 * HANDLER_NOTES_KEPT notes (page 8, t_ns 8, code 1 each), at most. The stall episodes are a table
 * per distinct length (sim/workload/stall.ts), not per page or per episode.
 * Until 2026-12-03 this said 41 B: it missed access_at_protect and the handler's notes, and it
 * counted the tracker's per-page pwrite buffer, which is now one buffer per range. On 2026-12-04
 * the ground truth lost its access time (16 -> 8), the checker its 17 B of shadow, the handler
 * its 9 B of notes per page (a ring now), the storage object 7/8 B (a bitmap), VmmPages 3 5/8 B
 * (bits, no age at cold_age 1) and the tracker 1 7/8 B (bits; present for anonymous memory only).
 * An audit of every typed array allocated in a run (2026-12-04) found two arrays this count had
 * missed, both gone now: the idle-page tracker's 2 B per page, allocated for every tracker, and
 * the stall episodes' Float64 per episode (16 B per page of a 1 GiB guest over 3 s, with its
 * sorted copy).
 */
export const SIM_BYTES_PER_PAGE = 8 + 1 + 3 / 8 + 1 / 8 + 4 + 1 / 8

/** SIM_BYTES_PER_PAGE and what a workload's configuration adds: the ages, anon's present bits. */
export function simBytesPerPage(w: Workload): number {
  const age = VmmPages.age_bytes(w.vmm.cold_age)
  const present = w.memory.backing === "anon" ? 1 / 8 : 0
  // idle-page: a byte per base page of the idle bitmap's copy and a bit per page of what is mapped
  const idle = w.vmm.tracker === "idle-page" ? 1 + 1 / 8 : 0
  return SIM_BYTES_PER_PAGE + age + present + idle
}
/** The bytes outside the kernel that do not grow with the guest. */
export const SIM_FIXED_BYTES = HANDLER_NOTES_KEPT * (8 + 8 + 1)
