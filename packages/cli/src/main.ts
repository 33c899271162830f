// The rwpsim command: the only place that touches argv, the file system and the process.
// Each command loads what it needs when it runs: the trace readers start in a fraction of the time
// the simulator's modules take to load.
import { type Command, parseCommand, USAGE, unknownMutant } from "./args.ts"
import type { ExitCode, FileOutcome } from "./commands/run.ts"
import type { TraceFile } from "./traceFile.ts"
import { type Io, OutputClosed, processIo } from "./output.ts"
import { Progress } from "./progress.ts"

function emit(outcome: FileOutcome, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(outcome.json)}\n`)
  else for (const line of outcome.stdout) process.stdout.write(`${line}\n`)
  for (const line of outcome.stderr) process.stderr.write(`${line}\n`)
}

/** Open trace files of `rwpsim run` (once it has loaded), for the SIGINT and crash paths. */
let openTraces: ReadonlySet<TraceFile> = new Set()

async function runFiles(command: Extract<Command, { cmd: "run" | "check" }>): Promise<ExitCode> {
  const { checkFile, openTraces: open, runFile, tracePathFor } = await import("./commands/run.ts")
  openTraces = open
  let exit: ExitCode = 0
  const many = command.files.length > 1
  const bar =
    command.cmd === "run" && (command.progress ?? (process.stderr.isTTY === true && !command.json))
      ? new Progress(process.stderr)
      : undefined
  for (const [i, file] of command.files.entries()) {
    bar?.start(file, i, command.files.length)
    const outcome =
      command.cmd === "run"
        ? runFile(file, command.seed, tracePathFor(command.trace, file, many), bar, command.mutants)
        : checkFile(file)
    bar?.clear()
    emit(outcome, command.json)
    if (outcome.exit > exit) exit = outcome.exit
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
      return runFiles(command)
    case "explore": {
      const bad = await unknownMutant(command.mutants)
      if (bad !== undefined) {
        process.stderr.write(`rwpsim: ${bad.message}\n${USAGE}\n`)
        return 2
      }
      return (await import("./commands/explore.ts")).exploreCommand(command, io)
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
    case "sweep":
      return (await import("./commands/sweep.ts")).sweepCommand(command, io, process.env)
  }
}

// `rwpsim run ... | head`: a reader that went away ends the output, not with a stack trace.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0)
  throw e
})

// On interrupt, flush every trace written so far, then exit as a shell expects (128 + SIGINT).
process.once("SIGINT", () => {
  for (const t of openTraces) t.close()
  process.exit(130)
})

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (e) {
  if (e instanceof OutputClosed) process.exitCode = 0
  else {
    // A bug in rwpsim, never a user's mistake: say so plainly and keep the stack for the report.
    for (const t of openTraces) t.close()
    process.stderr.write(
      `rwpsim: internal error (please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`
    )
    process.exitCode = 3
  }
}
