// Properties over whole runs, and what a failing one leaves behind.
//
// A case is a scenario (from the arbitraries of @rwpsim/scenario/testing) and `hints`: scheduler
// choices taken leniently (hint i picks option hints[i] mod n at the i-th choice; after the hints
// the seed decides). fast-check shrinks both: the scenario (fewer vCPUs, pages, phases, a shorter
// run) and the hints (fewer, then each towards 0: towards the seed's own interleaving).
//
// When a property fails, fast-check's shrunk counterexample is run once more with a trace, and
// written as a scenario file whose `schedule` key pins every choice that run made, so the file
// replays it exactly (from any seed, and after changes that draw the sched stream differently).
// The file is replayed at once through the same runner; the error names the fast-check seed and
// path, the file, its trace, and the one command that replays it: `npx rwpsim run FILE`.
import { createHash } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { isAbsolute, join, relative } from "node:path"
import { formatScenarioError, parseScenario, type Scenario, type ScenarioInput } from "@rwpsim/scenario"
import type { ChoicePolicy } from "@rwpsim/sched"
import { applyMutants, failureLabel, outcomeKey, type RunResult, runScenario } from "@rwpsim/sim"
import fc from "fast-check"
import { expect } from "vitest"
import { Document, isMap, isPair, isSeq, visit } from "yaml"

export const ROOT = join(import.meta.dirname, "..", "..", "..", "..")

/** A scenario to run and the scheduler choices that steer it (see above). */
export interface Case {
  readonly input: ScenarioInput
  readonly hints: readonly number[]
}

/** Lenient scheduler choices: up to `maxLength`, each small (taken mod the option count). */
export function arbHints(maxLength = 16): fc.Arbitrary<number[]> {
  return fc.array(fc.nat({ max: 7 }), { maxLength })
}

/** Hint i picks option hints[i] mod n at the i-th choice past the scenario's schedule; then the seed. */
export function hintPolicy(hints: readonly number[]): ChoicePolicy {
  return (c) => (c.index < hints.length ? hints[c.index]! % c.n : c.drawn)
}

/** A case's input as YAML, one line per step and per phase (what the failure files look like). */
export function toYaml(value: unknown): string {
  const doc = new Document(value)
  visit(doc, {
    Seq(_, node, path) {
      const pair = path[path.length - 1]
      if (isPair(pair) && String(pair.key) === "schedule") node.flow = true
      // each vCPU's phases on one line
      const outer = path[path.length - 2]
      if (isSeq(pair) && isPair(outer) && String(outer.key) === "per_vcpu") node.flow = true
    },
    Map(_, node, path) {
      if (!isSeq(path[path.length - 1])) return
      // the key of the list this map is in (through a list of lists, for per_vcpu)
      const pair = [...path].reverse().find((n) => isPair(n))
      const key = isPair(pair) ? String(pair.key) : ""
      if (key === "steps") {
        const op = node.items[0]
        if (op !== undefined && isMap(op.value)) op.value.flow = true
      } else if (key === "phases" || key === "per_vcpu") node.flow = true
    }
  })
  return doc.toString({ lineWidth: 0 })
}

export function parseText(text: string, file = "case.yaml"): Scenario {
  const r = parseScenario(text, file)
  if (!r.ok)
    throw new Error(`an arbitrary made an invalid scenario:\n${r.errors.map(formatScenarioError).join("\n")}\n${text}`)
  return r.scenario
}

/** One run of a case. */
export interface CaseRun {
  readonly text: string
  readonly result: RunResult
  /** The trace's lines (each ends with a newline), when asked for. */
  readonly lines: readonly string[] | null
}

export interface RunCaseOptions {
  /** Kernel mutants and VMM bugs to switch on, as `rwpsim run --mutant`. */
  readonly mutants?: readonly string[]
  readonly trace?: boolean
}

/** Runs a scenario text with `mutants`, a policy, a trace sink if asked: as `rwpsim run` would. */
export function runText(
  text: string,
  options: RunCaseOptions & { readonly policy?: ChoicePolicy } = {}
): { result: RunResult; lines: string[] | null } {
  const mutated = applyMutants(parseText(text), options.mutants ?? [])
  if (!mutated.ok) throw new Error(mutated.message)
  const lines: string[] | null = options.trace === true ? [] : null
  const result = runScenario(mutated.scenario, {
    mutants: mutated.kernel,
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(lines === null ? {} : { sink: { write: (l: string) => void lines.push(l) } })
  })
  return { result, lines }
}

