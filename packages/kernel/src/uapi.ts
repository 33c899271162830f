// The UAPI the simulated kernel exposes: constants with Linux's names and values.
// include/uapi/asm-generic/mman-common.h, include/uapi/linux/userfaultfd.h (with the RWP series,
// rwp-semantics.md §1), include/uapi/linux/fs.h (PAGEMAP_SCAN), include/uapi/linux/falloc.h.
// The step runner builds its flag groups from these exports by prefix: add a name here and
// scenarios can use it.

// mman-common.h
export const PROT_NONE = 0x0
export const PROT_READ = 0x1
export const PROT_WRITE = 0x2
export const PROT_EXEC = 0x4
export const MAP_SHARED = 0x01
export const MAP_PRIVATE = 0x02
export const MAP_FIXED = 0x10
export const MAP_ANONYMOUS = 0x20
export const MAP_POPULATE = 0x8000
export const MAP_FIXED_NOREPLACE = 0x100000

export const MADV_NORMAL = 0
export const MADV_DONTNEED = 4
export const MADV_FREE = 8
export const MADV_REMOVE = 9
export const MADV_HUGEPAGE = 14
export const MADV_NOHUGEPAGE = 15
export const MADV_COLD = 20
export const MADV_PAGEOUT = 21
export const MADV_POPULATE_READ = 22
export const MADV_POPULATE_WRITE = 23

// falloc.h
export const FALLOC_FL_KEEP_SIZE = 0x01
export const FALLOC_FL_PUNCH_HOLE = 0x02

// fcntl.h (userfaultfd(2) flags) and userfaultfd.h
export const O_NONBLOCK = 0o4000
export const O_CLOEXEC = 0o2000000
export const UFFD_USER_MODE_ONLY = 1

export const UFFD_API = 0xaa

// ioctl numbers, as bit positions of uffdio_api.ioctls / uffdio_register.ioctls
export const _UFFDIO_REGISTER = 0x00
export const _UFFDIO_UNREGISTER = 0x01
export const _UFFDIO_WAKE = 0x02
export const _UFFDIO_COPY = 0x03
export const _UFFDIO_ZEROPAGE = 0x04
export const _UFFDIO_MOVE = 0x05
export const _UFFDIO_WRITEPROTECT = 0x06
export const _UFFDIO_CONTINUE = 0x07
export const _UFFDIO_POISON = 0x08
export const _UFFDIO_RWPROTECT = 0x09
export const _UFFDIO_SET_MODE = 0x0a
export const _UFFDIO_API = 0x3f

export const UFFD_EVENT_PAGEFAULT = 0x12
export const UFFD_EVENT_FORK = 0x13
export const UFFD_EVENT_REMAP = 0x14
export const UFFD_EVENT_REMOVE = 0x15
export const UFFD_EVENT_UNMAP = 0x16

export const UFFD_PAGEFAULT_FLAG_WRITE = 1 << 0
export const UFFD_PAGEFAULT_FLAG_WP = 1 << 1
export const UFFD_PAGEFAULT_FLAG_MINOR = 1 << 2
export const UFFD_PAGEFAULT_FLAG_RWP = 1 << 3

export const UFFD_FEATURE_PAGEFAULT_FLAG_WP = 1 << 0
export const UFFD_FEATURE_EVENT_FORK = 1 << 1
export const UFFD_FEATURE_EVENT_REMAP = 1 << 2
export const UFFD_FEATURE_EVENT_REMOVE = 1 << 3
export const UFFD_FEATURE_MISSING_HUGETLBFS = 1 << 4
export const UFFD_FEATURE_MISSING_SHMEM = 1 << 5
export const UFFD_FEATURE_EVENT_UNMAP = 1 << 6
export const UFFD_FEATURE_SIGBUS = 1 << 7
export const UFFD_FEATURE_THREAD_ID = 1 << 8
export const UFFD_FEATURE_MINOR_HUGETLBFS = 1 << 9
export const UFFD_FEATURE_MINOR_SHMEM = 1 << 10
export const UFFD_FEATURE_EXACT_ADDRESS = 1 << 11
export const UFFD_FEATURE_WP_HUGETLBFS_SHMEM = 1 << 12
export const UFFD_FEATURE_WP_UNPOPULATED = 1 << 13
export const UFFD_FEATURE_POISON = 1 << 14
export const UFFD_FEATURE_WP_ASYNC = 1 << 15
export const UFFD_FEATURE_MOVE = 1 << 16
export const UFFD_FEATURE_RWP = 1 << 17
export const UFFD_FEATURE_RWP_ASYNC = 1 << 18
/** fs/userfaultfd.c: the features UFFDIO_SET_MODE may toggle. */
export const UFFD_FEATURE_TOGGLEABLE = UFFD_FEATURE_RWP_ASYNC

export const UFFDIO_REGISTER_MODE_MISSING = 1 << 0
export const UFFDIO_REGISTER_MODE_WP = 1 << 1
export const UFFDIO_REGISTER_MODE_MINOR = 1 << 2
export const UFFDIO_REGISTER_MODE_RWP = 1 << 3

export const UFFDIO_RWPROTECT_MODE_RWP = 1 << 0
export const UFFDIO_RWPROTECT_MODE_DONTWAKE = 1 << 1
export const UFFDIO_WRITEPROTECT_MODE_WP = 1 << 0
export const UFFDIO_WRITEPROTECT_MODE_DONTWAKE = 1 << 1
export const UFFDIO_COPY_MODE_DONTWAKE = 1 << 0
export const UFFDIO_COPY_MODE_WP = 1 << 1

// include/uapi/linux/fs.h: PAGEMAP_SCAN
export const PM_SCAN_WP_MATCHING = 1 << 0
export const PM_SCAN_CHECK_WPASYNC = 1 << 1
export const PAGE_IS_WPALLOWED = 1 << 0
export const PAGE_IS_WRITTEN = 1 << 1
export const PAGE_IS_FILE = 1 << 2
export const PAGE_IS_PRESENT = 1 << 3
export const PAGE_IS_SWAPPED = 1 << 4
export const PAGE_IS_PFNZERO = 1 << 5
export const PAGE_IS_HUGE = 1 << 6
export const PAGE_IS_SOFT_DIRTY = 1 << 7
export const PAGE_IS_GUARD = 1 << 8
export const PAGE_IS_ACCESSED = 1 << 9
/** sizeof(struct pm_scan_arg) */
export const PAGEMAP_SCAN_ARG_SIZE = 96

// The result of one simulated access (kernel.access): not a Linux name, the simulator's contract.
/** The access completed; a read's value is in kernel.access_value. */
export const ACCESS_DONE = 0
/** The task sleeps (a sync userfault): it retries the access once drain_woken() lists it. */
export const ACCESS_BLOCKED = 1
export const ACCESS_SIGSEGV = 2
export const ACCESS_SIGBUS = 3

// kernel.access_flags: what the last access cost (for the machine's time costs).
export const ACCESS_F_TLB_MISS = 1
/** A page fault was handled in the kernel (a minor fault, a COW, a NUMA-hint fix-up). */
export const ACCESS_F_FAULT = 2
export const ACCESS_F_RWP_ASYNC = 4
export const ACCESS_F_SWAPIN = 8
