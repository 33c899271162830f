import { describe, expect, it } from "vitest"
import { NullTrace, RWPSIM_VERSION, Trace, type TraceFields } from "../src/Trace.ts"

function capture(scenario = "quickstart", seed = 7) {
  const lines: string[] = []
  const calls: string[] = []
  const trace = new Trace(
    { write: (s) => lines.push(s), flush: () => calls.push("flush"), close: () => calls.push("close") },
    { scenario, seed }
  )
  return { trace, lines, calls }
}

describe("Trace", () => {
  it("writes the header line first, with keys rwpsim, scenario, seed in that order", () => {
    const { lines } = capture("cold-scan", 42)
    expect(lines).toEqual([`{"rwpsim":"${RWPSIM_VERSION}","scenario":"cold-scan","seed":42}\n`])
    expect(RWPSIM_VERSION).toBe("0.1.0")
  })

  it("writes t, seq, ev first, then the fields in insertion order, one line each", () => {
    const { trace, lines } = capture()
    trace.emit(0, "boot")
    trace.emit(1500, "fault", { vcpu: 1, addr: 0x7f0000001000, write: true, flags: ["WP"], detail: { z: 1, a: null } })
    trace.emit(1500, "wake", { name: 'q"x' })
    expect(lines.slice(1).join("")).toBe(
      '{"t":0,"seq":0,"ev":"boot"}\n' +
        '{"t":1500,"seq":1,"ev":"fault","vcpu":1,"addr":139637976731648,"write":true,"flags":["WP"],"detail":{"z":1,"a":null}}\n' +
        '{"t":1500,"seq":2,"ev":"wake","name":"q\\"x"}\n'
    )
    expect(trace.seq).toBe(3)
    for (const line of lines) expect(JSON.parse(line)).toBeTypeOf("object")
  })

  it("emits no pino extras: no level, msg, pid, hostname or time", () => {
    const { trace, lines } = capture()
    trace.emit(10, "x", { a: 1 })
    for (const line of lines) {
      for (const key of ["level", "msg", "pid", "hostname", "time"]) expect(line).not.toContain(`"${key}"`)
      expect(line.startsWith('{"')).toBe(true)
      expect(line.endsWith("}\n")).toBe(true)
    }
  })

  it("same events give the same bytes", () => {
    const run = () => {
      const { trace, lines } = capture("s", 3)
      for (let i = 0; i < 50; i++) trace.emit(i * 10, "tick", { i, even: i % 2 === 0 })
      return lines.join("")
    }
    expect(run()).toBe(run())
  })

  it("asserts bigints, non-finite numbers, undefined and reserved or index-like field names", () => {
    const { trace } = capture()
    const bad: unknown[] = [{ n: 1n }, { deep: { n: 2n } }, { x: Number.NaN }, { x: undefined }, { t: 1 }, { ev: "a" }]
    for (const fields of bad) expect(() => trace.emit(0, "bad", fields as TraceFields)).toThrow()
    expect(() => trace.emit(0, "bad", { "0": 1 })).toThrow(/reserved/)
    expect(trace.seq).toBe(0)
  })

  it("asserts that time does not go backwards and nothing is emitted after close", () => {
    const { trace, calls } = capture()
    trace.emit(100, "a")
    expect(() => trace.emit(99, "b")).toThrow(/before/)
    trace.close()
    trace.close()
    expect(calls).toEqual(["flush", "close"])
    expect(() => trace.emit(100, "c")).toThrow(/closed/)
  })

  it("NullTrace is disabled and writes nothing", () => {
    expect(NullTrace.enabled).toBe(false)
    NullTrace.emit(0, "x", { a: 1 })
    expect(NullTrace.seq).toBe(0)
    expect(new Trace(null).enabled).toBe(false)
    expect(capture().trace.enabled).toBe(true)
  })
})