export function runCase(c: Case, options: RunCaseOptions = {}): CaseRun {
  const text = toYaml(c.input)
  const { result, lines } = runText(text, { ...options, policy: hintPolicy(c.hints) })
  return { text, result, lines }
}

/** The first failure of a run, as one line; null when it passed. */
export function firstFailure(r: RunResult): string | null {
  const f = r.failures[0]
  return f === undefined ? null : `${failureLabel(f)}: ${f.message}`
}

export interface RunProperty {
  /** What must hold, e.g. "the six invariants hold [hot-scan]"; it names the failure file too. */
  readonly name: string
  readonly arb: fc.Arbitrary<Case>
  /** Why the run breaks the property, or null. Default: the run failed (an invariant or an expectation). */
  readonly check?: (run: CaseRun) => string | null
  readonly mutants?: readonly string[]
  /** The check reads the trace. */
  readonly trace?: boolean
  readonly numRuns: number
  /** The test file, for the command that re-runs the property. */
  readonly testFile?: string
  /** fast-check's seed and path (default from FC_SEED and FC_PATH). */
  readonly seed?: number
  readonly path?: string
  /** Where the failure file goes (default failuresDir()). */
  readonly dir?: string
}

/** A failed property: what fast-check found, the file written, and how to replay it. */
export class PropertyFailure extends Error {
  constructor(
    message: string,
    readonly details: {
      readonly property: string
      readonly seed: number
      readonly path: string
      readonly counterexample: Case
      /** Why the shrunk run breaks the property. */
      readonly why: string
      /** The scenario file (absolute) and its text, with the shrunk run's choices pinned. */
      readonly file: string
      readonly text: string
      /** The shrunk run's trace (what `rwpsim run FILE --trace T` writes) and where it was saved. */
      readonly trace: string
      readonly traceFile: string
      readonly replay: string
      /** The file replayed in process to the same trace bytes. */
      readonly replays: boolean
      readonly result: RunResult
    }
  ) {
    super(message)
    this.name = "PropertyFailure"
  }
}

const envSeed = () => (process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED))
const envPath = () => process.env.FC_PATH

/** Where failure files go: RWPSIM_FAILURES_DIR, else .rwpsim-failures/ at the repository root. */
export function failuresDir(): string {
  return process.env.RWPSIM_FAILURES_DIR ?? join(ROOT, ".rwpsim-failures")
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 60)

const shown = (file: string) => {
  const rel = relative(process.cwd(), file)
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel
}

/** The scenario file of a shrunk run: its input, a description, and every choice it made pinned. */
export function pinnedText(input: ScenarioInput, schedule: readonly number[], description: string): string {
  const { name, description: _, seed, machine, schedule: __, ...rest } = input
  return toYaml({
    name,
    description,
    ...(seed === undefined ? {} : { seed }),
    ...(machine === undefined ? {} : { machine }),
    schedule: [...schedule],
    ...rest
  })
}

/**
 * Checks a property over runs; on failure writes the shrunk counterexample's file and returns the
 * PropertyFailure (the caller throws it or reports it).
 */
