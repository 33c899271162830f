// The trace writes its lines itself; they must be the bytes pino wrote when the trace went through
// it (so traces and their trace_sha256 stay what they were). The reference here is a pino logger
// configured as Trace was, fed `{t, seq, ev, ...fields}`.
import { fc, test } from "@fast-check/vitest"
import { pino } from "pino"
import { describe, expect, it } from "vitest"
import { RWPSIM_VERSION, Trace, type TraceFields, type TraceValue, traceString } from "../src/Trace.ts"

/** A pino logger as Trace had it, and what it writes for one object. */
function pinoWriter(): (obj: Record<string, unknown>) => string {
  let out: string[] = []
  const logger = pino(
    {
      base: null,
      timestamp: false,
      formatters: { level: () => ({}) },
      hooks: { streamWrite: (s) => (s.charCodeAt(1) === 44 ? `{${s.slice(2)}` : s) }
    },
    { write: (s: string) => void out.push(s) }
  )
  return (obj) => {
    out = []
    logger.info(obj)
    expect(out.length).toBe(1)
    return out[0]!
  }
}

const viaPino = pinoWriter()

// Node >= 25 pino escapes strings with JSON.stringify, which writes a lone surrogate as \udXXX;
// before, it wrote short strings with only `"` and `\` escaped. The trace keeps the latter on
// every Node; where pino differs, lone surrogates in top-level strings are left out of the check.
const PINO_KEEPS_LONE_SURROGATES = viaPino({ s: "\ud800" }) === '{"s":"\ud800"}\n'
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

const SPECIAL_CHARS = [
  '"',
  "\\",
  "\n",
  "\r",
  "\t",
  "\u0000",
  "\u0001",
  "\u001f",
  " ",
  "\u007f",
  "\u0080",
  "\u00e9",
  "\u2028",
  "\u2029",
  "\ud800",
  "\udfff",
  "\ud83d\ude00",
  "\ufeff",
  "\uffff",
  "/",
  "<",
  "'"
]
const unit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(..."abcxyz_.:-0123") },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_CHARS) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }
)
// fewer special characters, so that a long string often has none of some kind (a control character)
const sparseUnit = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(..."abcxyz_.:-0123") },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_CHARS) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }
)
// pino writes a string longer than 100 characters with JSON.stringify: around 100 is a boundary
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: sparseUnit, minLength: 99, maxLength: 102 }) },
  { weight: 1, arbitrary: fc.string({ unit: sparseUnit, minLength: 13, maxLength: 200 }) }
)
const number = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.1,
    -1.5,
    1e21,
    -1e21,
    1e-7,
    123456789012345680000,
    2 ** 53,
    2 ** 64,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.EPSILON,
    0x7f0000001000
  )
)
const key = fc.oneof(
  text,
  fc.constantFrom("a", "addr", "msg", "level", "time", "01", "-1", "1.5", "1e3", "t0", "seqs", "evs", "_", "")
)
const { value } = fc.letrec<{ value: TraceValue; leaf: TraceValue }>((tie) => ({
  leaf: fc.oneof(number, text, fc.boolean(), fc.constant(null)),
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("leaf"),
    fc.array(tie("value"), { maxLength: 4 }),
    // any key in a nested object: JSON.stringify puts integer-like ones first, and so must the trace
    fc.dictionary(fc.oneof(key, fc.constantFrom("0", "7", "__proto__")), tie("value"), {
      maxKeys: 4,
      noNullPrototype: true
    })
  )
}))

/** A top-level key the trace takes (the others throw, below). */
const fieldKey = key.filter((k) => !/^(t|seq|ev|__proto__|0|[1-9][0-9]*)$/.test(k))
const fields = fc.uniqueArray(fc.tuple(fieldKey, value), { selector: ([k]) => k, maxLength: 6 }).map((entries) => {
  const f: Record<string, TraceValue> = {}
  for (const [k, v] of entries) f[k] = v
  return f as TraceFields
})
const event = fc.record({ dt: fc.nat({ max: 1e6 }), ev: text, fields: fc.option(fields, { nil: undefined }) })

