/**
 * The trace: one JSON line per event, so the bytes depend only on the run. The header line
 * `{"rwpsim":VERSION,"scenario":NAME,"seed":N}` comes first; then each event is
 * `{"t":NS,"seq":N,"ev":NAME,...fields}` in that key order.
 *
 * The lines are the bytes pino wrote when the trace went through it (pino 10, every extra off:
 * base null, no timestamp, an empty level object): top-level numbers as `${n}`, top-level strings
 * and keys as pino's string escaper (JSON.stringify when the string has a control character or
 * is longer than 100 characters, else only `"` and `\` escaped, so a lone surrogate stays raw),
 * nested arrays and objects as JSON.stringify. pino writes the header line (once per run, so the
 * logger of record sets the format); each event line is serialized here, in one pass that also
 * checks each value, at a fraction of what going through pino cost per line;
 * test/TraceSerialize.test.ts checks those bytes against pino's.
 */
import { pino } from "pino"
import { assert } from "./internal/assert.ts"
import { assertTime } from "./VirtualClock.ts"

/** The rwpsim version written in every trace header. */
export const RWPSIM_VERSION = "0.1.0"

/** Where trace lines go (a file, a hash, an array in a test); each write is one whole line. */
export interface TraceSink {
  write(line: string): void
  flush?(): void
  close?(): void
}

/** What the header line names: the scenario's `name` (never its path) and the root seed. */
export interface TraceHeader {
  readonly scenario: string
  readonly seed: number
}

/** A value a trace field may hold: JSON, with integers or finite numbers; bigints are converted by the caller. */
export type TraceValue =
  | number
  | string
  | boolean
  | null
  | readonly TraceValue[]
  | { readonly [key: string]: TraceValue }

/** The fields of one trace event, written after t, seq and ev in insertion order. */
export type TraceFields = { readonly [key: string]: TraceValue }

const MAX_DEPTH = 32
// Integer-like keys are enumerated first by JavaScript, which would move them before "t".
const INDEX_KEY = /^(0|[1-9][0-9]*)$/
const QUOTE_OR_BACKSLASH = /["\\]/g

/**
 * A top-level string or key as pino's asString writes it (on Node < 25; pinned here so the bytes
 * do not depend on the Node version): JSON.stringify if it is longer than 100 characters or has a
 * character below U+0020, else the string in quotes with only `"` and `\` escaped.
 */
export function traceString(s: string): string {
  const n = s.length
  if (n > 100) return JSON.stringify(s)
  let escapeQuotes = false
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 32) return JSON.stringify(s)
    if (c === 34 || c === 92) escapeQuotes = true
  }
  return escapeQuotes ? `"${s.replace(QUOTE_OR_BACKSLASH, "\\$&")}"` : `"${s}"`
}

/**
 * A nested value (an element or member of a field's array or object) as JSON.stringify writes
 * it, or undefined if it is not a TraceValue (the caller then finds out why, with the slow check).
 */
function nested(v: unknown, depth: number): string | undefined {
  switch (typeof v) {
    case "number":
      return Number.isFinite(v) ? `${v}` : undefined
    case "string":
      return JSON.stringify(v)
    case "boolean":
      return v ? "true" : "false"
    case "object":
      return v === null ? "null" : composite(v, depth)
    default:
      return undefined
  }
}

/** An array or plain object at `depth` as JSON.stringify writes it; undefined if it is not a TraceValue. */
function composite(v: object, depth: number): string | undefined {
  // as the slow check: a value (primitive or not) at MAX_DEPTH nests too deep
  if (depth >= MAX_DEPTH) return undefined
  const inner = depth + 1
  if (Array.isArray(v)) {
    if (v.length > 0 && inner >= MAX_DEPTH) return undefined
    let s = "["
    for (let i = 0; i < v.length; i++) {
      const e = nested(v[i], inner)
      if (e === undefined) return undefined
      s += i === 0 ? e : `,${e}`
    }
    return `${s}]`
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return undefined
  const keys = Object.keys(v)
  if (keys.length > 0 && inner >= MAX_DEPTH) return undefined
  let s = "{"
  let first = true
  for (const k of keys) {
    const e = nested((v as Record<string, unknown>)[k], inner)
    if (e === undefined) return undefined
    s += `${first ? "" : ","}${JSON.stringify(k)}:${e}`
    first = false
  }
  return `${s}}`
}

/** Why `v` is no TraceValue (the slow path, run only once the fast one has failed): throws. */
function assertValue(v: unknown, path: string, depth: number): void {
  assert(depth < MAX_DEPTH, `Trace: field ${path} nests too deep`)
  switch (typeof v) {
    case "string":
    case "boolean":
      return
    case "number":
      assert(Number.isFinite(v), `Trace: field ${path} is not finite: ${v}`)
      return
    case "object":
      if (v === null) return
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) assertValue(v[i], `${path}[${i}]`, depth + 1)
        return
      }
      assert(Object.getPrototypeOf(v) === Object.prototype, `Trace: field ${path} is not a plain object`)
      for (const k of Object.keys(v)) assertValue((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1)
      return
    default:
      assert(false, `Trace: field ${path} has type ${typeof v} (convert bigints before emitting)`)
  }
}

