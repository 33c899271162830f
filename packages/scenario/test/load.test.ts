import { describe, expect, it } from "vitest"
import { formatScenarioError, parseScenario, type ScenarioError } from "../src/index.ts"

function errors(text: string, file = "scenarios/x.yaml"): readonly ScenarioError[] {
  const r = parseScenario(text, file)
  if (r.ok) throw new Error(`${file} parsed but should not have`)
  return r.errors
}

/** The first error, formatted: the line a user sees first. */
function first(text: string, file = "scenarios/x.yaml"): string {
  return formatScenarioError(errors(text, file)[0])
}

const yaml = (...lines: string[]) => `${lines.join("\n")}\n`

describe("parseScenario: schema errors give file, path and line:column", () => {
  it("unknown key, with the key's position and the valid keys", () => {
    const e = errors(yaml("name: x", "machine:", "  vcpus: 2", "  vcpuss: 3", "steps: []"))[0]
    expect(e).toMatchObject({
      _tag: "ScenarioError",
      file: "scenarios/x.yaml",
      path: ["machine", "vcpuss"],
      line: 4,
      column: 3
    })
    expect(e.message).toBe(
      'unknown key "vcpuss" (did you mean "vcpus"?); valid keys: arch, isa_extensions, page_size, kernel, vcpus, tlb, costs'
    )
  })

  it("unknown top-level key", () => {
    expect(first(yaml("name: x", "step: []"))).toMatch(
      /^scenarios\/x\.yaml:2:1: step: unknown key "step" \(did you mean "steps"\?\); valid keys: name, description, seed/
    )
  })

  it("wrong type", () => {
    expect(first(yaml("name: x", "seed: seven", "steps: []"))).toBe(
      'scenarios/x.yaml:2:7: seed: expected a seed: an integer from 0 to 2^53-1, got "seven"'
    )
  })

  it("bad size, in the brief's exact form", () => {
    const text = yaml(
      "name: x",
      "steps:",
      "  - userfaultfd: { as: u }",
      "  - mmap:",
      "      as: m",
      "      length: 4kb"
    )
    expect(first(text)).toBe(
      'scenarios/x.yaml:6:15: steps[1].mmap.length: expected a size like 4096 or "4KiB" (units B, KiB, MiB, GiB, TiB), got "4kb"'
    )
  })

  it("bad duration", () => {
    expect(first(yaml("name: x", "steps:", "  - sleep: { duration: 10 minutes }"))).toBe(
      'scenarios/x.yaml:3:24: steps[0].sleep.duration: expected a duration like 1000 (ns) or "50us" (units ns, us, ms, s), got "10 minutes"'
    )
  })

  it("missing required key points at the mapping that lacks it", () => {
    expect(first(yaml("name: x", "steps:", "  - mmap: { as: m }"))).toBe(
      'scenarios/x.yaml:3:11: steps[0].mmap.length: required: a size like 4096 or "4KiB" (units B, KiB, MiB, GiB, TiB)'
    )
  })

  it("missing name", () => {
    expect(first(yaml("steps: []"))).toBe("scenarios/x.yaml:1:1: name: required: a name: a short human title")
  })

  it("unknown op names the op and lists the valid ones", () => {
    const e = errors(yaml("name: x", "steps:", "  - mmap: { as: m, length: 4KiB }", "  - mmapp: { as: x }"))[0]
    expect(e).toMatchObject({ path: ["steps", 1, "mmapp"], line: 4, column: 5 })
    expect(e.message).toMatch(
      /^unknown op "mmapp" \(did you mean "mmap"\?\); valid ops: memfd_create, mmap, mprotect, /
    )
    expect(e.message).toContain("PAGEMAP_SCAN")
  })

  it("expect beside the op instead of inside it gets a hint", () => {
    const e = errors(yaml("name: x", "steps:", "  - read: { vcpu: 0, addr: 4096 }", "    expect: { value: 1 }"))[0]
    expect(e).toMatchObject({ path: ["steps", 0, "expect"], line: 4, column: 5 })
    expect(e.message).toMatch(/expect goes inside the op's arguments/)
  })

  it("two ops in one step", () => {
    const e = errors(yaml("name: x", "steps:", "  - { sleep: { duration: 1 }, migrate: { addr: 0, length: 0 } }"))[0]
    expect(e).toMatchObject({
      path: ["steps", 0],
      line: 3,
      column: 5,
      message: "expected one op per step, got 2: migrate, sleep"
    })
  })

  it("an empty step", () => {
    expect(first(yaml("name: x", "steps:", "  -"))).toBe(
      "scenarios/x.yaml:3:4: steps[0]: expected a step: a one-key mapping { OP: ARGS }, got null"
    )
  })

  it("duplicate as name, at the second one, naming the first", () => {
    const e = errors(yaml("name: x", "steps:", "  - mmap: { as: m, length: 4KiB }", "  - userfaultfd: { as: m }"))[0]
    expect(e).toMatchObject({ path: ["steps", 1, "userfaultfd", "as"], line: 4, column: 24 })
    expect(e.message).toBe(
      'the name "m" is already given by steps[0].mmap.as (files, mappings, userfaultfds and storage objects share one namespace)'
    )
  })

  it("vcpu out of range", () => {
    const text = yaml(
      "name: x",
      "machine: { vcpus: 2 }",
      "steps:",
      "  - mmap: { as: m, length: 4KiB }",
      "  - read: { vcpu: 2, addr: m }"
    )
    expect(first(text)).toBe(
      "scenarios/x.yaml:5:19: steps[1].read.vcpu: expected a vCPU number below machine.vcpus (2), got 2"
    )
  })

  it("a reference to a mapping that does not exist", () => {
    const text = yaml(
      "name: x",
      "steps:",
      "  - mmap: { as: buf, length: 4KiB }",
      "  - read: { vcpu: 0, addr: bfu+4KiB }"
    )
    expect(first(text)).toBe('scenarios/x.yaml:4:28: steps[1].read.addr: no mapping named "bfu"; mappings: buf')
  })

  it("several errors, one per line, in file order; the first stands alone", () => {
    const text = yaml(
      "name: x",
      "seed: -1",
      "steps:",
      "  - sleep: { duration: 1.5ns }",
      "  - sleep: { duration: 2 }",
      "bogus: 1"
    )
    const lines = errors(text).map(formatScenarioError)
    expect(lines).toHaveLength(3)
    expect(lines[0]).toBe("scenarios/x.yaml:2:7: seed: expected a seed: an integer from 0 to 2^53-1, got -1")
    expect(lines[1]).toBe(
      'scenarios/x.yaml:4:24: steps[0].sleep.duration: expected a whole number of nanoseconds (below 2^53), got "1.5ns"'
    )
    expect(lines[2]).toMatch(/^scenarios\/x\.yaml:6:1: bogus: unknown key "bogus"/)
    for (const line of lines) expect(line).not.toContain("\n")
  })

  it("a block sequence under a block mapping gives positions inside it", () => {
    const text = yaml(
      "name: x",
      "workload:",
      "  duration: 1s",
      "  memory: { size: 1MiB }",
      "  guest:",
      "    phases:",
      "      - duration: 1s",
      "        pattern: zipff"
    )
    expect(first(text)).toBe(
      'scenarios/x.yaml:8:18: workload.guest.phases[0].pattern: expected a pattern: sequential, uniform, zipf, hot_cold, got "zipff"'
    )
  })

  it("aliases are followed, and errors point at the alias", () => {
    const text = yaml("name: x", "steps:", "  - sleep: { duration: &d 1h }", "  - sleep: { duration: *d }")
    const lines = errors(text).map(formatScenarioError)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^scenarios\/x\.yaml:3:27: steps\[0\]\.sleep\.duration: expected a duration/)
    expect(lines[1]).toMatch(/^scenarios\/x\.yaml:4:24: steps\[1\]\.sleep\.duration: expected a duration/)
  })
})

