// The worker thread of `rwpsim run`: runs the files the main thread hands it, one at a time, so that
// the main thread's event loop stays free for Ctrl-C. Its SIGINT handler sets the shared flag; the
// run reads it (RunOptions.interrupted) between steps and every so many events, stops there, and
// its trace is flushed and closed before the outcome goes back. The progress bar is drawn here (it
// is fed by the trace) and its text posted to the main thread, which writes it to stderr.
import { parentPort, workerData } from "node:worker_threads"
import { Progress, type ProgressStream } from "../progress.ts"
import { type FileOutcome, openTraces, runFile, tracePathFor } from "./run.ts"

/** What the worker gets at start: the interrupt flag (0: run on; otherwise stop), shared. */
export interface RunWorkerInit {
  readonly interrupt: Int32Array
}

/** One file to run (`i` of `n`, for the progress bar and the trace path). */
export interface RunFileTask {
  readonly file: string
  readonly i: number
  readonly n: number
  readonly seed: number | undefined
  readonly trace: string | undefined
  readonly mutants: readonly string[]
  /** Draw the progress bar, this wide (stderr's columns); undefined: no bar. */
  readonly progress: { readonly columns: number | undefined } | undefined
}

export type RunWorkerMessage =
  | { readonly kind: "progress"; readonly text: string }
  | { readonly kind: "done"; readonly outcome: FileOutcome }

const { interrupt } = workerData as RunWorkerInit
const interrupted = (): boolean => Atomics.load(interrupt, 0) !== 0
const port = parentPort!
const post = (m: RunWorkerMessage) => port.postMessage(m)

/** The progress bar's text, to the main thread's stderr. */
const toMain = (columns: number | undefined): ProgressStream => ({
  write: (text) => {
    post({ kind: "progress", text })
    return true
  },
  columns
})

port.on("message", (task: RunFileTask | null) => {
  if (task === null) {
    port.close()
    return
  }
  try {
    const bar = task.progress === undefined ? undefined : new Progress(toMain(task.progress.columns))
    bar?.start(task.file, task.i, task.n)
    const trace = tracePathFor(task.trace, task.file, task.n > 1)
    const outcome = runFile(task.file, task.seed, trace, bar, task.mutants, { interrupted })
    bar?.clear()
    post({ kind: "done", outcome })
  } catch (e) {
    // a bug in rwpsim: what the trace has so far is kept; the main thread reports the error
    for (const t of openTraces) t.close()
    throw e
  }
})
