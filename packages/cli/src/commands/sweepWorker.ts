// A worker thread of `rwpsim sweep`. At start it reads and validates every file of the sweep and
// posts what it found (the main thread loads none of the simulator: the workers' start-up is the
// sweep's), then it runs the runs the main thread hands it, one at a time, and posts each one's
// row back as its JSON line, already serialized.
import { parentPort, workerData } from "node:worker_threads"
import type { ScenarioError } from "@rwpsim/scenario"
import { type Loaded, readScenario, replayCommand, runFile } from "./run.ts"

/** What a worker gets at start. */
export interface WorkerInit {
  readonly files: readonly string[]
  readonly mutants: readonly string[]
  readonly hash: boolean
}

/** One run to do: `run` is its index over files x seeds. */
export interface RunTask {
  readonly run: number
  readonly file: string
  readonly seed: number
}

/** A failed run, as the summary names it. */
export interface RunFailure {
  readonly scenario: string
  readonly seed: number
  readonly message: string
  readonly replay: string
}

export type WorkerMessage =
  /** The files are read and validated: the errors of the invalid ones (none: the sweep can run). */
  | { readonly kind: "ready"; readonly errors: readonly ScenarioError[] }
  /** One run done: its row (the `rwpsim run --json` object with `run` first and `replay`). */
  | {
      readonly kind: "done"
      readonly run: number
      readonly exit: number
      readonly line: string
      readonly failure?: RunFailure
    }

const init = workerData as WorkerInit
const port = parentPort!
const loaded = new Map<string, Loaded>()
const errors: ScenarioError[] = []
for (const f of init.files) {
  if (loaded.has(f)) continue
  const l = readScenario(f)
  loaded.set(f, l)
  if (!l.ok) errors.push(...l.errors)
}
port.postMessage({ kind: "ready", errors } satisfies WorkerMessage)

port.on("message", (task: RunTask | null) => {
  if (task === null) {
    port.close()
    return
  }
  const l = loaded.get(task.file) ?? readScenario(task.file)
  const o = runFile(task.file, task.seed, undefined, undefined, init.mutants, { loaded: l, hash: init.hash })
  const replay = replayCommand(task.file, task.seed, init.mutants)
  const row = { run: task.run, ...o.json, exit: o.exit, replay }
  const r = row as unknown as { scenario: string; failures?: readonly { message: string }[] }
  const failure: RunFailure | undefined =
    o.exit === 0
      ? undefined
      : { scenario: r.scenario, seed: task.seed, message: r.failures?.[0]?.message ?? "failed", replay }
  port.postMessage({
    kind: "done",
    run: task.run,
    exit: o.exit,
    line: JSON.stringify(row),
    failure
  } satisfies WorkerMessage)
})
