/**
 * @rwpsim/scenario: the scenario file format (zod schema), its loader with file:line:column errors,
 * and its JSON Schema. No file system: callers pass the text and the file's path.
 */
export { parseScenario, type ParseResult } from "./load.ts"
export { formatScenarioError, formatPath, type ScenarioError } from "./ScenarioError.ts"
export { scenarioJsonSchema } from "./jsonSchema.ts"
export { pinSchedule } from "./pin.ts"
export { scenarioSchema, type Scenario, type ScenarioInput, type ScenarioExpect } from "./schema.ts"
export {
  ARCHES,
  DEFAULT_COSTS,
  KERNEL_CONFIG_KEYS,
  PAGE_SIZES,
  type Arch,
  type CostName,
  type Costs,
  type KernelConfig,
  type KernelConfigKey,
  type Machine
} from "./machine.ts"
export {
  ERRNO_NAMES,
  MADVISE_ADVICE,
  OP_NAMES,
  SIGNALS,
  UFFD_EVENTS,
  VCPU_STATES,
  type ErrnoName,
  type OpName,
  type Step,
  type StepArgs,
  type StepExpect,
  type StepOf
} from "./steps.ts"
export {
  BACKINGS,
  DEFAULT_WORKLOAD,
  PATTERNS,
  STRATEGIES,
  TRACKERS,
  VMM_BUGS,
  type Backing,
  type Pattern,
  type Phase,
  type Strategy,
  type Tracker,
  type VmmBug,
  type Workload
} from "./workload.ts"
export { INVARIANTS, METRICS, type InvariantName, type MetricBound, type MetricName } from "./expect.ts"
export {
  address,
  bandwidth,
  duration,
  flags,
  ioctls,
  name,
  percentage,
  range,
  size,
  type Address,
  type Flags,
  type Range
} from "./values.ts"
