// Generates the README's workload table (`npm run table`): every bundled workload scenario as it is,
// then every RWP workload under cold-scan and hot-scan side by side. The rows are the runs' own
// metrics (spec "Metrics"), so the table changes only when the simulator does. Writes README.md
// between the workload-table markers; `--check` only says whether it is up to date.
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { parseScenario, type Scenario } from "@rwpsim/scenario"
import { runScenario } from "@rwpsim/sim"

const root = join(import.meta.dirname, "..")
const START = "<!-- workload-table:start -->"
const END = "<!-- workload-table:end -->"

function yamlFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...yamlFiles(p))
    else if (/\.ya?ml$/.test(e.name)) out.push(p)
  }
  return out
}

function load(path: string): Scenario {
  const r = parseScenario(readFileSync(path, "utf8"), relative(root, path))
  if (!r.ok) throw new Error(`${path}: invalid`)
  return r.scenario
}

/** ns as the summary prints it. */
function ns(v: number): string {
  const t = (x: number) => String(Math.round(x * 10) / 10)
  if (v < 1_000) return `${v}ns`
  if (v < 1_000_000) return `${t(v / 1_000)}us`
  if (v < 1_000_000_000) return `${t(v / 1_000_000)}ms`
  return `${t(v / 1_000_000_000)}s`
}

type M = Readonly<Record<string, number | string>>
const n = (m: M, k: string) => Number(m[k])
const stalls = (m: M) => `${ns(n(m, "stall_ns_p50"))} / ${ns(n(m, "stall_ns_p99"))} / ${ns(n(m, "stall_ns_max"))}`

function describe(s: Scenario): string {
  const w = s.workload!
  const arch = `${s.machine.arch}${s.machine.isa_extensions.length > 0 ? `+${s.machine.isa_extensions.join("+")}` : ""}`
  const mem = `${w.memory.backing}${w.memory.backing === "hugetlb" ? ` ${w.memory.hugepage_size >> 20}MiB` : ""}`
  return `${arch}, ${mem}, ${s.machine.vcpus} vCPU${s.machine.vcpus > 1 ? "s" : ""}`
}

const workloads = [...yamlFiles(join(root, "scenarios", "workloads")), ...yamlFiles(join(root, "scenarios", "race"))]
  .map((path) => ({ path: relative(root, path), scenario: load(path) }))
  .filter((f) => f.scenario.workload !== undefined)

const lines: string[] = []
lines.push(
  "| scenario | machine | tracker | strategy | WSS true | WSS est. | evicted | refaults | stall p50 / p99 / max | data loss |"
)
lines.push("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |")
for (const { path, scenario } of workloads) {
  const m = runScenario(scenario).metrics
  const strategy = m.tracker === "rwp" ? scenario.workload!.vmm.strategy : "—"
  lines.push(
    `| \`${path.replace(/^scenarios\//, "")}\` | ${describe(scenario)} | ${m.tracker} | ${strategy} | ${n(m, "wss_true_pages")} | ${n(m, "wss_estimated_pages")} | ${n(m, "pages_evicted")} | ${n(m, "refaults")} | ${stalls(m)} | ${n(m, "data_loss")} |`
  )
}
lines.push("")
lines.push("The same workloads under both strategies (every scenario whose tracker is `rwp`, run twice with")
lines.push("`workload.vmm.strategy` set; everything else as in the file):")
lines.push("")
lines.push(
  "| workload | cold-scan: WSS true / est. / evicted / refaults | cold-scan: stall p50 / p99 / max | cold-scan: loss | hot-scan: WSS true / est. / evicted / refaults | hot-scan: stall p50 / p99 / max | hot-scan: loss |"
)
lines.push("| --- | --- | --- | ---: | --- | --- | ---: |")
const seen = new Set<string>()
const losses: { path: string; cold: number; hot: number }[] = []
for (const { path, scenario } of workloads) {
  const w = scenario.workload!
  const as = (strategy: "cold-scan" | "hot-scan") =>
    runScenario({ ...scenario, workload: { ...w, vmm: { ...w.vmm, strategy } } }).metrics
  const cold = as("cold-scan")
  if (cold.tracker !== "rwp") continue
  // a cold-scan file and its hot-scan twin are one workload: show it once
  const key = JSON.stringify([scenario.seed, scenario.machine, { ...w, vmm: { ...w.vmm, strategy: "" } }])
  if (seen.has(key)) continue
  seen.add(key)
  const hot = as("hot-scan")
  losses.push({ path: path.replace(/^scenarios\//, ""), cold: n(cold, "data_loss"), hot: n(hot, "data_loss") })
  const four = (m: M) =>
    `${n(m, "wss_true_pages")} / ${n(m, "wss_estimated_pages")} / ${n(m, "pages_evicted")} / ${n(m, "refaults")}`
  lines.push(
    `| \`${path.replace(/^scenarios\//, "")}\` | ${four(cold)} | ${stalls(cold)} | ${n(cold, "data_loss")} | ${four(hot)} | ${stalls(hot)} | ${n(hot, "data_loss")} |`
  )
}

const lossy = (k: "cold" | "hot") => losses.filter((l) => l[k] > 0).map((l) => `\`${l.path}\` (${l[k]} reads)`)
lines.push("")
lines.push(
  `Data lost under cold-scan: ${lossy("cold").join(", ") || "none"}; under hot-scan: ${lossy("hot").join(", ") || "none"}.`
)
const table = `${START}\n${lines.join("\n")}\n${END}`
const readme = join(root, "README.md")
const text = readFileSync(readme, "utf8")
const a = text.indexOf(START)
const b = text.indexOf(END)
if (a < 0 || b < a) throw new Error(`README.md has no ${START} ... ${END} markers`)
const next = `${text.slice(0, a)}${table}${text.slice(b + END.length)}`
if (process.argv.includes("--check")) {
  if (next !== text) {
    process.stderr.write("README.md: the workload table is out of date (npm run table)\n")
    process.exitCode = 1
  }
} else {
  writeFileSync(readme, next)
  process.stdout.write(`README.md: workload table of ${workloads.length} scenarios written\n`)
}