describe("parseScenario: YAML syntax errors", () => {
  it("an unclosed flow mapping", () => {
    const e = errors(yaml("name: x", "steps:", "  - mmap: { as: m, length: 4KiB"))[0]
    expect(e.line).toBeGreaterThanOrEqual(3)
    expect(e.column).toBeGreaterThanOrEqual(1)
    expect(e.message).toMatch(/^invalid YAML: /)
  })

  it("a duplicate key", () => {
    const e = errors(yaml("name: x", "seed: 1", "seed: 2", "steps: []"))[0]
    expect(e).toMatchObject({ line: 3, column: 1 })
    expect(e.message).toBe("invalid YAML: Map keys must be unique")
  })

  it("bad indentation inside a step, with the path of the step", () => {
    const e = errors(yaml("name: x", "steps:", "  - mmap:", "      as: m", "     length: 4KiB"))[0]
    expect(e.message).toMatch(/^invalid YAML: /)
    expect(e.line).toBe(5)
  })

  it("a tab used for indentation", () => {
    const e = errors("name: x\nsteps:\n\t- sleep: { duration: 1 }\n")[0]
    expect(e).toMatchObject({ line: 3 })
    expect(e.message).toMatch(/^invalid YAML: /)
  })

  it("two documents in one file", () => {
    const e = errors(yaml("name: x", "steps: []", "---", "name: y"))[0]
    expect(e.line).toBe(3)
    expect(e.message).toMatch(/^invalid YAML: .*multiple documents/)
  })

  it("an empty file", () => {
    expect(first("")).toBe(
      "scenarios/x.yaml:1:1: the file is empty: expected a scenario mapping with name and steps or workload"
    )
  })

  it("a top-level list", () => {
    expect(first("- name: x\n")).toMatch(
      /^scenarios\/x\.yaml:1:1: expected a scenario: a mapping with name and steps or workload, got a list$/
    )
  })

  it("formatted syntax errors are one line", () => {
    for (const text of ["name: [x\n", "a: b: c\n", "name: x\n  bad: 1\n", "? [a\n"]) {
      const lines = errors(text).map(formatScenarioError)
      expect(lines[0]).toMatch(/^scenarios\/x\.yaml:\d+:\d+: /)
      for (const l of lines) expect(l).not.toContain("\n")
    }
  })
})

