// The trace package on its own: line checks, value syntax, names and pages, thread attribution,
// the view, the Perfetto JSON. Traces here are small and written by hand.
import { address, duration } from "@rwpsim/scenario"
import { describe, expect, it } from "vitest"
import {
  AddressSpace,
  formatEvent,
  formatTime,
  parseAddressArg,
  parseDurationArg,
  PerfettoExport,
  ThreadAttributor,
  TraceError,
  type TraceEvent,
  TraceParser
} from "../src/index.ts"

const H = '{"rwpsim":"0.1.0","scenario":"t","seed":1}'
const ev = (seq: number, t: number, ev: string, f: Record<string, unknown> = {}) => JSON.stringify({ t, seq, ev, ...f })

function parseAll(lines: readonly string[], terminated = true): (TraceEvent | TraceError)[] {
  const p = new TraceParser()
  const out: (TraceEvent | TraceError)[] = []
  for (const l of lines) {
    const r = p.next(l)
    if (r !== undefined) out.push(r)
    if (r instanceof TraceError) return out
  }
  const end = p.finish(terminated)
  if (end !== undefined) out.push(end)
  return out
}

describe("TraceParser", () => {
  it("accepts a header, events in seq order and an end", () => {
    const r = parseAll([H, ev(0, 0, "a"), ev(1, 5, "end")])
    expect(r.every((x) => !(x instanceof TraceError))).toBe(true)
  })
  it.each([
    ["not JSON", [H, "{nope"], 2, /not a JSON line/],
    ["a missing seq", [H, ev(0, 0, "a"), ev(2, 0, "b")], 3, /seq 2 where 1 was expected/],
    ["time going back", [H, ev(0, 9, "a"), ev(1, 3, "b")], 3, /before the previous/],
    ["no header", [ev(0, 0, "a")], 1, /header/],
    ["no end", [H, ev(0, 0, "a")], 2, /without an "end" event/]
  ])("names the line of %s", (_what, lines, line, message) => {
    const r = parseAll(lines)
    const err = r[r.length - 1]
    expect(err).toBeInstanceOf(TraceError)
    expect((err as TraceError).line).toBe(line)
    expect((err as TraceError).message).toMatch(message)
  })
  it("a last line without its newline is truncated", () => {
    const r = parseAll([H, ev(0, 0, "end")], false)
    expect((r[r.length - 1] as TraceError).message).toMatch(/truncated/)
  })
})

describe("value syntax (the spec's, as the scenario package parses it)", () => {
  it.each(["0", "250ns", "50us", "10ms", "2s", "1.5ms", "12004000"])("duration %s", (text) => {
    const want = duration.parse(/^\d+$/.test(text) ? Number(text) : text)
    expect(parseDurationArg(text)).toBe(want)
  })
  it.each(["guest_mem", "guest_mem+0x1000", "guest_mem+8KiB", "io_mem+4096", "0x7f0000001000", "4096"])(
    "address %s",
    (text) => {
      const want = address.parse(/^\d+$/.test(text) ? Number(text) : text)
      expect(parseAddressArg(text)).toEqual(want)
    }
  )
  it("refuses what the spec does not allow", () => {
    expect(typeof parseDurationArg("10 minutes")).toBe("string")
    expect(typeof parseAddressArg("guest_mem+lots")).toBe("string")
    expect(typeof parseAddressArg("8KiB")).toBe("string")
  })
  it("formats aligned virtual time", () => {
    expect(formatTime(12_004_000)).toBe("  12.004 ms")
    expect(formatTime(950)).toBe("     950 ns")
    expect(formatTime(3_000_000_000)).toBe("    3.000 s")
  })
})

function space(): AddressSpace {
  const s = new AddressSpace()
  const e = (x: Record<string, unknown>) => x as unknown as TraceEvent
  s.learn(e({ t: 0, seq: 0, ev: "step", i: 0, op: "mmap", as: "guest_mem" }))
  s.learn(e({ t: 0, seq: 1, ev: "k.mmap", addr: 0x10000, len: 0x4000, file: "guest", off: 0 }))
  s.learn(e({ t: 0, seq: 2, ev: "step", i: 1, op: "mmap", as: "io_mem" }))
  s.learn(e({ t: 0, seq: 3, ev: "k.mmap", addr: 0x20000, len: 0x4000, file: "guest", off: 0 }))
  return s
}

