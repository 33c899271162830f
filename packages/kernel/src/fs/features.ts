// fs/userfaultfd.c: what UFFDIO_API offers on this machine (uffd_api_available_features()), the
// register modes and the ioctl masks, from the hardware facts and the kernel version.
import type { CpuFeatures } from "@rwpsim/hw"
import * as U from "../uapi.ts"

/** Kernel version (major * 100 + minor) each feature appeared in. */
const SINCE: ReadonlyArray<readonly [number, number]> = [
  [U.UFFD_FEATURE_PAGEFAULT_FLAG_WP, 507],
  [U.UFFD_FEATURE_EVENT_FORK, 411],
  [U.UFFD_FEATURE_EVENT_REMAP, 411],
  [U.UFFD_FEATURE_EVENT_REMOVE, 411],
  [U.UFFD_FEATURE_MISSING_HUGETLBFS, 411],
  [U.UFFD_FEATURE_MISSING_SHMEM, 411],
  [U.UFFD_FEATURE_EVENT_UNMAP, 411],
  [U.UFFD_FEATURE_SIGBUS, 414],
  [U.UFFD_FEATURE_THREAD_ID, 414],
  [U.UFFD_FEATURE_MINOR_HUGETLBFS, 513],
  [U.UFFD_FEATURE_MINOR_SHMEM, 514],
  [U.UFFD_FEATURE_EXACT_ADDRESS, 518],
  [U.UFFD_FEATURE_WP_HUGETLBFS_SHMEM, 519],
  [U.UFFD_FEATURE_WP_UNPOPULATED, 604],
  [U.UFFD_FEATURE_POISON, 606],
  [U.UFFD_FEATURE_WP_ASYNC, 607],
  [U.UFFD_FEATURE_MOVE, 608],
  [U.UFFD_FEATURE_RWP, 702],
  [U.UFFD_FEATURE_RWP_ASYNC, 702]
]

/** CONFIG_HAVE_ARCH_USERFAULTFD_MINOR (arch/{x86,arm64,riscv,loongarch}/Kconfig). */
export function haveArchUffdMinor(f: CpuFeatures): boolean {
  return f.arch === "x86_64" || f.arch === "arm64" || f.arch === "riscv64" || f.arch === "loongarch64"
}

/** VM_UFFD_RWP != VM_NONE && pgtable_supports_uffd(): RWP can be used on this machine. */
export function rwpAvailable(f: CpuFeatures): boolean {
  return f.config_userfaultfd_rwp && f.pgtable_supports_uffd
}

export function availableFeatures(f: CpuFeatures, version: number): number {
  let feats = 0
  for (const [bit, since] of SINCE) if (version >= since) feats |= bit
  if (!haveArchUffdMinor(f)) feats &= ~(U.UFFD_FEATURE_MINOR_HUGETLBFS | U.UFFD_FEATURE_MINOR_SHMEM)
  if (!f.pgtable_supports_uffd) {
    feats &= ~U.UFFD_FEATURE_PAGEFAULT_FLAG_WP
    // uffd_supports_wp_marker() needs the uffd bit as well
    feats &= ~(U.UFFD_FEATURE_WP_HUGETLBFS_SHMEM | U.UFFD_FEATURE_WP_UNPOPULATED | U.UFFD_FEATURE_WP_ASYNC)
  }
  if (!rwpAvailable(f)) feats &= ~(U.UFFD_FEATURE_RWP | U.UFFD_FEATURE_RWP_ASYNC)
  return feats >>> 0
}

/** UFFD_API_REGISTER_MODES */
export function registerModes(f: CpuFeatures): number {
  let m = U.UFFDIO_REGISTER_MODE_MISSING | U.UFFDIO_REGISTER_MODE_WP | U.UFFDIO_REGISTER_MODE_MINOR
  if (f.kernel_has_rwp) m |= U.UFFDIO_REGISTER_MODE_RWP
  return m
}

const bit = (n: number) => 1n << BigInt(n)

/** UFFD_API_IOCTLS: the fd-level ioctls. */
export function apiIoctls(f: CpuFeatures): bigint {
  let m = bit(U._UFFDIO_REGISTER) | bit(U._UFFDIO_UNREGISTER) | bit(U._UFFDIO_API)
  if (f.kernel_has_rwp) m |= bit(U._UFFDIO_SET_MODE)
  return m
}

/** UFFD_API_RANGE_IOCTLS(_BASIC for hugetlb), before the per-mode stripping of userfaultfd_register(). */
export function rangeIoctls(f: CpuFeatures, version: number, hugetlb: boolean): bigint {
  let m = bit(U._UFFDIO_WAKE) | bit(U._UFFDIO_COPY) | bit(U._UFFDIO_WRITEPROTECT) | bit(U._UFFDIO_CONTINUE)
  if (!hugetlb) {
    m |= bit(U._UFFDIO_ZEROPAGE)
    if (version >= 608) m |= bit(U._UFFDIO_MOVE)
  }
  if (version >= 606) m |= bit(U._UFFDIO_POISON)
  if (f.kernel_has_rwp) m |= bit(U._UFFDIO_RWPROTECT)
  return m
}

export const ioctlBit = bit
