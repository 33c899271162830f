import { describe, expect, it } from "vitest"
import { OP_NAMES, parseScenario, scenarioJsonSchema } from "../src/index.ts"

type Json = Record<string, unknown>

/** Every [path, property schema] of every object schema in the document. */
function properties(node: unknown, path = "#"): [string, Json][] {
  if (node === null || typeof node !== "object") return []
  const out: [string, Json][] = []
  const o = node as Json
  if (o.properties !== undefined) {
    for (const [k, v] of Object.entries(o.properties as Json)) out.push([`${path}/${k}`, v as Json])
  }
  for (const [k, v] of Object.entries(o)) {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) out.push(...properties(x, `${path}/${k}/${i}`))
    } else if (typeof v === "object") out.push(...properties(v, `${path}/${k}`))
  }
  return out
}

describe("scenarioJsonSchema", () => {
  const schema = scenarioJsonSchema()

  it("is a draft 2020-12 object schema of the top level, closed to unknown keys", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema")
    expect(schema.type).toBe("object")
    expect(schema.additionalProperties).toBe(false)
    expect(Object.keys(schema.properties as Json)).toEqual([
      "name",
      "description",
      "seed",
      "machine",
      "steps",
      "workload",
      "schedule",
      "expect"
    ])
    expect(schema.required).toEqual(["name"])
  })

  it("describes every field, saying its default or that it is required or optional", () => {
    const props = properties(schema)
    expect(props.length).toBeGreaterThan(150)
    const undocumented = props.filter(([, p]) => typeof p.description !== "string").map(([path]) => path)
    expect(undocumented).toEqual([])
    const unsaid = props
      .filter(([path]) => !/^#\/properties\/steps\/items\/[^/]+$/.test(path)) // the op keys: one per step
      .filter(([, p]) => !/Default|Required|Optional/.test(String(p.description)) && p.$ref === undefined)
      .map(([path]) => path)
    expect(unsaid).toEqual([])
  })

  it("gives defaults in the input form (what a user writes)", () => {
    const machine = (schema.properties as Json).machine as Json
    const mprops = machine.properties as Json
    expect((mprops.page_size as Json).default).toBe(4096)
    expect((mprops.vcpus as Json).default).toBe(1)
    const workload = (schema.properties as Json).workload as Json
    const storage = (workload.properties as Json).storage as Json
    expect(((storage.properties as Json).bandwidth as Json).default).toBe("2GiB/s")
    expect(((storage.properties as Json).latency as Json).default).toBe("50us")
  })

  it("the defaults it states parse back through the schema", () => {
    const m = (schema.properties as Json).machine as Json
    const defaults = Object.fromEntries(Object.entries(m.properties as Json).map(([k, v]) => [k, (v as Json).default]))
    const r = parseScenario(JSON.stringify({ name: "d", machine: defaults, steps: [] }), "d.json")
    expect(r.ok).toBe(true)
  })

  it("a step is a one-key mapping of the ops", () => {
    const steps = (schema.properties as Json).steps as Json
    const step = steps.items as Json
    expect(step).toMatchObject({ type: "object", additionalProperties: false, minProperties: 1, maxProperties: 1 })
    expect(Object.keys(step.properties as Json)).toEqual(OP_NAMES)
  })

  it("value types are shared definitions accepting their string forms", () => {
    const defs = schema.$defs as Json
    for (const id of ["size", "duration", "percentage", "bandwidth", "address", "flags", "range", "name"]) {
      expect(defs[id], id).toBeDefined()
    }
    const size = defs.size as { anyOf: Json[] }
    const pattern = new RegExp(String(size.anyOf.find((s) => s.type === "string")!.pattern))
    expect(pattern.test("4KiB")).toBe(true)
    expect(pattern.test("4kb")).toBe(false)
  })

  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema)
  })
})
