// The worker thread of `rwpsim explore`: the exploration runs here, so that the main thread's event
// loop stays free for Ctrl-C. Its SIGINT handler sets the shared flag; explore() reads it before
// each run and inside it, and the outcomes found so far are reported (exit 130). Each line of
// output is posted to the main thread, which writes it to the command's Io, in order.
import { parentPort, workerData } from "node:worker_threads"
import type { Io } from "../output.ts"
import { type ExploreCommand, exploreCommand } from "./explore.ts"

export interface ExploreWorkerInit {
  readonly command: ExploreCommand
  /** 0: explore on; otherwise stop. */
  readonly interrupt: Int32Array
  readonly stdoutTTY: boolean
  readonly stderrTTY: boolean
}

export type ExploreWorkerMessage =
  | { readonly kind: "out"; readonly line: string }
  | { readonly kind: "err"; readonly line: string }
  | { readonly kind: "done"; readonly exit: 0 | 1 | 2 | 130 }

const init = workerData as ExploreWorkerInit
const port = parentPort!
const post = (m: ExploreWorkerMessage) => port.postMessage(m)
const io: Io = {
  out: (line) => post({ kind: "out", line }),
  err: (line) => post({ kind: "err", line }),
  flush: () => {},
  stdoutTTY: init.stdoutTTY,
  stderrTTY: init.stderrTTY
}
post({ kind: "done", exit: exploreCommand(init.command, io, () => Atomics.load(init.interrupt, 0) !== 0) })
