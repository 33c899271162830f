// `rwpsim trace FILE`: the human view, one line per event, with filters; or, with --perfetto,
// the Chrome trace-event JSON that ui.perfetto.dev opens. Both stream: constant memory.
import { closeSync, openSync, writeSync } from "node:fs"
import { AddressSpace, ANSI, formatEvent, PerfettoExport, PLAIN, TraceError, TraceFilter } from "@rwpsim/trace"
import type { Command } from "../args.ts"
import type { Io } from "../output.ts"
import { readThreaded } from "../traceInput.ts"
import type { ExitCode } from "./run.ts"

type TraceCommand = Extract<Command, { cmd: "trace" }>

/** Colour when asked, else when stdout is a terminal and NO_COLOR is not set. */
export function useColour(flag: boolean | undefined, io: Io, env: NodeJS.ProcessEnv): boolean {
  if (flag !== undefined) return flag
  return io.stdoutTTY && (env.NO_COLOR === undefined || env.NO_COLOR === "") && env.TERM !== "dumb"
}

export async function traceCommand(c: TraceCommand, io: Io, env: NodeJS.ProcessEnv = {}): Promise<ExitCode> {
  if (c.perfetto !== undefined) return perfetto(c, c.perfetto, io)
  const space = new AddressSpace()
  const filter = new TraceFilter(c.filter)
  const paint = useColour(c.color, io, env) ? ANSI : PLAIN
  let shown = 0
  const r = await readThreaded(c.file, (e, thread, header) => {
    if (e.seq === 0) io.out(paint.dim(`# ${header.scenario} (seed ${header.seed}, rwpsim ${header.rwpsim})`))
    space.learn(e)
    if (filter.done(e)) return "stop"
    if (!filter.accepts(e, space)) return undefined
    io.out(formatEvent(e, thread, space, paint))
    shown++
    return undefined
  })
  io.flush()
  if (r instanceof TraceError) {
    io.err(`rwpsim: ${r.format()}`)
    return 2
  }
  if (c.filter.page !== undefined && filter.page === undefined) {
    io.err(`rwpsim: --page ${c.filter.page.text}: ${filter.pageProblem ?? "not in the trace"}`)
    return 2
  }
  if (shown === 0 && (c.filter.ev !== undefined || c.filter.vcpu !== undefined || c.filter.page !== undefined))
    io.err(`rwpsim: no event of ${c.file} passes the filters`)
  return 0
}

async function perfetto(c: TraceCommand, out: string, io: Io): Promise<ExitCode> {
  let fd: number
  try {
    fd = openSync(out, "w")
  } catch (e) {
    io.err(`rwpsim: --perfetto ${out}: cannot open (${(e as { code?: string }).code ?? "EIO"})`)
    return 2
  }
  let pending: string[] = []
  let bytes = 0
  const flush = () => {
    if (pending.length > 0) writeSync(fd, pending.join(""))
    pending = []
    bytes = 0
  }
  const sink = (s: string) => {
    pending.push(s)
    bytes += s.length
    if (bytes >= 1 << 16) flush()
  }
  const filter = new TraceFilter(c.filter)
  const space = new AddressSpace()
  let exp: PerfettoExport | undefined
  try {
    const r = await readThreaded(c.file, (e, thread, header) => {
      exp ??= new PerfettoExport(header, sink)
      space.learn(e)
      if (filter.done(e)) return "stop"
      const keep = filter.accepts(e, space)
      exp.event(e, thread, keep)
      return undefined
    })
    if (r instanceof TraceError) {
      io.err(`rwpsim: ${r.format()}`)
      return 2
    }
    exp ??= new PerfettoExport(r.header, sink)
    const summary = exp.finish()
    flush()
    io.err(`wrote ${out}: ${summary.events} trace events on ${summary.tracks} tracks (open it in ui.perfetto.dev)`)
    return 0
  } finally {
    closeSync(fd)
  }
}
