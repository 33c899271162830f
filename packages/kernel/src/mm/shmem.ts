// mm/shmem.c and fs/hugetlbfs: memfd files and their page cache. One entry per file page (the base
// page, or the huge page for hugetlbfs) in an Int32Array: 0 = hole, pfn + 1 = page in cache,
// -(slot + 1) = swapped out (shmem keeps swap entries in its mapping, as the xarray does).
import type { Vma } from "./vma.ts"

export class File {
  /** Page-cache entries, one per `page_bytes` of the file. */
  cache: Int32Array
  /** The VMAs that map this file (i_mmap), for rmap walks. */
  readonly i_mmap: Vma[] = []
  /** Open file descriptors on it. */
  fds = 0

  constructor(
    readonly id: number,
    readonly name: string,
    public size: number,
    /** Bytes per file page: the base page size, or the huge page size for hugetlbfs. */
    readonly page_bytes: number,
    readonly hugetlb: boolean
  ) {
    this.cache = new Int32Array(Math.ceil(size / page_bytes))
  }

  get pages(): number {
    return this.cache.length
  }

  /** Grows or shrinks the cache array to the file size (entries past the end must be gone). */
  resize(size: number): void {
    const n = Math.ceil(size / this.page_bytes)
    if (n !== this.cache.length) {
      const c = new Int32Array(n)
      c.set(n > this.cache.length ? this.cache : this.cache.subarray(0, n))
      this.cache = c
    }
    this.size = size
  }
}

export const CACHE_HOLE = 0
export const cacheHasPage = (e: number) => e > 0
export const cacheIsSwap = (e: number) => e < 0
export const cachePfn = (e: number) => e - 1
export const cacheSlot = (e: number) => -e - 1
export const pageEntry = (pfn: number) => pfn + 1
export const swapEntry = (slot: number) => -(slot + 1)
