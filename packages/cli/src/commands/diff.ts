// `rwpsim diff A B`: the first event where two traces diverge, as cmp finds the first byte. Runs of
// one scenario are byte-identical up to their first divergent event (the trace is deterministic),
// so the files are compared in 1 MiB chunks with memcmp (Buffer.compare) and only the lines around
// the first differing byte are parsed: the cost is reading the common prefix, at disk-cache speed.
// Exit 0 identical, 1 they diverge, 2 a file is unreadable, malformed or truncated.
import { closeSync, fstatSync, openSync, readSync } from "node:fs"
import {
  AddressSpace,
  differingFields,
  EventChecker,
  parseEventLine,
  formatEvent,
  PLAIN,
  parseHeader,
  showTime,
  StateSketch,
  ThreadTracker,
  TraceError,
  type TraceEvent,
  type TraceHeader
} from "@rwpsim/trace"
import type { Command } from "../args.ts"
import type { Io } from "../output.ts"
import type { ExitCode } from "./run.ts"

type DiffCommand = Extract<Command, { cmd: "diff" }>

const CHUNK = 1 << 20
/** How far before the divergence to read for context and state (bytes). */
const LOOK_BACK = 1 << 18
/** Lines shown after the divergence on each side. */
const AFTER = 6

class File {
  readonly fd: number
  readonly size: number
  constructor(readonly path: string) {
    this.fd = openSync(path, "r")
    this.size = fstatSync(this.fd).size
  }
  read(pos: number, len: number): Buffer {
    const n = Math.max(0, Math.min(len, this.size - pos))
    const buf = Buffer.allocUnsafe(n)
    let got = 0
    while (got < n) {
      const r = readSync(this.fd, buf, got, n - got, pos + got)
      if (r === 0) break
      got += r
    }
    return buf.subarray(0, got)
  }
  close(): void {
    closeSync(this.fd)
  }
}

function open(path: string): File | TraceError {
  try {
    const f = new File(path)
    if (f.size === 0) {
      f.close()
      return new TraceError(0, "empty file (no trace header)", path)
    }
    return f
  } catch (e) {
    const code = (e as { code?: string }).code ?? "EIO"
    return new TraceError(0, code === "ENOENT" ? "no such file" : `cannot read (${code})`, path)
  }
}

/** The offset of the first byte where a and b differ, or -1 if one is a prefix of the other. */
function firstDifference(a: File, b: File): number {
  const n = Math.min(a.size, b.size)
  for (let pos = 0; pos < n; pos += CHUNK) {
    const x = a.read(pos, CHUNK)
    const y = b.read(pos, CHUNK)
    if (x.equals(y)) continue
    // halve the chunk until one byte is left: compare() is memcmp
    let lo = 0
    let hi = Math.min(x.length, y.length)
    while (hi - lo > 64) {
      const mid = (lo + hi) >>> 1
      if (x.compare(y, lo, mid, lo, mid) === 0) lo = mid
      else hi = mid
    }
    while (lo < hi && x[lo] === y[lo]) lo++
    return pos + lo
  }
  return a.size === b.size ? -1 : n
}

/** The first line of a file (the header), checked. */
function header(f: File): TraceHeader | TraceError {
  const head = f.read(0, 4096).toString("utf8")
  const nl = head.indexOf("\n")
  const h = parseHeader(nl < 0 ? head : head.slice(0, nl))
  return h instanceof TraceError ? new TraceError(1, h.message, f.path) : h
}

/** Up to `max` whole lines from byte `from` (a line start); a last line without \n is marked by a NUL. */
function linesFrom(f: File, from: number, max: number): string[] {
  const out: string[] = []
  let pos = from
  let carry = ""
  while (out.length < max && pos < f.size) {
    const buf = f.read(pos, 1 << 16)
    pos += buf.length
    const text = carry + buf.toString("latin1")
    const parts = text.split("\n")
    carry = parts.pop()!
    for (const p of parts) if (out.length < max) out.push(Buffer.from(p, "latin1").toString("utf8"))
  }
  if (out.length < max && carry !== "") out.push(`${Buffer.from(carry, "latin1").toString("utf8")}\u0000`)
  return out
}

/** Parses lines whose first one is line `firstLine`, checking seq and t among them. */
function parseLines(texts: readonly string[], firstLine: number, path: string): TraceEvent[] | TraceError {
  const out: TraceEvent[] = []
  let checker: EventChecker | undefined
  for (let i = 0; i < texts.length; i++) {
    let text = texts[i]!
    const line = firstLine + i
    const cut = text.endsWith("\u0000")
    if (cut) text = text.slice(0, -1)
    const e = checker === undefined ? parseEventLine(text, line) : checker.event(text, line)
    if (e instanceof TraceError) return new TraceError(line, e.message, path)
    if (cut) return new TraceError(line, "truncated: the last line has no end of line", path)
    checker ??= new EventChecker(e.seq + 1, e.t)
    out.push(e)
  }
  return out
}

/** The last line must be whole and the trace must end with its `end` event. */
function checkTail(f: File): TraceError | undefined {
  const tail = f.read(Math.max(0, f.size - 65536), 65536).toString("utf8")
  if (!tail.endsWith("\n")) {
    const line = tail.slice(tail.lastIndexOf("\n") + 1)
    return new TraceError(0, `truncated: the last line has no end of line ("${line.slice(0, 40)}...")`, f.path)
  }
  const last = tail.slice(tail.lastIndexOf("\n", tail.length - 2) + 1, -1)
  let e: unknown
  try {
    e = JSON.parse(last)
  } catch {
    return new TraceError(0, "the last line is not JSON", f.path)
  }
  const ev = (e as { ev?: unknown; rwpsim?: unknown }).ev
  if (ev !== "end") return new TraceError(0, 'truncated: the trace ends without an "end" event', f.path)
  return undefined
}

