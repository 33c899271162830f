/**
 * The top-level `expect` (spec "expect for scripts" and "expect for workload runs"): one mapping
 * with the keys of both forms; schema.ts fills the defaults that depend on which form the run has.
 */
import * as z from "zod"
import { expected } from "./messages.ts"
import { ONLY_VALID, strict } from "./strict.ts"
import { duration } from "./values.ts"
import { TRACKERS } from "./workload.ts"

export const INVARIANTS = [
  "no_data_loss",
  "no_lost_wakeup",
  "protection",
  "scan_soundness",
  "mode",
  "accounting"
] as const
export type InvariantName = (typeof INVARIANTS)[number]

/** The integer metrics a run reports (spec "Metrics"); `tracker` is checked by `expect.tracker`. */
export const METRICS = [
  "simulated_ns",
  "guest_accesses",
  "rwp_faults",
  "wss_true_pages",
  "wss_estimated_pages",
  "pages_evicted",
  "refaults",
  "stall_ns_p50",
  "stall_ns_p99",
  "stall_ns_max",
  "data_loss",
  "hung_vcpus"
] as const
export type MetricName = (typeof METRICS)[number]

/** Bounds on a metric, both inclusive; an exact value has min === max. */
export interface MetricBound {
  readonly min?: number
  readonly max?: number
}

const BOUND_WHAT = "a bound: a number (exact) or { min, max }"

function bound(metric: MetricName) {
  const value = metric.includes("_ns")
    ? duration
    : z.number({ error: expected("a number") }).refine(Number.isFinite, { error: expected("a finite number") })
  return z
    .union(
      [
        value,
        strict(
          {
            min: value.optional().meta({ description: "The lowest value allowed (inclusive). Optional." }),
            max: value.optional().meta({ description: "The highest value allowed (inclusive). Optional." })
          },
          BOUND_WHAT
        )
      ],
      {
        error: expected(metric.includes("_ns") ? `${BOUND_WHAT}, in ns or with a unit like "5ms"` : BOUND_WHAT)
      }
    )
    .superRefine((_, ctx) => {
      const v = ctx.value
      if (typeof v === "number") return
      const message =
        v.min === undefined && v.max === undefined
          ? "expected { min }, { max } or both"
          : v.min !== undefined && v.max !== undefined && v.min > v.max
            ? `expected min <= max, got min ${v.min} and max ${v.max}`
            : undefined
      if (message !== undefined) ctx.issues.push({ code: "custom", input: v, message })
    }, ONLY_VALID)
    .transform((v): MetricBound => (typeof v === "number" ? { min: v, max: v } : v))
    .optional()
    .meta({ description: `Bound on ${metric}: a number (exact) or { min, max }. Optional.` })
}

const metricsShape = Object.fromEntries(METRICS.map((m) => [m, bound(m)])) as {
  [K in MetricName]: ReturnType<typeof bound>
}

const invariantList = z
  .union(
    [
      z.literal("all"),
      z.array(z.enum(INVARIANTS, { error: expected(`an invariant: ${INVARIANTS.join(", ")}`) }), {
        error: expected("all or a list of invariants")
      })
    ],
    { error: expected(`all or a list of invariants (${INVARIANTS.join(", ")})`) }
  )
  .transform((v): InvariantName[] => (v === "all" ? [...INVARIANTS] : v))

/** The top-level `expect` as written; defaults are filled by the scenario schema. */
export const expectSection = strict(
  {
    hung_vcpus: z
      .int({ error: expected("a number of vCPUs (>= 0)") })
      .min(0, { error: expected("a number of vCPUs (>= 0)") })
      .default(0)
      .meta({ description: "Exact number of vCPUs still blocked at the end. Default: 0." }),
    invariants: invariantList.optional().meta({
      description: `all, or a list of ${INVARIANTS.join(", ")}. Default: all for a workload run, none for a script.`
    }),
    max_stall: duration
      .optional()
      .meta({ description: "Workload runs: the longest stall allowed (stall_ns_max). Optional." }),
    tracker: z
      .enum(TRACKERS, { error: expected(`a tracker: ${TRACKERS.join(", ")}`) })
      .optional()
      .meta({ description: "Workload runs: the tracker that must end up in use. Optional." }),
    metrics: strict(metricsShape, "a mapping of metric bounds like { data_loss: 0 }")
      .prefault({})
      .meta({ description: "Bounds on metrics: a number (exact) or { min, max }. Default: {}." })
  },
  "an expect mapping like { hung_vcpus: 0 }"
)