/** Where pino does more than serialize (it maps an error-like `err` and http-request-like objects). */
function pinoSpecial(f: TraceFields | undefined): boolean {
  if (f === undefined) return false
  const err = f["err"] as { message?: unknown } | null | undefined
  if (typeof err === "object" && err !== null && typeof err.message === "string") return true
  return Boolean(f["method"] && f["headers"] && f["socket"])
}

function loneSurrogateOnTop(ev: string, f: TraceFields | undefined): boolean {
  if (LONE_SURROGATE.test(ev)) return true
  if (f === undefined) return false
  for (const [k, v] of Object.entries(f)) {
    if (LONE_SURROGATE.test(k) || (typeof v === "string" && LONE_SURROGATE.test(v))) return true
  }
  return false
}

function capture(scenario: string, seed: number) {
  const lines: string[] = []
  const trace = new Trace({ write: (s) => void lines.push(s) }, { scenario, seed })
  return { trace, lines }
}

describe("Trace serialization", () => {
  test.prop([text, fc.maxSafeInteger().map(Math.abs)])("the header line is the bytes pino wrote", (scenario, seed) => {
    fc.pre(PINO_KEEPS_LONE_SURROGATES || !LONE_SURROGATE.test(scenario))
    const { lines } = capture(scenario, seed)
    expect(lines).toEqual([viaPino({ rwpsim: RWPSIM_VERSION, scenario, seed })])
  })

  test.prop([fc.array(event, { minLength: 1, maxLength: 8 })], { numRuns: 500 })(
    "each event line is the bytes pino wrote for {t, seq, ev, ...fields}",
    (events) => {
      const { trace, lines } = capture("s", 1)
      let t = 0
      for (const [seq, e] of events.entries()) {
        t += e.dt
        const special = pinoSpecial(e.fields) || (!PINO_KEEPS_LONE_SURROGATES && loneSurrogateOnTop(e.ev, e.fields))
        trace.emit(t, e.ev, e.fields)
        const line = lines[lines.length - 1]!
        if (!special) expect(line).toBe(viaPino({ t, seq, ev: e.ev, ...e.fields }))
        // and it is one line of JSON, whatever is in it
        expect(line.endsWith("}\n")).toBe(true)
        expect(line.slice(0, -1)).not.toContain("\n")
        expect(JSON.parse(line)).toMatchObject({ t, seq })
      }
      expect(trace.seq).toBe(events.length)
    }
  )

  test.prop([text])("a top-level string is written as pino's string escaper writes it", (s) => {
    fc.pre(PINO_KEEPS_LONE_SURROGATES || !LONE_SURROGATE.test(s))
    expect(`{"s":${traceString(s)}}\n`).toBe(viaPino({ s }))
  })

  it("agrees with pino on the corner cases by name", () => {
    const cases: TraceFields[] = [
      {},
      { z: -0, big: 1e21, small: 5e-324, frac: -0.000001, max: Number.MAX_VALUE, addr: 0x7f0000001000 },
      {
        s: "",
        q: '"',
        b: "\\",
        qb: '\\"',
        nl: "a\nb",
        nul: "\u0000",
        del: "\u007f",
        ls: "\u2028",
        emoji: "\ud83d\ude00"
      },
      { long: "x".repeat(100), longer: "x".repeat(101), longq: `${'"'.repeat(101)}`, longlone: "\ud800".repeat(101) },
      { lone: "\ud800", lone2: "a\udc00b", loneq: '\ud800"' },
      { a: [], o: {}, n: null, nested: [[[]], { "": [{}] }], neg: [-0, -1, 1e-7], deep: { b: { c: { d: [1, "x"] } } } },
      { obj: { z: 1, "10": 2, "2": 3, a: 4 }, s: { "\u0000": "\ud800", '"': "\\" } },
      { t0: 1, seqs: 2, evs: 3, "01": 4, "-1": 5, "": 6, "\n": 7, "\ud800": 8, msg: "m", level: 30, time: 1 }
    ]
    const { trace, lines } = capture("corner", 0)
    for (const [seq, f] of cases.entries()) {
      trace.emit(seq * 10, "e", f)
      const t = seq * 10
      if (PINO_KEEPS_LONE_SURROGATES || !loneSurrogateOnTop("e", f)) {
        expect(lines[seq + 1]).toBe(viaPino({ t, seq, ev: "e", ...f }))
      }
    }
    trace.emit(100, 'odd "ev"\n\ud800')
    if (PINO_KEEPS_LONE_SURROGATES) expect(lines.at(-1)).toBe(viaPino({ t: 100, seq: 8, ev: 'odd "ev"\n\ud800' }))
    const header = capture('a "name"\twith\u2028 \ud800', 2 ** 53 - 1).lines[0]
    if (PINO_KEEPS_LONE_SURROGATES) {
      expect(header).toBe(
        viaPino({ rwpsim: RWPSIM_VERSION, scenario: 'a "name"\twith\u2028 \ud800', seed: 2 ** 53 - 1 })
      )
    }
  })
})

