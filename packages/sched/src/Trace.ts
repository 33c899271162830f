/**
 * The trace: one JSON line per event, written through pino with every pino extra turned off, so
 * the bytes depend only on the run. The header line `{"rwpsim":VERSION,"scenario":NAME,"seed":N}`
 * comes first; then each event is `{"t":NS,"seq":N,"ev":NAME,...fields}` in that key order.
 */
import { type Logger, pino } from "pino"
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

const RESERVED = new Set(["t", "seq", "ev"])
// Integer-like keys are enumerated first by JavaScript, which would move them before "t".
const INDEX_KEY = /^(0|[1-9][0-9]*)$/

function assertValue(v: unknown, path: string, depth: number): void {
  assert(depth < 32, `Trace: field ${path} nests too deep`)
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

/** The run's trace. `new Trace(sink, header)` writes the header at once; `new Trace(null)` is disabled. */
export class Trace {
  /** False for a disabled trace: callers may skip building fields (`if (trace.enabled) ...`). */
  readonly enabled: boolean
  readonly #sink: TraceSink | null
  readonly #logger: Logger | null
  #seq = 0
  #last_t_ns = 0
  #closed = false

  constructor(sink: TraceSink, header: TraceHeader)
  constructor(sink: null)
  constructor(sink: TraceSink | null, header?: TraceHeader) {
    this.enabled = sink !== null
    this.#sink = sink
    if (sink === null) {
      this.#logger = null
      return
    }
    assert(header !== undefined, "Trace: an enabled trace needs a header")
    assert(Number.isSafeInteger(header.seed) && header.seed >= 0, `Trace: seed is not an integer 0..2^53-1`)
    this.#logger = pino(
      {
        base: null,
        timestamp: false,
        // An empty level object drops the "level" key; pino then starts the line with "{,".
        formatters: { level: () => ({}) },
        hooks: { streamWrite: (s) => (s.charCodeAt(1) === 44 ? `{${s.slice(2)}` : s) }
      },
      sink
    )
    this.#logger.info({ rwpsim: RWPSIM_VERSION, scenario: header.scenario, seed: header.seed })
  }

  /** How many events have been emitted (the next event's seq). */
  get seq(): number {
    return this.#seq
  }

  /** Writes one event at virtual time `t_ns`; times never go backwards. */
  emit(t_ns: number, ev: string, fields?: TraceFields): void {
    const logger = this.#logger
    if (logger === null) return
    assert(!this.#closed, "Trace.emit: trace is closed")
    assertTime(t_ns, "Trace.emit")
    assert(t_ns >= this.#last_t_ns, `Trace.emit: t ${t_ns} is before the previous event's ${this.#last_t_ns}`)
    const line: Record<string, TraceValue> = { t: t_ns, seq: this.#seq, ev }
    if (fields !== undefined) {
      for (const k of Object.keys(fields)) {
        assert(!RESERVED.has(k) && !INDEX_KEY.test(k), `Trace.emit: field name ${JSON.stringify(k)} is reserved`)
        const v = fields[k]!
        assertValue(v, k, 0)
        line[k] = v
      }
    }
    this.#last_t_ns = t_ns
    this.#seq++
    logger.info(line)
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
