// `rwpsim run` and `rwpsim check`: one outcome per file; the exit code is the highest of them.
import { mkdirSync, readFileSync } from "node:fs"
import { basename, extname, join } from "node:path"
import { formatScenarioError, parseScenario, type Scenario, type ScenarioError } from "@rwpsim/scenario"
import {
  applyMutants,
  type Interrupted,
  type RunFailure,
  type RunResult,
  runScenario,
  validateScenario
} from "@rwpsim/sim"
import type { Progress } from "../progress.ts"
import { TraceFile } from "../traceFile.ts"
import { formatRun, humanNs } from "../report.ts"

/** 130 (128 + SIGINT): a run stopped by Ctrl-C. */
export type ExitCode = 0 | 1 | 2 | 130

export interface FileOutcome {
  readonly exit: ExitCode
  readonly json: Record<string, unknown>
  readonly stdout: readonly string[]
  readonly stderr: readonly string[]
}

export type Loaded =
  | { readonly ok: true; readonly scenario: Scenario }
  | { readonly ok: false; readonly errors: readonly ScenarioError[] }

export function readScenario(file: string): Loaded {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    const code = (e as { code?: string }).code ?? "EIO"
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : `cannot read (${code})`
    return { ok: false, errors: [{ _tag: "ScenarioError", file, path: [], message: why }] }
  }
  const parsed = parseScenario(text, file)
  if (!parsed.ok) return parsed
  const semantic = validateScenario(parsed.scenario, file)
  return semantic.length > 0 ? { ok: false, errors: semantic } : parsed
}

function invalid(file: string, errors: readonly ScenarioError[]): FileOutcome {
  const lines = errors.map(formatScenarioError)
  return {
    exit: 2,
    json: {
      scenario: file,
      name: null,
      seed: null,
      ok: false,
      failures: lines.map((message) => ({ step: null, op: null, invariant: null, message })),
      metrics: {},
      trace_sha256: null
    },
    stdout: [],
    stderr: lines
  }
}

export function tracePathFor(trace: string | undefined, file: string, many: boolean): string | undefined {
  if (trace === undefined) return undefined
  if (!many) return trace
  mkdirSync(trace, { recursive: true })
  return join(trace, `${basename(file, extname(file))}.jsonl`)
}

/** Open trace files, so the crash path can flush what was written. */
export const openTraces = new Set<TraceFile>()

/** How runFile runs (`rwpsim sweep`): a scenario already loaded; no trace at all (trace_sha256 null). */
export interface RunFileOptions {
  readonly loaded?: Loaded
  readonly hash?: boolean
  /** RunOptions.interrupted (Ctrl-C): true stops the run; the outcome is then `interruptedOutcome`'s. */
  readonly interrupted?: () => boolean
}

export function runFile(
  file: string,
  seed: number | undefined,
  tracePath: string | undefined,
  progress?: Progress,
  mutants: readonly string[] = [],
  options: RunFileOptions = {}
): FileOutcome {
  const loaded = options.loaded ?? readScenario(file)
  if (!loaded.ok) return invalid(file, loaded.errors)
  const mutated = applyMutants(loaded.scenario, mutants)
  if (!mutated.ok) return invalid(file, [{ _tag: "ScenarioError", file, path: [], message: mutated.message }])
  const scenario = mutated.scenario
  const effectiveSeed = seed ?? scenario.seed
  const interrupted = options.interrupted
  if (options.hash === false && tracePath === undefined) {
    const result = runScenario(scenario, { seed: effectiveSeed, file, mutants: mutated.kernel, interrupted })
    return outcome(file, scenario, effectiveSeed, result, null, mutants, tracePath)
  }
  let sink: TraceFile
  try {
    sink = new TraceFile(tracePath, progress === undefined ? undefined : (s) => progress.line(s))
  } catch (e) {
    const message = `--trace ${tracePath}: cannot open (${(e as { code?: string }).code ?? "EIO"})`
    return invalid(file, [{ _tag: "ScenarioError", file, path: [], message }])
  }
  openTraces.add(sink)
  progress?.total(scenario.workload === undefined ? 0 : scenario.workload.duration)
  let result: RunResult
  try {
    result = runScenario(scenario, { seed: effectiveSeed, sink, file, mutants: mutated.kernel, interrupted })
  } finally {
    openTraces.delete(sink)
  }
  return outcome(file, scenario, effectiveSeed, result, sink.close(), mutants, tracePath)
}

/** The command that replays a run. */
export const replayCommand = (file: string, seed: number, mutants: readonly string[]): string =>
  `rwpsim run ${file} --seed ${seed}${mutants.map((m) => ` --mutant ${m}`).join("")}`

function outcome(
  file: string,
  scenario: Scenario,
  effectiveSeed: number,
  result: RunResult,
  trace_sha256: string | null,
  mutants: readonly string[],
  tracePath: string | undefined
): FileOutcome {
  if (result.interrupted !== undefined)
    return interruptedOutcome(file, scenario, effectiveSeed, result, result.interrupted, trace_sha256, tracePath)
  const replay = replayCommand(file, effectiveSeed, mutants)
  const json = {
    scenario: file,
    name: scenario.name,
    seed: effectiveSeed,
    ok: result.ok,
    failures: result.failures.map((f: RunFailure) => ({
      step: f.step,
      op: f.op,
      invariant: f.invariant,
      message: f.message
    })),
    metrics: result.metrics,
    trace_sha256
  }
  const text = formatRun(file, scenario.name, effectiveSeed, result, replay)
  return { exit: result.ok ? 0 : 1, json, stdout: text.stdout, stderr: text.stderr }
}

/**
 * A run that Ctrl-C stopped (exit 130): one line on stderr, where it stopped and where its trace is
 * (already flushed and closed); nothing on stdout, even with --json.
 */
function interruptedOutcome(
  file: string,
  scenario: Scenario,
  seed: number,
  result: RunResult,
  at: Interrupted,
  trace_sha256: string | null,
  tracePath: string | undefined
): FileOutcome {
  const of = at.end_ns === null ? "" : ` of ${humanNs(at.end_ns)}`
  const trace = tracePath === undefined ? "" : `; the trace up to there is in ${tracePath}`
  return {
    exit: 130,
    json: {
      scenario: file,
      name: scenario.name,
      seed,
      ok: false,
      interrupted: { t_ns: at.t_ns, end_ns: at.end_ns },
      metrics: result.metrics,
      trace_sha256
    },
    stdout: [],
    stderr: [`rwpsim: interrupted: ${file} seed ${seed} at t=${humanNs(at.t_ns)}${of}${trace}`]
  }
}

export function checkFile(file: string): FileOutcome {
  const loaded = readScenario(file)
  if (!loaded.ok) return invalid(file, loaded.errors)
  return {
    exit: 0,
    json: { scenario: file, name: loaded.scenario.name, ok: true, failures: [] },
    stdout: [`ok ${file} (${loaded.scenario.name})`],
    stderr: []
  }
}
