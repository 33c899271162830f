export { type ChoicePoint, type ChoicePolicy, ChoiceTape, ScheduleMismatch } from "./ChoiceTape.ts"
export { Engine, type EngineOptions } from "./Engine.ts"
export { type EventHandle, EventQueue } from "./EventQueue.ts"
export { AssertionError, assert } from "./internal/assert.ts"
export { fnv1a64, Prng, PrngStreams, splitmix64 } from "./Prng.ts"
export * as Sim from "./Sim.ts"
export { Resume, SimEngine, type SimEngineOptions, Thread, type ThreadState, type WakeOrder } from "./SimEngine.ts"
export {
  NullTrace,
  RWPSIM_VERSION,
  Trace,
  type TraceFields,
  type TraceHeader,
  type TraceSink,
  type TraceValue
} from "./Trace.ts"
export { assertTime, T_NS_MAX, VirtualClock } from "./VirtualClock.ts"