export async function diffCommand(c: DiffCommand, io: Io): Promise<ExitCode> {
  const a = open(c.a)
  const b = open(c.b)
  try {
    for (const f of [a, b]) {
      if (f instanceof TraceError) {
        io.err(`rwpsim: ${f.format()}`)
        return 2
      }
    }
    return compare(a as File, b as File, c, io)
  } finally {
    if (a instanceof File) a.close()
    if (b instanceof File) b.close()
  }
}

function fail(e: TraceError, io: Io): ExitCode {
  io.err(`rwpsim: ${e.format()}`)
  return 2
}

function compare(a: File, b: File, c: DiffCommand, io: Io): ExitCode {
  const ha = header(a)
  if (ha instanceof TraceError) return fail(ha, io)
  const hb = header(b)
  if (hb instanceof TraceError) return fail(hb, io)
  for (const f of [a, b]) {
    const t = checkTail(f)
    if (t !== undefined) return fail(t, io)
  }
  const at = firstDifference(a, b)
  if (at < 0) {
    io.out(`${a.path} and ${b.path} are identical (${ha.scenario}, seed ${ha.seed})`)
    return 0
  }
  if (JSON.stringify(ha) !== JSON.stringify(hb)) {
    io.out(`${a.path} ${b.path} differ: line 1 (the header)`)
    io.out(`- ${JSON.stringify(ha)}`)
    io.out(`+ ${JSON.stringify(hb)}`)
    return 1
  }
  // the line holding the first differing byte starts at the same offset in both files
  const back = Math.max(0, at - LOOK_BACK)
  const window = a.read(back, at - back).toString("latin1")
  const cut = window.lastIndexOf("\n")
  const lineStart = cut < 0 ? back : back + cut + 1
  const before = window.slice(0, cut < 0 ? 0 : cut).split("\n")
  if (back > 0)
    before.shift() // the window may start inside a line
  else before.shift() // the header
  const prefix = before.filter((l) => l !== "").map((l) => Buffer.from(l, "latin1").toString("utf8"))
  const restA = linesFrom(a, lineStart, AFTER + 1)
  const restB = linesFrom(b, lineStart, AFTER + 1)
  // line numbers from seq: the header is line 1, seq 0 is line 2
  const seqOf = (text: string | undefined): number | undefined => {
    const m = text === undefined ? null : /"seq":(\d+)/.exec(text)
    return m === null ? undefined : Number(m[1])
  }
  const firstSeq = prefix.length > 0 ? (seqOf(prefix[0]) ?? 0) : (seqOf(restA[0]) ?? 0)
  const firstLine = firstSeq + 2
  const prior = parseLines(prefix, firstLine, a.path)
  if (prior instanceof TraceError) return fail(prior, io)
  const divLine = firstLine + prior.length
  const evA = parseLines(restA, divLine, a.path)
  if (evA instanceof TraceError) return fail(evA, io)
  const evB = parseLines(restB, divLine, b.path)
  if (evB instanceof TraceError) return fail(evB, io)

  // replay the look-back window for names, threads and state
  const space = new AddressSpace()
  const threads = new ThreadTracker()
  const state = new StateSketch()
  const shown: string[] = []
  for (const e of prior) {
    space.learn(e)
    state.learn(e, space)
    shown.push(formatEvent(e, threads.threadOf(e), space, PLAIN))
  }
  const x = evA[0]
  const y = evB[0]
  const where = x ?? y!
  io.out(`${a.path} ${b.path} differ: line ${divLine} (seq ${where.seq}, t = ${showTime(where.t)})`)
  io.out(`  ${ha.scenario}, seed ${ha.seed}: the first ${where.seq} events are identical`)
  io.out("")
  io.out(`context (the ${Math.min(c.context, shown.length)} events before):`)
  for (const l of shown.slice(Math.max(0, shown.length - c.context))) io.out(`  ${l}`)
  io.out("")
  const ta = new ThreadTracker()
  const tb = new ThreadTracker()
  Object.assign(ta, { current: threads.current })
  Object.assign(tb, { current: threads.current })
  io.out("first divergent event:")
  io.out(x === undefined ? `- A ends here (${a.path})` : `- A ${formatEvent(x, ta.threadOf(x), space, PLAIN)}`)
  io.out(y === undefined ? `+ B ends here (${b.path})` : `+ B ${formatEvent(y, tb.threadOf(y), space, PLAIN)}`)
  if (x !== undefined && y !== undefined) {
    io.out("")
    io.out("what differs:")
    for (const d of differingFields(x, y, space)) io.out(`  ${d}`)
  }
  const lines = state.lines()
  if (lines.length > 0) {
    io.out("")
    io.out(`state just before (from the ${prior.length} events before it):`)
    for (const l of lines) io.out(`  ${l}`)
  }
  io.out("")
  io.out("then:")
  for (let i = 1; i < Math.max(evA.length, evB.length); i++) {
    const p = evA[i]
    const q = evB[i]
    if (p !== undefined) io.out(`- A ${formatEvent(p, ta.threadOf(p), space, PLAIN)}`)
    if (q !== undefined) io.out(`+ B ${formatEvent(q, tb.threadOf(q), space, PLAIN)}`)
  }
  return 1
}
