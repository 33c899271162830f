// One trace line, parsed and checked: the header `{"rwpsim":V,"scenario":S,"seed":N}`, then events
// `{"t":NS,"seq":N,"ev":NAME,...fields}` with seq counting from 0 and t never going backwards.
// A line that breaks this is a TraceError naming the line (1-based, the header is line 1).

/** A field value as the trace writes it (JSON). */
export type FieldValue =
  | number
  | string
  | boolean
  | null
  | readonly FieldValue[]
  | { readonly [key: string]: FieldValue }

/** One event: t (virtual ns), seq, ev, and the fields after them in their written order. */
export interface TraceEvent {
  readonly t: number
  readonly seq: number
  readonly ev: string
  readonly [field: string]: FieldValue
}

export interface TraceHeader {
  readonly rwpsim: string
  readonly scenario: string
  readonly seed: number
}

/** A trace that is not what rwpsim writes: where and why. */
export class TraceError {
  readonly _tag = "TraceError"
  constructor(
    /** 1-based line number; 0 when the file itself is the problem (unreadable, empty). */
    readonly line: number,
    readonly message: string,
    /** The file, when known (filled in by the reader). */
    readonly file?: string
  ) {}

  /** `FILE:LINE: message` (what the CLI prints). */
  format(file = this.file): string {
    const where = file === undefined ? "" : `${file}:`
    return this.line > 0 ? `${where}${this.line}: ${this.message}` : `${where} ${this.message}`.trim()
  }
}

const RESERVED = new Set(["t", "seq", "ev"])

/** The fields of an event (everything but t, seq and ev), in written order. */
export function fieldsOf(e: TraceEvent): [string, FieldValue][] {
  const out: [string, FieldValue][] = []
  for (const k of Object.keys(e)) if (!RESERVED.has(k)) out.push([k, e[k]!])
  return out
}

function parseJson(text: string, line: number): Record<string, unknown> | TraceError {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    const why = e instanceof SyntaxError ? e.message : "invalid JSON"
    return new TraceError(line, `not a JSON line (${why})`)
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return new TraceError(line, "not a JSON object")
  return v as Record<string, unknown>
}

export function parseHeader(text: string): TraceHeader | TraceError {
  const v = parseJson(text, 1)
  if (v instanceof TraceError) return v
  if (typeof v.rwpsim !== "string" || typeof v.scenario !== "string" || !Number.isSafeInteger(v.seed))
    return new TraceError(1, 'not an rwpsim trace header (expected {"rwpsim":VERSION,"scenario":NAME,"seed":N})')
  return { rwpsim: v.rwpsim, scenario: v.scenario, seed: v.seed as number }
}

/** One event line, its shape checked (t, seq, ev), not its place in the sequence. */
export function parseEventLine(text: string, line: number): TraceEvent | TraceError {
  const v = parseJson(text, line)
  if (v instanceof TraceError) return v
  const { t, seq, ev } = v
  if (!Number.isSafeInteger(t) || (t as number) < 0) return new TraceError(line, 'no "t" (virtual ns, an integer >= 0)')
  if (!Number.isSafeInteger(seq)) return new TraceError(line, 'no "seq" (an integer)')
  if (typeof ev !== "string" || ev === "") return new TraceError(line, 'no "ev" (the event name)')
  return v as unknown as TraceEvent
}

/** Checks the event lines of one trace in order: seq counts up from `seq` (0), t never goes back. */
export class EventChecker {
  #seq: number
  #t: number

  /** Starts expecting `seq` at a time from `t` on (a window inside a trace). */
  constructor(seq = 0, t = 0) {
    this.#seq = seq
    this.#t = t
  }

  /** The event on `line` (1-based, so the first event is line 2), or why it is not one. */
  event(text: string, line: number): TraceEvent | TraceError {
    const e = parseEventLine(text, line)
    if (e instanceof TraceError) return e
    if (e.seq !== this.#seq)
      return new TraceError(line, `seq ${e.seq} where ${this.#seq} was expected (a line missing?)`)
    if (e.t < this.#t) return new TraceError(line, `t ${e.t} is before the previous event's ${this.#t}`)
    this.#seq++
    this.#t = e.t
    return e
  }

  /** Events checked so far. */
  get count(): number {
    return this.#seq
  }
}

/** Reads a trace from its lines: the header, then the checked events. */
export class TraceParser {
  header: TraceHeader | undefined
  /** The `end` event, once seen (a trace without one was cut short). */
  end: TraceEvent | undefined
  readonly #events = new EventChecker()
  #line = 0

  /** The next line: undefined for the header, the event, or the error. */
  next(text: string): TraceEvent | TraceError | undefined {
    this.#line++
    if (this.#line === 1) {
      const h = parseHeader(text)
      if (h instanceof TraceError) return h
      this.header = h
      return undefined
    }
    const e = this.#events.event(text, this.#line)
    if (!(e instanceof TraceError) && e.ev === "end") this.end = e
    return e
  }

  /** At the end of input: an error if the trace was empty or cut short. `terminated`: the last line ended with \n. */
  finish(terminated: boolean): TraceError | undefined {
    if (this.#line === 0) return new TraceError(0, "empty file (no trace header)")
    if (!terminated) return new TraceError(this.#line, "truncated: the last line has no end of line")
    if (this.end === undefined)
      return new TraceError(this.#line, 'truncated: the trace ends without an "end" event (was the run interrupted?)')
    return undefined
  }

  get lines(): number {
    return this.#line
  }
}
