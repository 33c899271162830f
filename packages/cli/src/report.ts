// The human summary of a run: what a user reads first, so the verdict and the replay command lead.
import type { RunResult } from "@rwpsim/sim"

type Metrics = RunResult["metrics"]

function metricLines(metrics: Metrics): string[] {
  const keys = Object.keys(metrics)
  if (keys.length === 0) return []
  const width = Math.max(...keys.map((k) => k.length))
  return keys.map((k) => `  ${k.padEnd(width)}  ${String(metrics[k])}`)
}

/** A duration in ns, readable (exact ns below 1us). */
export function humanNs(ns: number): string {
  const trim = (x: number) => String(Math.round(x * 100) / 100)
  if (ns < 1_000) return `${ns}ns`
  if (ns < 1_000_000) return `${trim(ns / 1_000)}us`
  if (ns < 1_000_000_000) return `${trim(ns / 1_000_000)}ms`
  return `${trim(ns / 1_000_000_000)}s`
}

/** A workload run: the spec's metrics in groups a VMM engineer reads (the raw ones are in --json). */
function workloadLines(m: Metrics): string[] {
  const n = (k: string) => Number(m[k] ?? 0)
  const rows: [string, string][] = [
    ["tracker", String(m.tracker)],
    [
      "simulated",
      `${humanNs(n("simulated_ns"))}, ${n("guest_accesses")} guest accesses, ${n("cycles")} tracker cycles`
    ],
    ["working set", `true ${n("wss_true_pages")} pages, estimated ${n("wss_estimated_pages")} pages (mean per cycle)`],
    ["eviction", `${n("pages_evicted")} pages evicted, ${n("refaults")} refaults`],
    ["rwp faults", `${n("rwp_faults")} (${n("rwp_faults_sync")} sync), ${n("missing_faults")} MISSING faults`],
    [
      "stalls",
      `p50 ${humanNs(n("stall_ns_p50"))}, p99 ${humanNs(n("stall_ns_p99"))}, max ${humanNs(n("stall_ns_max"))} over ${n("stall_episodes")} episodes`
    ],
    ["data loss", `${n("data_loss")} reads`],
    ["hung vCPUs", String(n("hung_vcpus"))]
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
}

export function formatRun(
  file: string,
  name: string,
  seed: number,
  result: RunResult,
  replay: string
): { stdout: string[]; stderr: string[] } {
  const head = `${result.ok ? "PASS" : "FAIL"}  ${name}  (${file}, seed ${seed})`
  const body = "tracker" in result.metrics ? workloadLines(result.metrics) : metricLines(result.metrics)
  const stdout = [head, ...body]
  const stderr: string[] = []
  for (const f of result.failures) {
    const where =
      f.step !== null ? `step ${f.step} (${f.op})` : f.invariant !== null ? `invariant ${f.invariant}` : "run"
    stderr.push(`${file}: ${name}, seed ${seed}: ${where}: ${f.message}`)
  }
  if (!result.ok) stderr.push(`  replay: ${replay}`)
  return { stdout, stderr }
}
