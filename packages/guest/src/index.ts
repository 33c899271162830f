// @rwpsim/guest: guest vCPU workloads. Access patterns over spans of guest pages, the burst loop
// that drives the kernel's MMU, workload phases, and the ground truth the invariants check against.
export { AssertionError } from "./assert.ts"
export { type DataLossViolation, GroundTruth, GT_CYCLE_MASK, GT_PAGES_MAX, GT_WRITTEN } from "./ground_truth.ts"
export {
  ACCESS_BLOCKED,
  ACCESS_DONE,
  ACCESS_SIGBUS,
  ACCESS_SIGSEGV,
  type AccessCharge,
  type GuestMemory
} from "./memory.ts"
export { BenchW1Pattern, BenchW2Pattern, Xorshift32 } from "./patterns/bench_w1.ts"
export { HotColdPattern, type HotShiftSpec } from "./patterns/hot_cold.ts"
export { LocalityPattern, withLocality } from "./patterns/locality.ts"
export type { PagePattern } from "./patterns/pattern.ts"
export { SequentialPattern } from "./patterns/sequential.ts"
export { UniformPattern } from "./patterns/uniform.ts"
export { ZipfPattern } from "./patterns/zipf.ts"
export {
  type GuestSpec,
  makePattern,
  nextPhaseBoundary,
  PHASE_DEFAULTS,
  type Phase,
  type PatternName,
  type PhaseSpec,
  phaseIndexAt,
  phaseSpan,
  resolvePhases,
  workloadPhases
} from "./phase.ts"
export { drawBelow, drawUnit, int31AcceptMax, type RandomSource, U32_ALWAYS, u32Threshold } from "./random.ts"
export {
  BURST_BLOCKED,
  BURST_DONE_MAX,
  BURST_DONE_UNTIL,
  BURST_FINISHED,
  BURST_SIGNAL,
  type BurstKind,
  BurstResult,
  Vcpu,
  type VcpuOptions
} from "./vcpu.ts"
export { createVcpus, type GuestWorkloadOptions } from "./workload.ts"
