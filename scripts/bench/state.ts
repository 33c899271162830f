// What the bench counts as state per guest page outside the kernel (the kernel counts its own).
import { HANDLER_NOTES_KEPT } from "@rwpsim/vmm"
/**
 * The typed arrays per guest page outside the kernel in a workload run (read off the code, every
 * `new ...Array(pages)` of packages/guest, vmm and sim/workload):
 * - the guest's ground truth, 8 B (the cycle stamp and written flag, the last value);
 * - CheckedMemory's flags, 1 (the checker's per-page shadow: armed, protected and untouched since,
 *   touched at the last scan, watched);
 * - VmmPages: populated, evicted and evicting a bit each, the age a byte: 1 3/8;
 * - the tracker's hot 1 (its present array is for anonymous memory only);
 * - the storage object's words 4 and its written bitmap, 1/8.
 * And once per run, whatever the guest's size: the fault handler's ring of its last
 * HANDLER_NOTES_KEPT notes (page 8, t_ns 8, code 1 each), at most.
 * Until 2026-12-03 this said 41 B: it missed access_at_protect and the handler's notes, and it
 * counted the tracker's per-page pwrite buffer, which is now one buffer per range. On 2026-12-04
 * the ground truth lost its access time (16 -> 8), the checker its 17 B of shadow, the handler
 * its 9 B of notes per page (a ring now), the storage object 7/8 B (a bitmap), VmmPages 2 5/8 B
 * (bits) and the tracker 1 B (present, for shmem).
 */
export const SIM_BYTES_PER_PAGE = 8 + 1 + (3 / 8 + 1) + 1 + 4 + 1 / 8
/** The bytes outside the kernel that do not grow with the guest. */
export const SIM_FIXED_BYTES = HANDLER_NOTES_KEPT * (8 + 8 + 1)
