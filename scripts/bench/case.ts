// One bench case in a fresh process (so that each case's peak RSS, heap and JIT state are its own):
//   node --expose-gc --import tsx scripts/bench/case.ts CASE [PARAMS_JSON]
// Prints the case's row as one JSON line on stdout.
import {
  accessCase,
  type CaseParams,
  type CaseRow,
  e2eScenarioText,
  EVICT_SCENARIO,
  loadScenario,
  scanCase,
  workloadCase
} from "./cases.ts"

const [name, json] = process.argv.slice(2)
const p = (json === undefined ? {} : JSON.parse(json)) as CaseParams

function run(): CaseRow {
  switch (name) {
    case "W1":
    case "W2":
      return accessCase(name, p)
    case "scan-1m":
      return scanCase(name, 1 << 20, p)
    case "scan-16m":
      return scanCase(name, 1 << 24, p)
    case "evict":
      return workloadCase(name, loadScenario("evict.yaml", EVICT_SCENARIO))
    case "e2e-64g-cold-scan":
    case "e2e-64g-hot-scan": {
      const strategy = name.endsWith("cold-scan") ? "cold-scan" : "hot-scan"
      const duration = String(p.duration ?? "2s")
      return workloadCase(name, loadScenario(`${name}.yaml`, e2eScenarioText(strategy, duration)), {
        measured_virtual: duration
      })
    }
    case "scale-4g": {
      // issue 4's scale target, as `rwpsim run FILE --json` runs it (the trace hashed)
      const file = "scenarios/scale/shmem-4g-4vcpus.yaml"
      return workloadCase(name, loadScenario(file), { file }, true)
    }
    case "workload": {
      // scaling runs: a guest size, a vCPU count and a duration
      const text = e2eScenarioText(
        String(p.strategy ?? "hot-scan"),
        String(p.duration),
        String(p.size),
        Number(p.vcpus)
      )
      return workloadCase(`workload ${p.size} ${p.vcpus} vCPUs`, loadScenario("scaling.yaml", text), { params: p })
    }
    default:
      throw new Error(`unknown case "${name}"`)
  }
}

process.stdout.write(`${JSON.stringify(run())}\n`)
