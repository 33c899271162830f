import { fc, it as fcIt } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import type * as z from "zod"
import { address, bandwidth, duration, flags, ioctls, name, percentage, range, size } from "../src/values.ts"

function good<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const r = schema.safeParse(input)
  if (!r.success) throw new Error(`${JSON.stringify(input)}: ${r.error.issues.map((i) => i.message).join("; ")}`)
  return r.data
}

function bad(schema: z.ZodType, input: unknown): string {
  const r = schema.safeParse(input, { reportInput: true })
  expect(r.success, `${JSON.stringify(input)} should be rejected`).toBe(false)
  return r.error!.issues[0].message
}

describe("size", () => {
  it.each([
    [4096, 4096],
    [0, 0],
    ["4KiB", 4096],
    ["2MiB", 2 << 20],
    ["1GiB", 1 << 30],
    ["1TiB", 2 ** 40],
    ["512B", 512],
    ["0.5KiB", 512],
    ["1.5MiB", 1.5 * (1 << 20)],
    ["4 KiB", 4096]
  ])("spec Values: size %j is %d bytes", (input, bytes) => {
    expect(good(size, input)).toBe(bytes)
  })

  it.each(["4kb", "4KB", "4 kib", "4", "KiB", "-4KiB", "0x1000", "4KiB ", ""])(
    "rejects %j with the expected form",
    (input) => {
      expect(bad(size, input)).toBe(
        `expected a size like 4096 or "4KiB" (units B, KiB, MiB, GiB, TiB), got ${JSON.stringify(input)}`
      )
    }
  )

  it.each([-1, 1.5, true, null, [4096], { bytes: 1 }])("rejects the non-size %j", (input) => {
    expect(bad(size, input)).toMatch(/^expected a size like 4096 or "4KiB"/)
  })

  it("rejects a fraction that is not a whole byte", () => {
    expect(bad(size, "1.3B")).toBe('expected a whole number of bytes (below 2^53), got "1.3B"')
    expect(bad(size, "0.0001KiB")).toMatch(/whole number of bytes/)
  })

  it("rejects sizes beyond 2^53", () => {
    expect(bad(size, "9000000TiB")).toMatch(/whole number of bytes/)
    expect(bad(size, 2 ** 60)).toMatch(/expected a size/)
  })

  it("says what is required when missing", () => {
    expect(bad(size, undefined)).toMatch(/^required: a size like 4096/)
  })
})

describe("duration", () => {
  it.each([
    [1000, 1000],
    [0, 0],
    ["250ns", 250],
    ["50us", 50_000],
    ["10ms", 10_000_000],
    ["2s", 2_000_000_000],
    ["1.5ms", 1_500_000],
    ["0.001us", 1],
    ["0.1s", 100_000_000]
  ])("spec Values: duration %j is %d ns", (input, ns) => {
    expect(good(duration, input)).toBe(ns)
  })

  it.each(["1.5ns", "0.0001us", "1.0000000001s"])("rejects %j: not a whole number of ns", (input) => {
    expect(bad(duration, input)).toBe(
      `expected a whole number of nanoseconds (below 2^53), got ${JSON.stringify(input)}`
    )
  })

  it.each(["10 sec", "5m", "1h", "10MS", "ms", 1.5, -1, "µs"])("rejects %j", (input) => {
    expect(bad(duration, input)).toMatch(/^expected a duration like 1000 \(ns\) or "50us"/)
  })
})

describe("percentage", () => {
  it.each([
    [0, 0],
    [1, 1],
    [0.3, 0.3],
    ["10%", 0.1],
    ["12.5%", 0.125],
    ["0%", 0],
    ["100%", 1]
  ])("spec Values: percentage %j is %d", (input, share) => {
    expect(good(percentage, input)).toBeCloseTo(share, 12)
  })

  it.each([1.5, -0.1, "101%", "10", "ten%", "-5%", "%"])("rejects %j", (input) => {
    expect(bad(percentage, input)).toMatch(/^expected a percentage like 0.1 or "10%"/)
  })
})

describe("bandwidth", () => {
  it.each([
    ["2GiB/s", 2 * 2 ** 30],
    ["500MiB/s", 500 * 2 ** 20],
    ["100B/s", 100],
    [1_000_000, 1_000_000]
  ])("spec Values: bandwidth %j is %d bytes per second", (input, bps) => {
    expect(good(bandwidth, input)).toBe(bps)
  })

  it.each(["2GiB", "2GB/s", "2GiB/sec", 0, "0B/s", -5])("rejects %j", (input) => {
    expect(bad(bandwidth, input)).toMatch(/bandwidth/)
  })
})

