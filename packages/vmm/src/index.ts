/**
 * @rwpsim/vmm: the VMM of a workload run, as Effect programs that read like the admin guide's C:
 * the tracker thread (rwp hot-scan and cold-scan, uffd-wp, idle-page, none), the fault-handler
 * thread, the storage tier, and the one-time setup with the UFFDIO_API probe and fallbacks.
 */
export { AssertionError, assert } from "./assert.ts"
export { faultHandler, HANDLER_NOTES_KEPT, HandlerState } from "./handler.ts"
export type {
  BackingKind,
  GuestLayout,
  StrategyKind,
  TrackerKind,
  VmmBug,
  VmmConfig,
  VmmCosts,
  VmmHost,
  VmmObserver
} from "./host.ts"
export { markRegions, PageBits, type PageRange, rangesWhere, VmmPages } from "./pages.ts"
export {
  chooseTracker,
  type MemorySpec,
  probeFeatures,
  type SetupError,
  setupMemory,
  setupUffd,
  setupVmm,
  type VmmSetup
} from "./setup.ts"
export { StorageDevice, StorageObject, type StorageParams } from "./storage.ts"
export { type ByteRange, type CallResult, type Syscalls, syscalls } from "./sys.ts"
export { tracker, TrackerState } from "./tracker.ts"
