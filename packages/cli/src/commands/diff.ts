// `rwpsim diff A B`: the first event where two traces diverge, as cmp finds the first byte. Runs of
// one scenario are byte-identical up to their first divergent event (the trace is deterministic),
// so the files are compared in 64 KiB chunks with memcmp (Buffer.compare) and only the lines around
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
  ThreadAttributor,
  TraceError,
  type TraceEvent,
  type TraceHeader
} from "@rwpsim/trace"
import type { Command } from "../args.ts"
import type { Io } from "../output.ts"
import type { ExitCode } from "./run.ts"

type DiffCommand = Extract<Command, { cmd: "diff" }>

const CHUNK = 1 << 16
/** How far before the divergence to read for context and state (bytes). */
const LOOK_BACK = 1 << 18
/** Lines read from the start for the mappings' names. */
const HEAD_LINES = 256
/** Differing pairs shown after the divergence, within LOOK_AHEAD lines read on each side. */
const AFTER = 6
const LOOK_AHEAD = 4096

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

/** The offset of the first byte where a and b differ, or -1 if they are equal. */
function firstDifference(a: File, b: File): number {
  const n = Math.min(a.size, b.size)
  // two reused buffers that stay in the CPU's cache: faster than large reads
  const x = Buffer.allocUnsafe(CHUNK)
  const y = Buffer.allocUnsafe(CHUNK)
  for (let pos = 0; pos < n; pos += CHUNK) {
    const len = Math.min(CHUNK, n - pos)
    const gx = readSync(a.fd, x, 0, len, pos)
    const gy = readSync(b.fd, y, 0, len, pos)
    const m = Math.min(gx, gy)
    if (m === len && x.compare(y, 0, len, 0, len) === 0) continue
    // halve the chunk until a few bytes are left: compare() is memcmp
    let lo = 0
    let hi = m
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
  const restA = linesFrom(a, lineStart, LOOK_AHEAD)
  const restB = linesFrom(b, lineStart, LOOK_AHEAD)
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

  // names come from the start of the trace (mappings, the workload's setup); then the window
  const space = new AddressSpace()
  if (back > 0) {
    for (const text of linesFrom(a, 0, HEAD_LINES).slice(1)) {
      const e = parseEventLine(text, 0)
      if (!(e instanceof TraceError)) space.learn(e)
    }
  }
  // threads: each window with what follows it (the sleeps after VMM calls name their threads)
  const threadsOf = (events: readonly TraceEvent[]): Map<number, string> => {
    const m = new Map<number, string>()
    const at = new ThreadAttributor((e, thread) => void m.set(e.seq, thread), events[0]?.seq === 0)
    for (const e of events) at.push(e)
    at.end()
    return m
  }
  const thA = threadsOf([...prior, ...evA])
  const thB = threadsOf([...prior, ...evB])
  const state = new StateSketch()
  const shown: string[] = []
  for (const e of prior) {
    space.learn(e)
    const thread = thA.get(e.seq) ?? "?"
    state.learn(e, space, thread)
    shown.push(formatEvent(e, thread, space, PLAIN))
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
  const ta = { threadOf: (e: TraceEvent) => thA.get(e.seq) ?? "?" }
  const tb = { threadOf: (e: TraceEvent) => thB.get(e.seq) ?? "?" }
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
  io.out("then (in step; - only in A, + only in B):")
  let same = 0
  let differing = 0
  const fold = () => {
    if (same > 0) io.out(`    ... ${same} identical event${same > 1 ? "s" : ""} ...`)
    same = 0
  }
  for (let i = 1; i < Math.max(evA.length, evB.length) && differing < AFTER; i++) {
    const p = evA[i]
    const q = evB[i]
    const lp = p === undefined ? undefined : formatEvent(p, ta.threadOf(p), space, PLAIN)
    const lq = q === undefined ? undefined : formatEvent(q, tb.threadOf(q), space, PLAIN)
    if (lp !== undefined && lp === lq) {
      same++
      continue
    }
    fold()
    differing++
    io.out(lp === undefined ? "- A ends" : `- A ${lp}`)
    io.out(lq === undefined ? "+ B ends" : `+ B ${lq}`)
  }
  fold()
  return 1
}
