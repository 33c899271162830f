/**
 * parseScenario: text and file name in, a canonical Scenario or every error with file, path and
 * line:column out. YAML goes through `yaml` (parseDocument + LineCounter), JSON through a strict
 * reader of its own, so a .json file cannot use YAML-only syntax and still gets positions.
 */
import { LineCounter, parseDocument } from "yaml"
import type * as z from "zod"
import { readJson } from "./json.ts"
import { expected, show } from "./messages.ts"
import { type Scenario, scenarioSchema } from "./schema.ts"
import type { ScenarioError } from "./ScenarioError.ts"
import { lineColumn, locate, type PathSegment, pathAt, type SourceNode, yamlSourceTree } from "./source.ts"

export type ParseResult =
  | { readonly ok: true; readonly scenario: Scenario }
  | { readonly ok: false; readonly errors: readonly ScenarioError[] }

type Position = (offset: number) => { line: number; column: number }

interface Read {
  readonly value: unknown
  readonly root: SourceNode | undefined
  readonly position: Position
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  null: "null"
}

/** Messages for issues whose schema gave none. */
function fallbackMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return expected(TYPE_NAMES[issue.expected] ?? issue.expected)(issue)
    case "invalid_value":
      return expected(`one of ${issue.values.map((v) => String(v)).join(", ")}`)(issue)
    case "too_small":
      return issue.origin === "array"
        ? `expected at least ${issue.minimum} items`
        : expected(`a value >= ${issue.minimum}`)(issue)
    case "too_big":
      return issue.origin === "array"
        ? `expected at most ${issue.maximum} items`
        : expected(`a value <= ${issue.maximum}`)(issue)
    case "invalid_union":
      return expected("one of the allowed forms")(issue)
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
    default:
      return undefined
  }
}

function errorAt(
  file: string,
  read: Pick<Read, "position">,
  offset: number,
  path: PathSegment[],
  message: string
): ScenarioError {
  const { line, column } = read.position(offset)
  return { _tag: "ScenarioError", file, path, line, column, message }
}

function readYaml(text: string, file: string): Read | ScenarioError[] {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true, version: "1.2" })
  const position: Position = (offset) => {
    const { line, col } = lineCounter.linePos(offset)
    return { line, column: col }
  }
  const root = yamlSourceTree(doc)
  if (doc.errors.length > 0) {
    return doc.errors.map((e) => errorAt(file, { position }, e.pos[0], pathAt(root, e.pos[0]), yamlMessage(e.message)))
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 1000 }), root, position }
  } catch (e) {
    const message = e instanceof Error ? e.message : "cannot resolve the document"
    return [errorAt(file, { position }, 0, [], `invalid YAML: ${message}`)]
  }
}

/** yaml's messages, first line only, said as YAML errors. */
function yamlMessage(message: string): string {
  const first = message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")
  return `invalid YAML: ${first}`
}

function readJsonFile(text: string, file: string): Read | ScenarioError[] {
  const position = lineColumn(text)
  const r = readJson(text)
  if (!r.ok) return [errorAt(file, { position }, r.offset, r.path, `invalid JSON: ${r.message}`)]
  return { value: r.value, root: r.root, position }
}

/** Parse and validate one scenario file; `file` (ending in .yaml, .yml or .json) picks the syntax. */
export function parseScenario(text: string, file: string): ParseResult {
  const ext = /\.(ya?ml|json)$/i.exec(file)?.[1].toLowerCase()
  if (ext === undefined) {
    return {
      ok: false,
      errors: [{ _tag: "ScenarioError", file, path: [], message: "expected a .yaml, .yml or .json file" }]
    }
  }
  const read = ext === "json" ? readJsonFile(text, file) : readYaml(text, file)
  if (Array.isArray(read)) return { ok: false, errors: read }
  if (read.value === null || read.value === undefined) {
    return {
      ok: false,
      errors: [
        errorAt(file, read, 0, [], "the file is empty: expected a scenario mapping with name and steps or workload")
      ]
    }
  }
  const parsed = scenarioSchema.safeParse(read.value, { reportInput: true, error: fallbackMessage })
  if (parsed.success) return { ok: true, scenario: parsed.data }
  return { ok: false, errors: issuesToErrors(parsed.error.issues, read, file) }
}

/**
 * A union that failed as a whole is reported through the one option whose type matched the input
 * (a list given where `all` or a list is expected: the list's own errors), when there is one.
 */
function throughUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [issue]
  const typeMismatch = (i: z.core.$ZodIssue) =>
    i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value")
  const matched = issue.errors.filter((list) => list.length > 0 && !list.some(typeMismatch))
  if (matched.length !== 1) return [issue]
  return matched[0].flatMap((i) => throughUnion({ ...i, path: [...issue.path, ...i.path] }))
}

function issuesToErrors(issues: readonly z.core.$ZodIssue[], read: Read, file: string): ScenarioError[] {
  const errors: { offset: number; error: ScenarioError; missing: string | null; unknownIn: string | null }[] = []
  const seen = new Set<string>()
  for (const issue of issues.flatMap(throughUnion)) {
    const unknownKey = issue.code === "unrecognized_keys"
    const path: PathSegment[] = [
      ...issue.path.filter((p) => typeof p !== "symbol"),
      ...(unknownKey ? [issue.keys[0]] : [])
    ]
    const offset = locate(read.root, path, unknownKey) ?? 0
    const message = issue.message.length > 0 ? issue.message : `invalid value ${show(issue.input)}`
    const key = `${path.join("\u0000")}\u0001${message}`
    if (seen.has(key)) continue
    seen.add(key)
    const parent = path.slice(0, -1).join("\u0000")
    const missing = issue.input === undefined && !unknownKey ? parent : null
    errors.push({
      offset,
      error: errorAt(file, read, offset, path, message),
      missing,
      unknownIn: unknownKey ? parent : null
    })
  }
  // A key reported missing next to an unknown key is most likely that key misspelt: the unknown key
  // explains it, so it comes first.
  for (const e of errors) {
    if (e.missing === null) continue
    const typo = errors.find((u) => u.unknownIn === e.missing)
    if (typo !== undefined) e.offset = typo.offset + 0.5
  }
  errors.sort((a, b) => a.offset - b.offset)
  return errors.map((e) => e.error)
}