/** True for a field name the line cannot hold: t, seq, ev, an integer-like key, or __proto__. */
function reservedKey(k: string): boolean {
  const c = k.charCodeAt(0)
  if (c >= 48 && c <= 57) return INDEX_KEY.test(k)
  switch (c) {
    case 116: // t
      return k === "t"
    case 115: // s
      return k === "seq"
    case 101: // e
      return k === "ev"
    case 95: // _
      return k === "__proto__"
    default:
      return false
  }
}

// The few names a run uses, written once: `,"key":` for a field name (checked when first seen;
// a reserved one is never kept) and `,"ev":"name"` for an event. Bounded, in case names are made up.
const CACHE_MAX = 4096
const keyPrefixes = new Map<string, string>()
const evPrefixes = new Map<string, string>()

function keyPrefix(k: string): string {
  let p = keyPrefixes.get(k)
  if (p !== undefined) return p
  if (reservedKey(k)) assert(false, `Trace.emit: field name ${JSON.stringify(k)} is reserved`)
  p = `,${traceString(k)}:`
  if (keyPrefixes.size < CACHE_MAX) keyPrefixes.set(k, p)
  return p
}

function evPrefix(ev: string): string {
  let p = evPrefixes.get(ev)
  if (p !== undefined) return p
  assert(typeof ev === "string", "Trace.emit: ev is not a string")
  p = `,"ev":${traceString(ev)}`
  if (evPrefixes.size < CACHE_MAX) evPrefixes.set(ev, p)
  return p
}

/** `,"key":value` for each field, checking each as it goes. */
function serializeFields(fields: TraceFields): string {
  let s = ""
  for (const k of Object.keys(fields)) {
    const p = keyPrefix(k)
    const v: unknown = fields[k]
    let e: string | undefined
    switch (typeof v) {
      case "number":
        if (Number.isFinite(v)) {
          s += p + v
          continue
        }
        e = undefined
        break
      case "string":
        e = traceString(v)
        break
      case "boolean":
        e = v ? "true" : "false"
        break
      case "object":
        e = v === null ? "null" : composite(v, 0)
        break
      default:
        e = undefined
    }
    if (e === undefined) {
      assertValue(v, k, 0)
      assert(false, `Trace: field ${k} is not a trace value`)
    }
    s += p + e
  }
  return s
}

/** The run's trace. `new Trace(sink, header)` writes the header at once; `new Trace(null)` is disabled. */
export class Trace {
  /** False for a disabled trace: callers may skip building fields (`if (trace.enabled) ...`). */
  readonly enabled: boolean
  readonly #sink: TraceSink | null
  #seq = 0
  #last_t_ns = 0
  #closed = false

  constructor(sink: TraceSink, header: TraceHeader)
  constructor(sink: null)
  constructor(sink: TraceSink | null, header?: TraceHeader) {
    this.enabled = sink !== null
    this.#sink = sink
    if (sink === null) return
    assert(header !== undefined, "Trace: an enabled trace needs a header")
    assert(typeof header.scenario === "string", "Trace: the scenario name is not a string")
    assert(Number.isSafeInteger(header.seed) && header.seed >= 0, `Trace: seed is not an integer 0..2^53-1`)
    pino(
      {
        base: null,
        timestamp: false,
        // An empty level object drops the "level" key; pino then starts the line with "{,".
        formatters: { level: () => ({}) },
        hooks: { streamWrite: (s) => (s.charCodeAt(1) === 44 ? `{${s.slice(2)}` : s) }
      },
      { write: (line: string) => sink.write(line) }
    ).info({ rwpsim: RWPSIM_VERSION, scenario: header.scenario, seed: header.seed })
  }

  /** How many events have been emitted (the next event's seq). */
  get seq(): number {
    return this.#seq
  }

  /** Writes one event at virtual time `t_ns`; times never go backwards. */
  emit(t_ns: number, ev: string, fields?: TraceFields): void {
    const sink = this.#sink
    if (sink === null) return
    assert(!this.#closed, "Trace.emit: trace is closed")
    assertTime(t_ns, "Trace.emit")
    // the message only when it fails
    if (!(t_ns >= this.#last_t_ns)) {
      assert(false, `Trace.emit: t ${t_ns} is before the previous event's ${this.#last_t_ns}`)
    }
    const head = evPrefix(ev)
    const rest = fields === undefined ? "" : serializeFields(fields)
    const line = `{"t":${t_ns},"seq":${this.#seq}${head}${rest}}\n`
    this.#last_t_ns = t_ns
    this.#seq++
    sink.write(line)
  }

  /** Flushes the sink, if it buffers. */
  flush(): void {
    this.#sink?.flush?.()
  }

  /** Flushes and closes the sink; later emits are programmer errors. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.flush()
    this.#sink?.close?.()
  }
}

/** A disabled trace: emit does nothing. */
export const NullTrace: Trace = new Trace(null)
