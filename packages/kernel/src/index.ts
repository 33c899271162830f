/**
 * @rwpsim/kernel: the simulated Linux kernel of one VMM process, with userfaultfd read-write protect
 * (RWP) as the v10 series and its man pages define it. Laid out like the kernel: mm/ (VMAs, page
 * tables, faults, mprotect, madvise, swap, migration, shmem/hugetlbfs page cache), fs/userfaultfd*
 * and fs/proc/task_mmu (pagemap, PAGEMAP_SCAN). Plain synchronous code: no Effect, no time.
 */
export * from "./uapi.ts"
export type { Errno, SysError, SysResult } from "./errno.ts"
export { Kernel, type KernelOptions } from "./kernel.ts"
export { isKernelMutant, KERNEL_MUTANTS, type KernelMutant } from "./mutants.ts"
export type { KernelStats, TraceFn } from "./mm/mm.ts"
export type { PagemapEntry, PageRegion, PmScanArg, PmScanResult } from "./fs/proc/task_mmu.ts"
export {
  PMF_FILE,
  PMF_MMAP_EXCLUSIVE,
  PMF_PRESENT,
  PMF_SOFT_DIRTY,
  PMF_SWAP,
  PMF_UFFD_WP
} from "./fs/proc/task_mmu.ts"
export type { ReadMsgResult } from "./fs/userfaultfd.ts"
export type { UffdMsg, WaitObject } from "./fs/userfaultfd_ctx.ts"
