// Reads a trace file as a stream, in constant memory: chunks from a read stream, split into lines,
// each parsed and checked (TraceParser) and handed to `visit`. A file that is not a trace, or that
// was cut short, ends with a TraceError naming the line; so does a file that cannot be read.
import { createReadStream } from "node:fs"
import { ThreadAttributor, TraceError, type TraceEvent, type TraceHeader, TraceParser } from "@rwpsim/trace"

export interface TraceRead {
  readonly header: TraceHeader
  /** The number of lines read (header included). */
  readonly lines: number
  /** The `end` event (undefined only when the reader stopped early). */
  readonly end: TraceEvent | undefined
  /** True when `visit` asked to stop before the end. */
  readonly stopped: boolean
}

/** What `visit` returns: "stop" ends the read early (the rest of the file is not checked). */
export type Visit = (e: TraceEvent, header: TraceHeader) => undefined | "stop"

function openError(file: string, e: unknown): TraceError {
  const code = (e as { code?: string }).code ?? "EIO"
  const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : `cannot read (${code})`
  return new TraceError(0, why, file)
}

/** Streams `file` through `visit`; resolves to what was read, or the first error with its line. */
export async function readTrace(file: string, visit: Visit): Promise<TraceRead | TraceError> {
  const parser = new TraceParser()
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 })
  let rest = ""
  let stopped = false
  let failure: TraceError | undefined
  const line = (text: string): boolean => {
    const r = parser.next(text)
    if (r === undefined) return true
    if (r instanceof TraceError) {
      failure = new TraceError(r.line, r.message, file)
      return false
    }
    if (visit(r, parser.header!) === "stop") {
      stopped = true
      return false
    }
    return true
  }
  try {
    outer: for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0
      let nl = chunk.indexOf("\n")
      if (nl >= 0 && rest !== "") {
        const ok = line(rest + chunk.slice(0, nl))
        rest = ""
        if (!ok) break
        start = nl + 1
        nl = chunk.indexOf("\n", start)
      }
      while (nl >= 0) {
        if (!line(chunk.slice(start, nl))) break outer
        start = nl + 1
        nl = chunk.indexOf("\n", start)
      }
      rest += chunk.slice(start)
    }
  } catch (e) {
    // the file's errors (ENOENT, EISDIR, EIO) are the user's; anything else is not ours to hide
    if (typeof (e as { code?: unknown }).code !== "string") throw e
    return openError(file, e)
  } finally {
    stream.destroy()
  }
  if (failure !== undefined) return failure
  if (!stopped) {
    if (rest !== "" && !line(rest)) {
      // the last line has no newline: a cut trace, whatever else is wrong with that line
      const f = failure as TraceError | undefined // set by line()
      if (f !== undefined)
        return new TraceError(f.line, `truncated: the last line has no end of line (${f.message})`, file)
      return { header: parser.header!, lines: parser.lines, end: parser.end, stopped }
    }
    const end = parser.finish(rest === "")
    if (end !== undefined) return new TraceError(end.line, end.message, file)
  }
  return { header: parser.header!, lines: parser.lines, end: parser.end, stopped }
}

/** What `visitThreaded` sees: each event with its thread (ThreadAttributor), in trace order. */
export type ThreadedVisit = (e: TraceEvent, thread: string, header: TraceHeader) => undefined | "stop"

/** readTrace, with each event's thread: VMM call lines wait for the sleep that names their thread. */
export async function readThreaded(file: string, visit: ThreadedVisit): Promise<TraceRead | TraceError> {
  let header: TraceHeader | undefined
  let stop = false
  const attributor = new ThreadAttributor((e, thread) => {
    if (!stop && visit(e, thread, header!) === "stop") stop = true
  })
  const r = await readTrace(file, (e, h) => {
    header = h
    attributor.push(e)
    return stop ? "stop" : undefined
  })
  if (!(r instanceof TraceError) && !stop) attributor.end()
  return r
}
