// `expect` for workload runs (spec): the invariants the scenario lists, max_stall, the tracker in
// use, hung_vcpus and bounds on metrics. Each failure says expected versus actual.
import { METRICS, type ScenarioExpect } from "@rwpsim/scenario"
import { invariantFailure, type RunFailure } from "../result.ts"
import type { RunError, Violation } from "./checker.ts"
import { showDuration } from "./format.ts"

export interface WorkloadOutcome {
  readonly violations: readonly Violation[]
  readonly counts: ReadonlyMap<string, number>
  readonly errors: readonly RunError[]
  readonly metrics: Readonly<Record<string, number | string>>
  /** One message per vCPU hung at the end (with its wait-for chain). */
  readonly hung: readonly string[]
}

const expectation = (message: string): RunFailure => ({ step: null, op: null, invariant: null, message })

export function checkWorkload(expect: ScenarioExpect, o: WorkloadOutcome): RunFailure[] {
  const failures: RunFailure[] = []
  const listed = new Set<string>(expect.invariants)
  for (const inv of expect.invariants) {
    const found = o.violations.filter((v) => v.invariant === inv)
    if (found.length === 0) continue
    const n = o.counts.get(inv) ?? found.length
    const more = n > 1 ? ` (${n} violations in all; the first is shown)` : ""
    failures.push(invariantFailure(inv, `${found[0].message}${more}`))
  }
  for (const e of o.errors) failures.push(expectation(e.message))
  const m = o.metrics
  const hung = m.hung_vcpus as number
  if (hung !== expect.hung_vcpus) {
    const detail = o.hung.length > 0 ? `: ${o.hung.join("; ")}` : ""
    const message = `expected ${expect.hung_vcpus} hung vCPU(s) at the end of the run, found ${hung}${detail}`
    // the live check already named the invariant: this is then the count only
    const named = listed.has("no_lost_wakeup") && o.violations.some((v) => v.invariant === "no_lost_wakeup")
    failures.push(
      hung > expect.hung_vcpus && listed.has("no_lost_wakeup") && !named
        ? invariantFailure("no_lost_wakeup", message)
        : expectation(`expect.hung_vcpus: ${message}`)
    )
  }
  if (expect.max_stall !== undefined && (m.stall_ns_max as number) > expect.max_stall) {
    failures.push(
      expectation(
        `expect.max_stall: expected the longest stall to be at most ${showDuration(expect.max_stall)} (${expect.max_stall}ns), got ${showDuration(m.stall_ns_max as number)} (${m.stall_ns_max}ns)`
      )
    )
  }
  if (expect.tracker !== undefined && m.tracker !== expect.tracker) {
    failures.push(expectation(`expect.tracker: expected tracker ${expect.tracker} in use, got ${m.tracker}`))
  }
  for (const name of METRICS) {
    const b = expect.metrics[name]
    if (b === undefined) continue
    const got = m[name] as number
    const exact = b.min !== undefined && b.min === b.max
    if (exact && got !== b.min) failures.push(expectation(`expect.metrics.${name}: expected ${b.min}, got ${got}`))
    else if (!exact && b.min !== undefined && got < b.min)
      failures.push(expectation(`expect.metrics.${name}: expected at least ${b.min}, got ${got}`))
    else if (!exact && b.max !== undefined && got > b.max)
      failures.push(expectation(`expect.metrics.${name}: expected at most ${b.max}, got ${got}`))
  }
  return failures
}
