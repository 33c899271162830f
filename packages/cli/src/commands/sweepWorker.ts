// A worker thread of `rwpsim sweep`: runs the runs the main thread hands it, one at a time, and
// posts each one's row back. Each file is read and validated once per worker.
import { parentPort, workerData } from "node:worker_threads"
import { type Loaded, readScenario, replayCommand, runFile } from "./run.ts"

/** What a worker gets at start. */
export interface WorkerInit {
  readonly mutants: readonly string[]
  readonly hash: boolean
}

/** One run to do: `run` is its index over files x seeds. */
export interface RunTask {
  readonly run: number
  readonly file: string
  readonly seed: number
}

/** One run done: the row to write (the `rwpsim run --json` object with `run` first and `replay`). */
export interface RunDone {
  readonly run: number
  readonly exit: number
  readonly row: Record<string, unknown>
}

const init = workerData as WorkerInit
const loaded = new Map<string, Loaded>()
const port = parentPort!

port.on("message", (task: RunTask | null) => {
  if (task === null) {
    port.close()
    return
  }
  let l = loaded.get(task.file)
  if (l === undefined) {
    l = readScenario(task.file)
    loaded.set(task.file, l)
  }
  const o = runFile(task.file, task.seed, undefined, undefined, init.mutants, { loaded: l, hash: init.hash })
  const row = { run: task.run, ...o.json, exit: o.exit, replay: replayCommand(task.file, task.seed, init.mutants) }
  port.postMessage({ run: task.run, exit: o.exit, row } satisfies RunDone)
})
