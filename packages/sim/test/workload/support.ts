// Shared by the workload tests: run a scenario text, and a small workload to vary.
import { formatScenarioError, parseScenario, type Scenario } from "@rwpsim/scenario"
import { type RunOptions, type RunResult, runScenario } from "@rwpsim/sim"

export function load(text: string, file = "test.yaml"): Scenario {
  const r = parseScenario(text, file)
  if (!r.ok) throw new Error(r.errors.map(formatScenarioError).join("\n"))
  return r.scenario
}

export interface Traced extends RunResult {
  readonly lines: string[]
}

/** Runs `text` with a trace sink; the trace's lines come back with the result. */
export function run(text: string, options: RunOptions = {}): Traced {
  const lines: string[] = []
  const r = runScenario(load(text), { ...options, sink: { write: (l) => void lines.push(l) } })
  return { ...r, lines }
}

/** The trace's events (after the header), parsed. */
export function events(lines: readonly string[]): { t: number; ev: string; [k: string]: unknown }[] {
  return lines.slice(1).map((l) => JSON.parse(l))
}

/** A small shmem workload: two vCPUs over a hot set, RWP, a short interval. */
export function workload(o: {
  readonly strategy?: string
  readonly bug?: string
  readonly backing?: string
  readonly arch?: string
  readonly extra?: string
  readonly expect?: string
  readonly seed?: number
  readonly duration?: string
}): string {
  return `name: small workload
seed: ${o.seed ?? 1}
machine: { arch: ${o.arch ?? "x86_64"}, vcpus: 2 }
workload:
  duration: ${o.duration ?? "120ms"}
  memory: { backing: ${o.backing ?? "shmem"}, size: 4MiB }
  guest:
    phases:
      - { pattern: hot_cold, hot_set: 20%, hot_share: 98%, writes: 40%, access_ns: 2000 }
  vmm: { tracker: rwp, strategy: ${o.strategy ?? "hot-scan"}, interval: 20ms${o.bug === undefined ? "" : `, bug: ${o.bug}`} }
  storage: { latency: 20us, bandwidth: 4GiB/s, queue_depth: 8 }
${o.extra ?? ""}
expect:
${o.expect ?? "  metrics: { data_loss: 0 }"}
`
}
