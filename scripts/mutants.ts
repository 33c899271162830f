// npm run mutants [-- --json] [-- --runs N] [-- --only NAME]: every named mutant, the property that
// kills it, and its shrunk counterexample written as a scenario file under scenarios/mutants/ that
// passes on the correct model and fails with `rwpsim run FILE --mutant NAME`.
//
// Kernel mutants are hunted by the model check (packages/kernel/test/model): fast-check finds and
// shrinks a command sequence on which kernel and reference model disagree, and toScenario() writes
// it out with the model's expectations (steps: the script's steps).
// VMM bugs are hunted by the properties over whole runs (packages/sim/test/properties): a workload
// and interleaving the correct VMM passes and the buggy one fails, shrunk, written with the
// scheduler choices both runs share pinned (steps: the run's tracker cycles).
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { KERNEL_MUTANTS, type KernelMutant } from "@rwpsim/kernel"
import { parseScenario, VMM_BUGS, type VmmBug } from "@rwpsim/scenario"
import { runScenario } from "@rwpsim/sim"
import fc from "fast-check"
import type { Backing } from "../packages/kernel/test/model/reference.ts"
import { modelProperty, toScenario } from "../packages/kernel/test/model/commands.ts"
import { toYaml } from "../packages/sim/test/properties/harness.ts"
import { huntVmmBug, VMM_HUNTS } from "../packages/sim/test/properties/vmm-mutants.ts"

const args = process.argv.slice(2)
const json = args.includes("--json")
const flag = (name: string) => {
  const at = args.indexOf(name)
  return at >= 0 ? args[at + 1] : undefined
}
const runsArg = flag("--runs")
const only = flag("--only")
/** Model-check runs per kernel mutant, workload cases per VMM bug. */
const kernelRuns = runsArg === undefined ? 5000 : Number(runsArg)
const workloadRuns = runsArg === undefined ? 300 : Number(runsArg)
const SEED = 20261203
const root = join(import.meta.dirname, "..")
const outDir = join(root, "scenarios", "mutants")

/** Which backing each kernel mutant's bug lives on. */
const BACKING: Record<KernelMutant, Backing> = {
  "rwprotect-no-tlb-flush": "anon",
  "set-mode-no-wake": "anon",
  "dontneed-keeps-protection": "anon",
  "swapout-drops-uffd": "anon",
  "scan-holes-accessed": "anon",
  "dontwake-ignored": "anon",
  "async-queues-message": "anon",
  "unprotect-no-wake": "anon",
  "migration-drops-uffd": "anon"
}

interface Row {
  mutant: string
  kind: "kernel" | "vmm"
  killed: boolean
  property: string
  /** script steps (kernel), tracker cycles (VMM) */
  steps: number
  file: string | null
  replays: boolean
  detail: string
}

function write(name: string, text: string): string {
  const file = join("scenarios", "mutants", `${name}.yaml`)
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(root, file), text)
  return file
}

function huntKernel(mutant: KernelMutant): Row {
  const backing = BACKING[mutant]
  const property = `model check [${backing}]`
  const row = { mutant, kind: "kernel" as const, property }
  // the async flag is the property's first argument; commands the second
  const r = fc.check(modelProperty(backing, [mutant]), { numRuns: kernelRuns, seed: SEED })
  if (!r.failed || r.counterexample === null)
    return { ...row, killed: false, steps: 0, file: null, replays: false, detail: "survived" }
  const [async, cmds] = r.counterexample as unknown as [boolean, Iterable<fc.Command<object, object>>]
  const name = `mutant ${mutant}`
  const description = `${KERNEL_MUTANTS[mutant]}. Shrunk by fast-check from the model check (seed ${SEED}): ${String(cmds)}. Passes on the correct kernel; fails with --mutant ${mutant}.`
  const scenario = toScenario(name, description, backing, async, cmds as Iterable<never>)
  const text = toYaml(scenario)
  const file = write(mutant, text)
  const parsed = parseScenario(text, file)
  const steps = (scenario.steps as unknown[]).length
  if (!parsed.ok) return { ...row, killed: true, steps, file, replays: false, detail: "counterexample file invalid" }
  const good = runScenario(parsed.scenario)
  const bad = runScenario(parsed.scenario, { mutants: [mutant] })
  const detail = !good.ok
    ? `fails without the mutant: ${good.failures[0]?.message}`
    : bad.ok
      ? "passes with the mutant"
      : (bad.failures[0]?.message ?? "")
  return { ...row, killed: true, steps, file, replays: good.ok && !bad.ok, detail }
}

function huntVmm(bug: VmmBug): Row {
  const r = huntVmmBug(bug, workloadRuns, SEED)
  const file = r.text === null ? null : write(bug, r.text)
  return {
    mutant: bug,
    kind: "vmm",
    killed: r.killed,
    property: r.property,
    steps: r.cycles,
    file,
    replays: r.replays,
    detail: r.detail
  }
}

const kernel = (Object.keys(KERNEL_MUTANTS) as KernelMutant[]).filter((m) => only === undefined || m === only)
const vmm = VMM_BUGS.filter((m) => only === undefined || m === only)
const W = Math.max(6, ...[...kernel, ...vmm].map((m) => m.length))
const P = Math.max(
  8,
  ...kernel.map((m) => `model check [${BACKING[m]}]`.length),
  ...vmm.map((m) => VMM_HUNTS[m].property.length)
)
const rows: Row[] = []
for (const m of kernel) rows.push(report(huntKernel(m)))
for (const m of vmm) rows.push(report(huntVmm(m)))
if (!json) {
  const killed = rows.filter((r) => r.killed && r.replays).length
  console.log(
    `\n${killed} of ${rows.length} mutants killed (steps: a script's steps; for a workload, its tracker cycles)`
  )
}
process.exitCode = rows.length > 0 && rows.every((r) => r.killed && r.replays) ? 0 : 1

/** Prints a row as it is found (a table line, or a JSON line). */
function report(r: Row): Row {
  if (json) {
    const line = { mutant: r.mutant, killed: r.killed && r.replays, property: r.property, steps: r.steps, file: r.file }
    console.log(JSON.stringify(line))
    return r
  }
  if (rows.length === 0) console.log(`${"mutant".padEnd(W)}  killed  ${"property".padEnd(P)}  steps  file`)
  const k = r.killed && r.replays ? "yes" : "NO"
  console.log(
    `${r.mutant.padEnd(W)}  ${k.padEnd(6)}  ${r.property.padEnd(P)}  ${String(r.steps).padStart(5)}  ${r.file ?? "-"}`
  )
  if (!(r.killed && r.replays)) console.log(`  ${r.detail}`)
  return r
}