describe("parseScenario: JSON", () => {
  const json = (...lines: string[]) => lines.join("\n")

  it("a valid JSON scenario parses like its YAML twin", () => {
    const text = json('{ "name": "x",', '  "steps": [ { "mmap": { "as": "m", "length": "8KiB" } } ] }')
    const a = parseScenario(text, "x.json")
    const b = parseScenario(text, "x.yaml")
    expect(a.ok && b.ok).toBe(true)
    expect(a).toEqual(b)
  })

  it("schema errors get line:column in JSON too", () => {
    const text = json(
      "{",
      '  "name": "x",',
      '  "steps": [',
      '    { "mmap": { "as": "m", "length": "4kb" } }',
      "  ]",
      "}"
    )
    expect(first(text, "s.json")).toBe(
      's.json:4:38: steps[0].mmap.length: expected a size like 4096 or "4KiB" (units B, KiB, MiB, GiB, TiB), got "4kb"'
    )
  })

  it("unknown key in JSON points at the key", () => {
    const text = json("{", '  "name": "x",', '  "steps": [],', '  "sede": 1', "}")
    expect(errors(text, "s.json")[0]).toMatchObject({ path: ["sede"], line: 4, column: 3 })
  })

  it.each([
    ["a trailing comma", '{ "name": "x", "steps": [1,] }', 1, 28, "trailing comma before ]"],
    [
      "a comment",
      '{\n  // hi\n  "name": "x" }',
      2,
      3,
      "expected a key in double quotes, got a comment (comments are YAML only: use .yaml)"
    ],
    [
      "single quotes",
      "{ 'name': 'x' }",
      1,
      3,
      "expected a key in double quotes, got a single quote (JSON strings use double quotes)"
    ],
    [
      "an unquoted string",
      '{ "name": x }',
      1,
      11,
      "expected a JSON value, got an unquoted word (strings need double quotes)"
    ],
    ["a duplicate key", '{ "name": "x",\n  "name": "y" }', 2, 3, 'duplicate key "name"'],
    ["a missing comma", '{ "name": "x"\n  "steps": [] }', 2, 3, 'expected "," or "}" in an object, got "\\""'],
    ["an unterminated string", '{ "name": "x', 1, 11, "unterminated string"],
    [
      "text after the value",
      '{ "name": "x" } x',
      1,
      17,
      'expected the end of the file after the top-level value, got "x"'
    ],
    ["an empty file", "  \n", 2, 1, "the file is empty: expected a JSON object"],
    ["YAML flow syntax", "{ name: x }", 1, 3, 'expected a key in double quotes, got "n"']
  ])("invalid JSON: %s", (_what, text, line, column, message) => {
    const e = errors(text, "s.json")[0]
    expect(e).toMatchObject({ file: "s.json", line, column, message: `invalid JSON: ${message}` })
  })

  it("a JSON syntax error names the path it is in", () => {
    const text = json(
      "{",
      '  "name": "x",',
      '  "steps": [',
      '    { "mmap": { "as": "m", "length": 4096, } }',
      "  ]",
      "}"
    )
    const e = errors(text, "s.json")[0]
    expect(e).toMatchObject({ path: ["steps", 0, "mmap"], line: 4 })
    expect(formatScenarioError(e)).toMatch(/^s\.json:4:\d+: steps\[0\]\.mmap: invalid JSON: trailing comma before \}$/)
  })

  it("JSON that is valid YAML but not JSON is rejected in .json files and accepted in .yaml", () => {
    const text = '{ "name": "x", "steps": [], } # comment'
    expect(parseScenario(text, "a.yaml").ok).toBe(true)
    expect(parseScenario(text, "a.json").ok).toBe(false)
  })

  it("a __proto__ key is an unknown key, not a prototype", () => {
    const e = errors('{ "name": "x", "steps": [], "__proto__": { "seed": 5 } }', "p.json")[0]
    expect(e.path).toEqual(["__proto__"])
  })
})

describe("parseScenario: files", () => {
  it("rejects other extensions", () => {
    expect(errors("name: x\nsteps: []\n", "x.toml")).toEqual([
      { _tag: "ScenarioError", file: "x.toml", path: [], message: "expected a .yaml, .yml or .json file" }
    ])
  })

  it("accepts .yml and upper-case extensions", () => {
    expect(parseScenario("name: x\nsteps: []\n", "x.yml").ok).toBe(true)
    expect(parseScenario("name: x\nsteps: []\n", "X.YAML").ok).toBe(true)
  })

  it("formatScenarioError leaves out what is unknown", () => {
    expect(formatScenarioError({ _tag: "ScenarioError", file: "f.yaml", path: [], message: "no such file" })).toBe(
      "f.yaml: no such file"
    )
    expect(
      formatScenarioError({ _tag: "ScenarioError", file: "f.yaml", path: ["steps", 2, "odd key"], message: "m" })
    ).toBe('f.yaml: steps[2]["odd key"]: m')
  })
})
