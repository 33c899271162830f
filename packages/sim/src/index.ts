/**
 * @rwpsim/sim: composes hw, kernel, guest and vmm on the engine. Runs a scenario (a step script, a
 * workload, or both), checks its expectations and invariants, and computes the metrics.
 */
export { runScenario, type RunOptions } from "./run.ts"
export type { Interrupted, RunFailure, RunResult } from "./result.ts"
export { validateScenario } from "./validate.ts"
export { machineFeatures, machineSpec } from "./machine.ts"
export { applyMutants, isMutant, MUTANT_NAMES, type MutantName } from "./mutants.ts"
export {
  type Exploration,
  type ExploreOptions,
  type ExploreStrategy,
  explore,
  failureLabel,
  normaliseMessage,
  type Outcome,
  outcomeKey,
  type Reproducer
} from "./explore.ts"
export {
  ACCESS_BENCH_DEFAULTS,
  type AccessBench,
  type AccessBenchResult,
  type AccessBenchSpec,
  type AccessBenchWorkload,
  prepareAccessBench
} from "./bench/access.ts"
