// What the VMM's threads run against: the kernel, the guest memory's layout, the storage tier, its
// own page bookkeeping, and the simulation around it (the driver that retries woken vCPUs, pauses
// them, and the observer that checks invariants and counts metrics). The sim package provides it.
import type { Kernel } from "@rwpsim/kernel"
import type { PageBits, VmmPages } from "./pages.ts"
import type { StorageDevice, StorageObject } from "./storage.ts"

/** Trackers a VMM can run (spec `vmm.tracker`). */
export type TrackerKind = "rwp" | "uffd-wp" | "idle-page" | "none"
/** RWP strategies (spec "Strategies"). */
export type StrategyKind = "hot-scan" | "cold-scan"
/** Guest memory backings. */
export type BackingKind = "anon" | "shmem" | "hugetlb"

/**
 * Deliberate VMM bugs, for tests of the invariants (bundled only under scenarios/mutants/):
 * - handler-ignores-missing: a MISSING fault is read and never answered (hangs a vCPU);
 * - handler-resolves-evicting: a sync RWP fault on a page under eviction is resolved (loses writes);
 * - tracker-forgets-wake: no UFFDIO_WAKE after the punch (healed by the next SET_MODE(async));
 * - tracker-skips-punch: pwrite, then no hole punch, yet the page is counted as in storage;
 * - tracker-stale-scan: the tracker judges a cycle by the previous cycle's scan;
 * - handler-copy-wrong-offset: a MISSING fault on an evicted page is answered with UFFDIO_COPY of
 *   the word at the next page's storage offset (an off-by-one page in the offset arithmetic);
 * - tracker-evicts-async: the rwp tracker evicts without UFFDIO_SET_MODE(sync) first, so a write
 *   between a page's pwrite and its punch resolves in place and the punch drops it.
 */
export type VmmBug =
  | "handler-ignores-missing"
  | "tracker-forgets-wake"
  | "handler-resolves-evicting"
  | "tracker-skips-punch"
  | "tracker-stale-scan"
  | "handler-copy-wrong-offset"
  | "tracker-evicts-async"

/** The virtual-time costs the VMM's threads pay (machine.costs, ns). */
export interface VmmCosts {
  readonly ioctl: number
  readonly scan_per_page: number
  readonly tlb_shootdown: number
  readonly uffd_round_trip: number
}

/** Where guest memory is. io_mem and memfd are -1 for anonymous backing. */
export interface GuestLayout {
  readonly backing: BackingKind
  readonly guest_mem: number
  readonly io_mem: number
  readonly memfd: number
  readonly uffd: number
  readonly size: number
  /** Bytes per tracking page (the base page, or the huge page for hugetlb). */
  readonly page_bytes: number
  readonly pages: number
}

/** The tracker's configuration (spec `workload.vmm`), times in ns. */
export interface VmmConfig {
  readonly tracker: TrackerKind
  readonly strategy: StrategyKind
  readonly interval: number
  readonly cold_age: number
  /** Virtual time at which the run ends: no cycle starts at or after it. */
  readonly end_ns: number
  readonly bug?: VmmBug | undefined
}

/** Everything the checker and the metrics need to hear from the VMM, at the moment it happens. */
export interface VmmObserver {
  /** A cycle's detection window starts (the protect, write-protect or idle marking just returned). */
  cycleStart(tracker: TrackerKind): void
  /** The tracker's judgement of the cycle that just ended: `hot.get(p)` = judged accessed. */
  scanned(hot: PageBits, hot_pages: number, reported: "hot" | "cold"): void
  /** UFFDIO_RWPROTECT(MODE_RWP) over [start, start + len) returned. */
  protected(start: number, len: number): void
  /** The mode the VMM set with UFFDIO_SET_MODE (true: RWP_ASYNC on). */
  modeSet(async: boolean): void
  /** Pages [first, first + count) were read by pwrite; `words` their content, in page order. */
  pwritten(first: number, words: Uint32Array, count: number): void
  /** Page p was dropped from memory after pwrite stored `stored` (shmem/hugetlb), or swapped (anon). */
  evicted(page: number, stored: number, was_resident: boolean): void
  /** Page p came back: UFFDIO_COPY of `word` (from storage if `from_storage`). */
  populated(page: number, word: number, from_storage: boolean): void
  /** The fault handler read a userfaultfd message. */
  message(kind: "missing" | "rwp" | "wp" | "other", page: number, action: string): void
  /** A VMM system call failed where the VMM cannot go on. */
  vmmError(what: string): void
}

/** The VMM's world. */
export interface VmmHost {
  readonly kernel: Kernel
  readonly costs: VmmCosts
  readonly layout: GuestLayout
  readonly config: VmmConfig
  readonly device: StorageDevice
  readonly store: StorageObject
  readonly pages: VmmPages
  /** Kernel task ids of the VMM's threads (vCPUs are 0..vcpus-1). */
  readonly tasks: { readonly tracker: number; readonly handler: number }
  /** The wait key the fault handler parks on (poll(2) on the uffd): the driver unparks it when a message is queued. */
  readonly uffd_poll_key: string
  /** After every kernel call by a VMM thread: the vCPUs the kernel woke retry their accesses now. */
  kernelCalled(): void
  /** Fallback trackers: stop every vCPU (their pause counts as stall) and let them go again. */
  pauseVcpus(): void
  resumeVcpus(): void
  readonly observer: VmmObserver
}
