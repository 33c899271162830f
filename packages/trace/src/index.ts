export { eventMatcher, type FilterSpec, TraceFilter } from "./filter.ts"
export {
  EventChecker,
  type FieldValue,
  fieldsOf,
  parseEventLine,
  parseHeader,
  TraceError,
  type TraceEvent,
  type TraceHeader,
  TraceParser
} from "./record.ts"
export { AddressSpace, type GuestLayout, type Mapping, type PageTarget } from "./space.ts"
export { type Attributed, concernsVcpu, ThreadAttributor, ThreadTracker, vcpuOf } from "./threads.ts"
export { formatTime, hex, parseAddressArg, parseDurationArg, showSize, showTime } from "./units.ts"
export { ANSI, formatEvent, type Paint, PLAIN, showBits, showValue } from "./view.ts"
export { PerfettoExport, type PerfettoSummary } from "./perfetto.ts"
export { differingFields, StateSketch } from "./state.ts"
export { PageStory, type StoryKind, type StoryLine, type StorySummary } from "./story.ts"
export {
  INVARIANT_NAMES,
  type HeatColumn,
  type InvariantResult,
  ReportBuilder,
  type ReportData,
  type Violation
} from "./report.ts"
export { type ReportAssets, renderReport } from "./reportHtml.ts"