describe("Trace checks", () => {
  function rejects(fields: unknown, pattern?: RegExp) {
    const { trace, lines } = capture("s", 1)
    trace.emit(5, "ok", { a: 1 })
    expect(() => trace.emit(5, "bad", fields as TraceFields)).toThrow(pattern)
    // nothing written, nothing counted
    expect(lines.length).toBe(2)
    expect(trace.seq).toBe(1)
    trace.emit(5, "ok")
    expect(lines.at(-1)).toBe('{"t":5,"seq":1,"ev":"ok"}\n')
  }

  it("rejects what is not a trace value, at the top or nested, saying where", () => {
    rejects({ n: 1n }, /field n has type bigint/)
    rejects({ a: 1, deep: { x: [1, { n: 2n }] } }, /field deep\.x\[1\]\.n has type bigint/)
    rejects({ x: Number.NaN }, /field x is not finite/)
    rejects({ x: Number.POSITIVE_INFINITY }, /not finite/)
    rejects({ x: [Number.NEGATIVE_INFINITY] }, /field x\[0\] is not finite/)
    rejects({ x: undefined }, /type undefined/)
    rejects({ x: [undefined] }, /type undefined/)
    // biome-ignore lint/suspicious/noSparseArray: a hole is no trace value
    rejects({ x: [1, , 3] }, /field x\[1\] has type undefined/)
    rejects({ f: () => 1 }, /type function/)
    rejects({ o: { f() {} } }, /field o\.f has type function/)
    rejects({ s: Symbol("x") }, /type symbol/)
    rejects({ d: new Date(0) }, /field d is not a plain object/)
    rejects({ m: [new Map()] }, /field m\[0\] is not a plain object/)
    rejects({ n: Object.create(null) }, /not a plain object/)
    rejects({ b: new Uint8Array(2) }, /not a plain object/)
  })

  it("rejects nesting past 32 levels (a cycle, too)", () => {
    let deep: TraceValue = 1
    for (let i = 0; i < 31; i++) deep = [deep]
    const { trace } = capture("s", 1)
    trace.emit(0, "ok", { deep })
    rejects({ deep: [deep] }, /nests too deep/)
    let deepEmpty: TraceValue = []
    for (let i = 0; i < 32; i++) deepEmpty = [deepEmpty]
    rejects({ deepEmpty }, /nests too deep/)
    const cycle: Record<string, unknown> = { a: 1 }
    cycle["self"] = cycle
    rejects({ cycle }, /nests too deep/)
  })

  it("rejects reserved and integer-like field names, and __proto__", () => {
    for (const k of ["t", "seq", "ev", "0", "1", "42", "4294967296"]) rejects({ [k]: 1 }, /reserved/)
    rejects(JSON.parse('{"__proto__": 1}'), /reserved/)
    // the last key counts as much as the first
    rejects({ a: 1, b: 2, seq: 3 }, /reserved/)
  })

  it("rejects times that are not virtual times or go backwards, and a non-string ev", () => {
    const { trace } = capture("s", 1)
    trace.emit(10, "a")
    for (const t of [9, -1, 1.5, Number.NaN, 2 ** 53]) expect(() => trace.emit(t, "b")).toThrow()
    expect(() => trace.emit(10, 7 as unknown as string)).toThrow(/ev is not a string/)
    expect(trace.seq).toBe(1)
  })
})