describe("AddressSpace", () => {
  it("resolves name+offset to a page and knows its other mappings and file offset", () => {
    const p = space().resolve("guest_mem", 0x1000)
    expect(p).toMatchObject({ addr: 0x11000, aliases: [0x11000, 0x21000], file: { name: "guest", off: 0x1000 } })
  })
  it("matches address ranges, aliases and file offsets", () => {
    const s = space()
    const p = s.resolve("guest_mem", 0x1000)
    if (typeof p === "string") throw new Error(p)
    const e = (x: Record<string, unknown>) => x as unknown as TraceEvent
    expect(s.touches(e({ ev: "k.rwprotect", start: 0x10000, len: 0x4000 }), p)).toBe(true)
    expect(s.touches(e({ ev: "pwrite", from: 0x21000, len: 0x1000 }), p)).toBe(true)
    expect(s.touches(e({ ev: "k.punch_hole", file: "guest", off: 0x1000, len: 0x1000 }), p)).toBe(true)
    expect(s.touches(e({ ev: "k.punch_hole", file: "guest", off: 0x2000, len: 0x1000 }), p)).toBe(false)
    expect(s.touches(e({ ev: "access", addr: 0x12000 }), p)).toBe(false)
  })
  it("says which names it knows when one is missing", () => {
    expect(space().resolve("nope", 0)).toMatch(/no mapping named "nope".*guest_mem, io_mem/)
  })
  it("shows addresses against names", () => {
    expect(space().show(0x21000)).toBe("io_mem+0x1000")
  })
})

describe("ThreadAttributor", () => {
  it("gives a VMM call the thread of the sleep after it, and keeps the order", () => {
    const seen: string[] = []
    const a = new ThreadAttributor((e, thread) => void seen.push(`${e.ev}@${thread}`))
    const e = (x: Record<string, unknown>) => x as unknown as TraceEvent
    a.push(e({ seq: 0, ev: "spawn", thread: "tracker" }))
    a.push(e({ seq: 1, ev: "vmm.rwprotect", start: 0 }))
    a.push(e({ seq: 2, ev: "vcpu.block", vcpu: 1 }))
    a.push(e({ seq: 3, ev: "sleep", thread: "tracker", until: 9 }))
    a.push(e({ seq: 4, ev: "vmm.copy", dst: 0 }))
    a.push(e({ seq: 5, ev: "park", thread: "handler" }))
    a.end()
    expect(seen).toEqual([
      "spawn@tracker",
      "vmm.rwprotect@tracker",
      "vcpu.block@vcpu1",
      "sleep@tracker",
      "vmm.copy@handler",
      "park@handler"
    ])
  })
})

describe("view and Perfetto", () => {
  it("one aligned line per event, flags by name, addresses by mapping", () => {
    const e = { t: 12_004_000, seq: 7, ev: "k.uffd_register", fd: 4, start: 0x10000, len: 0x4000, mode: 9 }
    expect(formatEvent(e, "script", space())).toBe(
      "  12.004 ms  script    k.uffd_register     fd=4 start=guest_mem len=16KiB mode=MISSING|RWP"
    )
  })
  it("writes valid trace-event JSON with a vCPU's blocked interval", () => {
    let json = ""
    const x = new PerfettoExport({ rwpsim: "0.1.0", scenario: "t", seed: 1 }, (s) => {
      json += s
    })
    x.event(
      { t: 1000, seq: 0, ev: "vcpu.block", vcpu: 0, page: 3, on: "userfaultfd 4 (MISSING fault at 0x1)" },
      "vcpu0"
    )
    x.event({ t: 6000, seq: 1, ev: "vcpu.done", vcpu: 0, page: 3, stalled_ns: 5000 }, "vcpu0")
    x.finish()
    const d = JSON.parse(json) as { traceEvents: { ph: string; name: string; ts?: number; dur?: number }[] }
    expect(d.traceEvents).toContainEqual(
      expect.objectContaining({ ph: "X", name: "blocked: MISSING fault", ts: 1, dur: 5 })
    )
    expect(d.traceEvents).toContainEqual(expect.objectContaining({ ph: "M", name: "thread_name" }))
  })
})
