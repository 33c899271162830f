// npm run mutants [-- --json] [-- --runs N]: every named mutant, the property that kills it, and
// its shrunk counterexample written as a scenario file under scenarios/mutants/ that passes on the
// correct model and fails with `rwpsim run FILE --mutant NAME`.
//
// Kernel mutants are hunted by the model check (packages/kernel/test/model): fast-check finds and
// shrinks a command sequence on which kernel and reference model disagree, and toScenario() writes
// it out with the model's expectations.
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { KERNEL_MUTANTS, type KernelMutant } from "@rwpsim/kernel"
import { parseScenario } from "@rwpsim/scenario"
import { runScenario } from "@rwpsim/sim"
import fc from "fast-check"
import { Document, isMap, isPair, isSeq, visit } from "yaml"
import type { Backing } from "../packages/kernel/test/model/reference.ts"
import { modelProperty, toScenario } from "../packages/kernel/test/model/commands.ts"

const args = process.argv.slice(2)
const json = args.includes("--json")
const runsAt = args.indexOf("--runs")
const numRuns = runsAt >= 0 ? Number(args[runsAt + 1]) : 5000
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
  killed: boolean
  property: string
  steps: number
  file: string | null
  replays: boolean
  detail: string
}

function hunt(mutant: KernelMutant): Row {
  const backing = BACKING[mutant]
  const property = `model check [${backing}]`
  // the async flag is the property's first argument; commands the second
  const r = fc.check(modelProperty(backing, [mutant]), { numRuns, seed: 20261203 })
  if (!r.failed || r.counterexample === null)
    return { mutant, killed: false, property, steps: 0, file: null, replays: false, detail: "survived" }
  const [async, cmds] = r.counterexample as unknown as [boolean, Iterable<fc.Command<unknown, unknown>>]
  const name = `mutant ${mutant}`
  const description = `${KERNEL_MUTANTS[mutant]}. Shrunk by fast-check from the model check (seed 20261203): ${String(cmds)}. Passes on the correct kernel; fails with --mutant ${mutant}.`
  const scenario = toScenario(name, description, backing, async, cmds as Iterable<never>)
  const file = join("scenarios", "mutants", `${mutant}.yaml`)
  const text = toYaml(scenario)
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(root, file), text)
  const parsed = parseScenario(text, file)
  if (!parsed.ok)
    return { mutant, killed: true, property, steps: 0, file, replays: false, detail: "counterexample file invalid" }
  const good = runScenario(parsed.scenario)
  const bad = runScenario(parsed.scenario, { mutants: [mutant] })
  const steps = (scenario.steps as unknown[]).length
  const detail = !good.ok
    ? `fails without the mutant: ${good.failures[0]?.message}`
    : bad.ok
      ? "passes with the mutant"
      : (bad.failures[0]?.message ?? "")
  return { mutant, killed: true, property, steps, file, replays: good.ok && !bad.ok, detail }
}

const rows = (Object.keys(KERNEL_MUTANTS) as KernelMutant[]).map(hunt)
if (json) {
  for (const r of rows)
    console.log(
      JSON.stringify({
        mutant: r.mutant,
        killed: r.killed && r.replays,
        property: r.property,
        steps: r.steps,
        file: r.file
      })
    )
} else {
  const w = Math.max(...rows.map((r) => r.mutant.length))
  console.log(`${"mutant".padEnd(w)}  killed  ${"property".padEnd(22)}  steps  file`)
  for (const r of rows) {
    const k = r.killed && r.replays ? "yes" : "NO"
    console.log(
      `${r.mutant.padEnd(w)}  ${k.padEnd(6)}  ${r.property.padEnd(22)}  ${String(r.steps).padStart(5)}  ${r.file ?? "-"}`
    )
    if (!(r.killed && r.replays)) console.log(`  ${r.detail}`)
  }
}
process.exitCode = rows.every((r) => r.killed && r.replays) ? 0 : 1

/** YAML with one line per step (each step's arguments in flow style) and a flow schedule. */
function toYaml(value: unknown): string {
  const doc = new Document(value)
  visit(doc, {
    Seq(_, node, path) {
      const pair = path[path.length - 1]
      if (isPair(pair) && String(pair.key) === "schedule") node.flow = true
    },
    Map(_, node, path) {
      const seq = path[path.length - 1]
      const pair = path[path.length - 2]
      if (isSeq(seq) && isPair(pair) && String(pair.key) === "steps") {
        const op = node.items[0]
        if (op !== undefined && isMap(op.value)) op.value.flow = true
      }
    }
  })
  return doc.toString({ lineWidth: 0 })
}