describe("address", () => {
  it.each([
    [4096, { base: null, offset: 4096 }],
    [0x7f0000000000, { base: null, offset: 0x7f0000000000 }],
    ["0x7f0000001000", { base: null, offset: 0x7f0000001000 }],
    ["guest_mem", { base: "guest_mem", offset: 0 }],
    ["guest_mem+0x3000", { base: "guest_mem", offset: 0x3000 }],
    ["guest_mem+8KiB", { base: "guest_mem", offset: 8192 }],
    ["guest_mem+4096", { base: "guest_mem", offset: 4096 }],
    ["buf + 0x10", { base: "buf", offset: 16 }],
    ["m.file-2+2MiB", { base: "m.file-2", offset: 2 << 20 }]
  ])("spec Values: address %j is %j", (input, parsed) => {
    expect(good(address, input)).toEqual(parsed)
  })

  it.each(["m+zz", "m+4kb", "m+-1", "m+", "m+0x1+2"])("rejects the bad offset in %j", (input) => {
    expect(bad(address, input)).toMatch(/offset after "\+"|expected an address/)
  })

  it.each(["9m", "", "a b", -1, 1.5, null, ["m"]])("rejects %j", (input) => {
    expect(bad(address, input)).toMatch(/^expected an address like 4096, "buf", "buf\+0x3000"/)
  })
})

describe("flags", () => {
  it.each([
    [
      ["UFFDIO_REGISTER_MODE_RWP", "UFFDIO_REGISTER_MODE_MISSING"],
      { names: ["UFFDIO_REGISTER_MODE_RWP", "UFFDIO_REGISTER_MODE_MISSING"] }
    ],
    ["PROT_NONE", { names: ["PROT_NONE"] }],
    [[], { names: [] }],
    [0, { raw: 0 }],
    [0x8000_0000, { raw: 0x8000_0000 }],
    [["_UFFDIO_RWPROTECT"], { names: ["_UFFDIO_RWPROTECT"] }]
  ])("spec Values: flags %j are %j", (input, parsed) => {
    expect(good(flags, input)).toEqual(parsed)
  })

  it.each(["prot_read", "PROT-READ", "1FLAG", -1, 1.5, { PROT_READ: true }, null])("rejects %j", (input) => {
    expect(bad(flags, input)).toMatch(/^expected (flags|a constant name)/)
  })

  it("names the bad element of a list", () => {
    const r = flags.safeParse(["PROT_READ", "prot_write"], { reportInput: true })
    expect(r.success).toBe(false)
    expect(r.error!.issues[0].path).toEqual([1])
    expect(r.error!.issues[0].message).toBe(
      'expected a constant name like UFFD_FEATURE_RWP (capitals, digits and _), got "prot_write"'
    )
  })

  it("UFFDIO_API.2const: ioctl sets accept UFFDIO_X for the _UFFDIO_X bit", () => {
    expect(good(ioctls, ["UFFDIO_RWPROTECT", "_UFFDIO_SET_MODE"])).toEqual({
      names: ["_UFFDIO_RWPROTECT", "_UFFDIO_SET_MODE"]
    })
    expect(good(ioctls, 7)).toEqual({ raw: 7 })
  })
})

describe("range and name", () => {
  it("spec Values: range is { start: address, len: size }", () => {
    expect(good(range, { start: "m+4KiB", len: "8KiB" })).toEqual({ start: { base: "m", offset: 4096 }, len: 8192 })
  })

  it("range rejects unknown keys, listing the valid ones", () => {
    const r = range.safeParse({ start: "m", len: 1, length: 4096 })
    expect(r.error!.issues.map((i) => i.message)).toEqual([
      'unknown key "length" (did you mean "len"?); valid keys: start, len'
    ])
  })

  it("range rejects a non-mapping", () => {
    expect(bad(range, "m")).toBe('expected a range like { start: buf, len: 4KiB }, got "m"')
  })

  it.each(["guest_mem", "a", "_x", "f.1-b"])("accepts the name %j", (input) => {
    expect(good(name, input)).toBe(input)
  })

  it.each(["1m", "a+b", "", "a b", 3])("rejects the name %j", (input) => {
    expect(bad(name, input)).toMatch(/^expected a name like "guest_mem"/)
  })
})

describe("value spellings round-trip", () => {
  const units = [
    ["B", 1],
    ["KiB", 2 ** 10],
    ["MiB", 2 ** 20],
    ["GiB", 2 ** 30]
  ] as const

  fcIt.prop([fc.integer({ min: 0, max: 2 ** 20 }), fc.constantFrom(...units)])(
    "N<unit> is N times the unit",
    (n, [unit, mult]) => {
      expect(good(size, `${n}${unit}`)).toBe(n * mult)
      expect(good(size, n * mult)).toBe(n * mult)
    }
  )

  fcIt.prop([fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom(["ns", 1], ["us", 1e3], ["ms", 1e6], ["s", 1e9])])(
    "N<unit> durations are exact integer ns",
    (n, [unit, mult]) => {
      if (n * mult <= Number.MAX_SAFE_INTEGER) expect(good(duration, `${n}${unit}`)).toBe(n * mult)
      else expect(bad(duration, `${n}${unit}`)).toMatch(/below 2\^53/)
    }
  )

  fcIt.prop([fc.string({ unit: "grapheme-ascii", maxLength: 12 })])(
    "a size string either parses to a whole byte count or is rejected with a message",
    (text) => {
      const r = size.safeParse(text, { reportInput: true })
      if (r.success) expect(Number.isSafeInteger(r.data)).toBe(true)
      else expect(r.error.issues[0].message).toMatch(/^expected a (size|whole number of bytes)/)
    }
  )
})
