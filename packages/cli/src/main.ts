// The rwpsim command: the only place that touches argv, the file system and the process.
// Each command loads what it needs when it runs: the trace readers start in a fraction of the time
// the simulator's modules take to load.
import { type Command, parseCommand, USAGE, unknownMutant } from "./args.ts"
import type { ExitCode, FileOutcome } from "./commands/run.ts"
import type { ExploreWorkerInit, ExploreWorkerMessage } from "./commands/exploreWorker.ts"
import type { RunFileTask, RunWorkerInit, RunWorkerMessage } from "./commands/runWorker.ts"
import { type Io, OutputClosed, processIo } from "./output.ts"

function emit(outcome: FileOutcome, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(outcome.json)}\n`)
  else for (const line of outcome.stdout) process.stdout.write(`${line}\n`)
  for (const line of outcome.stderr) process.stderr.write(`${line}\n`)
}

/** While `rwpsim run` has a run on its worker, or a sweep runs: asks it to stop and says true; otherwise false. */
let interruptRun: () => boolean = () => false

/**
 * `rwpsim explore` on a worker thread, as `rwpsim run` (a long exploration must stop on Ctrl-C:
 * a synchronous loop on this thread would keep the SIGINT handler from running until it ended).
 */
async function exploreOnWorker(command: Extract<Command, { cmd: "explore" }>, io: Io): Promise<ExitCode> {
  const { spawnWorker } = await import("./worker.ts")
  const interrupt = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT))
  const init: ExploreWorkerInit = { command, interrupt, stdoutTTY: io.stdoutTTY, stderrTTY: io.stderrTTY }
  const worker = spawnWorker("./commands/exploreWorker", init)
  interruptRun = () => {
    Atomics.store(interrupt, 0, 1)
    return true
  }
  try {
    return await new Promise<ExitCode>((resolve, reject) => {
      let exit: ExitCode | undefined
      worker.on("message", (m: ExploreWorkerMessage) => {
        if (m.kind === "out") io.out(m.line)
        else if (m.kind === "err") io.err(m.line)
        else exit = m.exit
      })
      worker.on("error", reject)
      worker.on("exit", (code) =>
        exit === undefined
          ? reject(new Error(`the worker thread of rwpsim explore exited (code ${code})`))
          : resolve(exit)
      )
    })
  } finally {
    interruptRun = () => false
  }
}

async function checkFiles(command: Extract<Command, { cmd: "check" }>): Promise<ExitCode> {
  const { checkFile } = await import("./commands/run.ts")
  let exit: ExitCode = 0
  for (const file of command.files) {
    const outcome = checkFile(file)
    emit(outcome, command.json)
    if (outcome.exit > exit) exit = outcome.exit
  }
  return exit
}

/**
 * `rwpsim run`: the files run one after another on a worker thread, so that this thread sees Ctrl-C
 * while one runs. The SIGINT handler sets the shared flag; the run stops at its next check, its trace
 * is flushed, and its outcome, the one line that says where it stopped, ends the command (exit 130).
 */
async function runFiles(command: Extract<Command, { cmd: "run" }>): Promise<ExitCode> {
  const { spawnWorker } = await import("./worker.ts")
  const interrupt = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT))
  const worker = spawnWorker("./commands/runWorker", { interrupt } satisfies RunWorkerInit)
  const bar = command.progress ?? (process.stderr.isTTY === true && !command.json)
  let pending: { resolve: (o: FileOutcome) => void; reject: (e: unknown) => void } | undefined
  const settle = (): NonNullable<typeof pending> | undefined => {
    const p = pending
    pending = undefined
    return p
  }
  worker.on("message", (m: RunWorkerMessage) => {
    if (m.kind === "progress") process.stderr.write(m.text)
    else settle()?.resolve(m.outcome)
  })
  worker.on("error", (e) => settle()?.reject(e))
  worker.on("exit", (code) => settle()?.reject(new Error(`the worker thread of rwpsim run exited (code ${code})`)))
  interruptRun = () => {
    if (pending === undefined) return false
    Atomics.store(interrupt, 0, 1)
    return true
  }
  let exit: ExitCode = 0
  try {
    for (const [i, file] of command.files.entries()) {
      const task: RunFileTask = {
        file,
        i,
        n: command.files.length,
        seed: command.seed,
        trace: command.trace,
        mutants: command.mutants,
        progress: bar ? { columns: process.stderr.columns } : undefined
      }
      const outcome = await new Promise<FileOutcome>((resolve, reject) => {
        pending = { resolve, reject }
        worker.postMessage(task)
      })
      if (outcome.exit === 130) {
        for (const line of outcome.stderr) process.stderr.write(`${line}\n`)
        return 130
      }
      emit(outcome, command.json)
      if (outcome.exit > exit) exit = outcome.exit
      // Ctrl-C as the run ended: its outcome stands, the next files do not run
      if (Atomics.load(interrupt, 0) !== 0) {
        process.stderr.write(`rwpsim: interrupted: after ${file}\n`)
        return 130
      }
    }
  } finally {
    interruptRun = () => false
    await worker.terminate()
  }
  return exit
}

export async function main(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  try {
    return await dispatch(argv, io)
  } finally {
    io.flush()
  }
}

async function dispatch(argv: readonly string[], io: Io): Promise<ExitCode> {
  const command = parseCommand(argv)
  if ("_tag" in command) {
    process.stderr.write(`rwpsim: ${command.message}\n${USAGE}\n`)
    return 2
  }
  switch (command.cmd) {
    case "help":
      process.stdout.write(`${USAGE}\n`)
      return 0
    case "version":
      process.stdout.write(`${(await import("@rwpsim/sched")).RWPSIM_VERSION}\n`)
      return 0
    case "schema":
      process.stdout.write(`${JSON.stringify((await import("@rwpsim/scenario")).scenarioJsonSchema(), null, 2)}\n`)
      return 0
    case "run": {
      const bad = await unknownMutant(command.mutants)
      if (bad !== undefined) {
        process.stderr.write(`rwpsim: ${bad.message}\n${USAGE}\n`)
        return 2
      }
      return runFiles(command)
    }
    case "check":
      return checkFiles(command)
    case "explore": {
      const bad = await unknownMutant(command.mutants)
      if (bad !== undefined) {
        process.stderr.write(`rwpsim: ${bad.message}\n${USAGE}\n`)
        return 2
      }
      return exploreOnWorker(command, io)
    }
    // the trace readers load only when used: `rwpsim run` starts as fast as before
    case "trace":
      return (await import("./commands/trace.ts")).traceCommand(command, io, process.env)
    case "diff":
      return (await import("./commands/diff.ts")).diffCommand(command, io)
    case "why":
      return (await import("./commands/why.ts")).whyCommand(command, io)
    case "report":
      return (await import("./commands/report.ts")).reportCommand(command, io)
    case "sweep": {
      // Ctrl-C stops the sweep: the rows so far stay written and the summary says where it stopped
      const stop = new AbortController()
      interruptRun = () => {
        stop.abort()
        return true
      }
      try {
        return await (await import("./commands/sweep.ts")).sweepCommand(command, io, process.env, stop.signal)
      } finally {
        interruptRun = () => false
      }
    }
  }
}

// `rwpsim run ... | head`: a reader that went away ends the output, not with a stack trace.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0)
  throw e
})

// On interrupt, exit as a shell expects (128 + SIGINT). A run on `rwpsim run`'s worker is asked to
// stop instead: it flushes its trace and says where it stopped (runFiles). A second Ctrl-C kills.
process.once("SIGINT", () => {
  if (!interruptRun()) process.exit(130)
})

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (e) {
  if (e instanceof OutputClosed) process.exitCode = 0
  else {
    // A bug in rwpsim, never a user's mistake: say so plainly and keep the stack for the report
    // (a run's worker has flushed its trace).
    process.stderr.write(
      `rwpsim: internal error (please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`
    )
    process.exitCode = 3
  }
}