export function checkRunProperty(p: RunProperty): PropertyFailure | null {
  const check = p.check ?? ((run: CaseRun) => firstFailure(run.result))
  const mutants = p.mutants ?? []
  const options: RunCaseOptions = { mutants, trace: p.trace === true }
  const seed = p.seed ?? envSeed()
  const path = p.path ?? envPath()
  const r = fc.check(
    fc.property(p.arb, (c) => check(runCase(c, options)) === null),
    { numRuns: p.numRuns, ...(seed === undefined ? {} : { seed }), ...(path === undefined ? {} : { path }) }
  )
  if (!r.failed) return null
  if (r.counterexample === null) throw new Error(fc.defaultReportMessage(r) ?? "the property threw")
  const c = refineHints(r.counterexample[0], (x) => check(runCase(x, options)) !== null)
  // the shrunk run again, with its trace; then the file that pins its choices
  const run = runCase(c, { mutants, trace: true })
  const why = check(run) ?? "(the failure did not repeat: a determinism bug)"
  const mutantFlags = mutants.map((m) => ` --mutant ${m}`).join("")
  const description = [
    `Written by a failing property: ${p.name}.`,
    `fast-check seed ${r.seed}, path ${r.counterexamplePath}, after ${r.numRuns} run(s) and ${r.numShrinks} shrink(s).`,
    `It failed with: ${why}`,
    mutants.length > 0 ? `Switched on: ${mutants.join(", ")}.` : "",
    `schedule pins all ${run.result.schedule.length} scheduler choice(s) of the shrunk run.`
  ]
    .filter((l) => l !== "")
    .join(" ")
  const text = pinnedText(c.input, run.result.schedule, description)
  const hash = createHash("sha256").update(text).update(mutantFlags).digest("hex").slice(0, 8)
  const dir = p.dir ?? failuresDir()
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${slug(p.name)}-${hash}.yaml`)
  const traceFile = join(dir, `${slug(p.name)}-${hash}.trace.jsonl`)
  const trace = run.lines!.join("")
  writeFileSync(file, text)
  writeFileSync(traceFile, trace)
  // the file, replayed as `rwpsim run` will: the same bytes
  const again = runText(text, { mutants, trace: true })
  const replays = again.lines!.join("") === trace && outcomeKey(again.result) === outcomeKey(run.result)
  const replay = `npx rwpsim run ${shown(file)}${mutantFlags}`
  const testFile = p.testFile === undefined ? "" : ` ${shown(p.testFile)}${testNameFlag()}`
  const message = [
    `property failed: ${p.name}`,
    `  after ${r.numRuns} run(s), shrunk ${r.numShrinks} time(s); fast-check seed ${r.seed}, path "${r.counterexamplePath}"`,
    `  failure: ${why}`,
    `  shrunk case: ${summary(c)}`,
    `  wrote ${shown(file)} (the run's ${run.result.schedule.length} scheduler choice(s) pinned in \`schedule\`)`,
    `  its trace: ${shown(traceFile)}`,
    replays ? "" : "  WARNING: the file did not replay to the same trace (a determinism bug in rwpsim)",
    `  replay it:      ${replay}`,
    `  re-run the property on it: FC_SEED=${r.seed} FC_PATH=${r.counterexamplePath} npx vitest run${testFile}`
  ]
    .filter((l) => l !== "")
    .join("\n")
  return new PropertyFailure(message, {
    property: p.name,
    seed: r.seed,
    path: r.counterexamplePath ?? "",
    counterexample: c,
    why,
    file,
    text,
    trace,
    traceFile,
    replay,
    replays,
    result: run.result
  })
}

/**
 * The last step of shrinking the interleaving. Hints are taken mod n, so fast-check's shrinking
 * (towards 0 by halving) can stop at a large hint whose smaller neighbours pick other options:
 * each hint is replaced by the pick it made (the same run), then lowered one by one while the case
 * still fails, and dropped from the end while it still fails without it.
 */
export function refineHints(c: Case, fails: (c: Case) => boolean): Case {
  const first = runCase(c)
  let hints = first.result.schedule.slice(0, Math.min(c.hints.length, first.result.schedule.length))
  let best: Case = { ...c, hints }
  if (!fails(best)) return c
  while (hints.length > 0) {
    const shorter = { ...c, hints: hints.slice(0, -1) }
    if (!fails(shorter)) break
    hints = shorter.hints
    best = shorter
  }
  for (let i = 0; i < hints.length; i++) {
    for (let v = 0; v < hints[i]!; v++) {
      const lower = { ...c, hints: hints.map((h, j) => (j === i ? v : h)) }
      if (fails(lower)) {
        hints = lower.hints
        best = lower
        break
      }
    }
  }
  return best
}

/** ` -t "<the running vitest test's name>"` (as a regex), or "" outside vitest. */
function testNameFlag(): string {
  let name: string | undefined
  try {
    name = expect.getState().currentTestName
  } catch {
    return ""
  }
  if (name === undefined) return ""
  const own = name.split(" > ").pop()!
  return ` -t "${own.replace(/[\\^$.*+?()[\]{}|"`]/g, "\\$&")}"`
}

/** Asserts a property over runs (throws the PropertyFailure). */
export function assertRunProperty(p: RunProperty): void {
  const failure = checkRunProperty(p)
  if (failure !== null) throw failure
}

/** A short description of a case, for messages. */
export function summary(c: Case): string {
  const i = c.input
  const m = i.machine ?? {}
  const w = i.workload
  const parts = [`${m.arch ?? "x86_64"}, ${m.vcpus ?? 1} vCPU(s), seed ${i.seed ?? 0}`]
  if (w !== undefined) {
    parts.push(
      `${w.memory.backing ?? "shmem"} ${String(w.memory.size)}, ${w.vmm?.tracker ?? "rwp"} ${w.vmm?.strategy ?? "hot-scan"}, ${String(w.duration)} every ${String(w.vmm?.interval ?? "1s")}`
    )
  }
  if (i.steps !== undefined) parts.push(`${i.steps.length} step(s)`)
  parts.push(c.hints.length === 0 ? "no hints (the seed's schedule)" : `hints [${c.hints.join(", ")}]`)
  return parts.join("; ")
}
