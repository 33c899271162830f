// Deliberate kernel bugs that a run can switch on (`rwpsim run --mutant NAME`), to prove that the
// invariants and the model check catch each one. Off by default; a switched-off mutant costs a
// boolean test on a slow path, never on the TLB-hit path.

export const KERNEL_MUTANTS = {
  "rwprotect-no-tlb-flush": "UFFDIO_RWPROTECT(MODE_RWP) returns without shooting down the TLBs",
  "set-mode-no-wake": "UFFDIO_SET_MODE enabling RWP_ASYNC does not wake the threads asleep in the userfaultfd",
  "dontneed-keeps-protection": "MADV_DONTNEED leaves RWP-protected entries (and their data) in place",
  "swapout-drops-uffd": "anon swap-out loses the uffd bit: the page comes back unprotected",
  "scan-holes-accessed": "PAGEMAP_SCAN reports unpopulated pages of an RWP VMA as PAGE_IS_ACCESSED",
  "dontwake-ignored": "UFFDIO_RWPROTECT with MODE_DONTWAKE still wakes the range",
  "async-queues-message": "an async RWP fault resolves in place and also queues a message",
  "unprotect-no-wake": "resolving with UFFDIO_RWPROTECT (no DONTWAKE) wakes nobody",
  "migration-drops-uffd": "migration of a protected page installs the new entry without PAGE_NONE + uffd"
} as const

export type KernelMutant = keyof typeof KERNEL_MUTANTS

export const isKernelMutant = (name: string): name is KernelMutant => Object.hasOwn(KERNEL_MUTANTS, name)

/** The switched-on mutants, as plain booleans the kernel tests where the bug would be. */
export class Mutants {
  readonly rwprotect_no_tlb_flush: boolean
  readonly set_mode_no_wake: boolean
  readonly dontneed_keeps_protection: boolean
  readonly swapout_drops_uffd: boolean
  readonly scan_holes_accessed: boolean
  readonly dontwake_ignored: boolean
  readonly async_queues_message: boolean
  readonly unprotect_no_wake: boolean
  readonly migration_drops_uffd: boolean

  constructor(on: readonly KernelMutant[] = []) {
    const has = (m: KernelMutant) => on.includes(m)
    this.rwprotect_no_tlb_flush = has("rwprotect-no-tlb-flush")
    this.set_mode_no_wake = has("set-mode-no-wake")
    this.dontneed_keeps_protection = has("dontneed-keeps-protection")
    this.swapout_drops_uffd = has("swapout-drops-uffd")
    this.scan_holes_accessed = has("scan-holes-accessed")
    this.dontwake_ignored = has("dontwake-ignored")
    this.async_queues_message = has("async-queues-message")
    this.unprotect_no_wake = has("unprotect-no-wake")
    this.migration_drops_uffd = has("migration-drops-uffd")
  }
}
