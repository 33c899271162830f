// What the bench counts as state per guest page outside the kernel (the kernel counts its own).
/**
 * The typed arrays per guest page outside the kernel in a workload run (read off the code, every
 * `new ...Array(pages)` of packages/guest, vmm and sim/workload):
 * - the guest's ground truth, 16 B;
 * - the checker's protected_at 8, access_at_protect 8 and touched 1, and CheckedMemory's flags 1;
 * - VmmPages (populated, evicted, evicting, age), 4;
 * - the tracker's hot 1 and present 1;
 * - the storage object's words 4 and written 1;
 * - the fault handler's notes, t_ns 8 and code 1.
 * Until 2026-12-03 this said 41 B: it missed access_at_protect and the handler's notes, and it
 * counted the tracker's per-page pwrite buffer, which is now one buffer per range.
 */
export const SIM_BYTES_PER_PAGE = 16 + (8 + 8 + 1 + 1) + 4 + 2 + 5 + 9
