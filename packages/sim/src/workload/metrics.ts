// The metrics of a workload run (spec "Metrics"): the spec's keys first, in the spec's order, then
// a few more a VMM engineer reading the summary wants (documented in the README).
import type { GroundTruth, Vcpu } from "@rwpsim/guest"
import type { Kernel } from "@rwpsim/kernel"
import type { HandlerState, StorageDevice, TrackerKind, TrackerState } from "@rwpsim/vmm"
import type { StallEpisodes } from "./stall.ts"

/** Per-cycle sums the observer keeps (a cycle ends at each tracker scan). */
export class CycleSums {
  cycles = 0
  true_pages = 0
  estimated_pages = 0
  /** The ground truth's first stamp counted accesses from before the first cycle: it is dropped. */
  started = false

  wssTrue(): number {
    return this.cycles === 0 ? 0 : Math.floor(this.true_pages / this.cycles)
  }

  wssEstimated(): number {
    return this.cycles === 0 ? 0 : Math.floor(this.estimated_pages / this.cycles)
  }
}

export interface MetricsInput {
  readonly simulated_ns: number
  readonly vcpus: readonly Vcpu[]
  readonly kernel: Kernel
  /** The kernel's counters when the workload started (steps before it are not counted). */
  readonly stats0: Kernel["stats"]
  readonly gt: GroundTruth
  readonly cycles: CycleSums
  readonly tracker_state: TrackerState
  readonly handler: HandlerState
  readonly refaults_from_storage: number
  readonly anon: boolean
  readonly stalls: StallEpisodes
  /** Episodes still open at the end, as if they ended then. */
  readonly open_stalls: readonly number[]
  readonly hung_vcpus: number
  readonly tracker: TrackerKind
  readonly device: StorageDevice
}

export function workloadMetrics(m: MetricsInput): Record<string, number | string> {
  const k = m.kernel.stats
  const s0 = m.stats0
  for (const ns of m.open_stalls) m.stalls.record(ns)
  const [p50, p99] = m.stalls.percentiles([50, 99])
  const max = m.stalls.count === 0 ? 0 : m.stalls.percentiles([100])[0]
  let accesses = 0
  let writes = 0
  for (const v of m.vcpus) {
    accesses += v.accesses
    writes += v.writes
  }
  return {
    simulated_ns: m.simulated_ns,
    guest_accesses: accesses,
    rwp_faults: k.rwp_faults_sync - s0.rwp_faults_sync + (k.rwp_faults_async - s0.rwp_faults_async),
    wss_true_pages: m.cycles.wssTrue(),
    wss_estimated_pages: m.cycles.wssEstimated(),
    pages_evicted: m.tracker_state.pages_evicted,
    refaults: m.anon ? k.swapins - s0.swapins : m.refaults_from_storage,
    stall_ns_p50: p50,
    stall_ns_p99: p99,
    stall_ns_max: max,
    data_loss: m.gt.data_loss,
    hung_vcpus: m.hung_vcpus,
    tracker: m.tracker,
    // beyond the spec
    cycles: m.cycles.cycles,
    guest_writes: writes,
    rwp_faults_sync: k.rwp_faults_sync - s0.rwp_faults_sync,
    missing_faults: k.missing_faults - s0.missing_faults,
    stall_episodes: m.stalls.count,
    stall_ns_total: m.stalls.total(),
    storage_ios: m.device.ios,
    storage_bytes: m.device.bytes
  }
}
