/**
 * A strict JSON reader (RFC 8259, as JSON.parse) that also returns the source tree, so that schema
 * errors in .json files get a line:column, and syntax errors get one a reader can act on.
 * YAML-only syntax (comments, single quotes, unquoted strings, trailing commas) is an error here.
 */
import type { PathSegment, SourceEntry, SourceNode } from "./source.ts"

export type JsonRead =
  | { readonly ok: true; readonly value: unknown; readonly root: SourceNode }
  | { readonly ok: false; readonly offset: number; readonly path: PathSegment[]; readonly message: string }

const MAX_DEPTH = 512
const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

class JsonSyntaxError {
  constructor(
    readonly offset: number,
    readonly message: string
  ) {}
}

/** Parse `text` as JSON, with the range of every node. */
export function readJson(text: string): JsonRead {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const path: PathSegment[] = []

  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(at, message)
  }
  const found = (): string => {
    if (i >= text.length) return "the end of the file"
    const c = text[i]
    if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*"))
      return "a comment (comments are YAML only: use .yaml)"
    if (c === "'") return "a single quote (JSON strings use double quotes)"
    return JSON.stringify(c)
  }
  const skip = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 32 || c === 9 || c === 10 || c === 13) i++
      else break
    }
  }

  const value = (depth: number): [unknown, SourceNode] => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`)
    skip()
    const start = i
    const c = text[i]
    if (c === "{") return object(depth, start)
    if (c === "[") return array(depth, start)
    if (c === '"') {
      const s = string()
      return [s, { kind: "scalar", start, end: i }]
    }
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null]
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length
        return [v, { kind: "scalar", start, end: i }]
      }
    }
    NUMBER_RE.lastIndex = i
    const m = NUMBER_RE.exec(text)
    if (m !== null && m[0].length > 0 && m[0] !== "-") {
      i += m[0].length
      return [Number(m[0]), { kind: "scalar", start, end: i }]
    }
    if (i < text.length && /[A-Za-z_]/.test(c))
      return fail(`expected a JSON value, got an unquoted word (strings need double quotes)`)
    return fail(`expected a JSON value, got ${found()}`)
  }

  const string = (): string => {
    const start = i
    i++
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 34) {
        i++
        return JSON.parse(text.slice(start, i)) as string
      }
      if (c === 92) {
        const e = text[i + 1]
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail("invalid \\u escape in a string")
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else fail(`invalid escape \\${e ?? ""} in a string`)
      } else if (c < 32)
        fail(c === 10 ? "unterminated string (a line break inside a string)" : "a control character inside a string")
      else i++
    }
    return fail("unterminated string", start)
  }

  const object = (depth: number, start: number): [unknown, SourceNode] => {
    i++
    const out: Record<string, unknown> = {}
    const entries = new Map<string, SourceEntry>()
    skip()
    if (text[i] === "}") {
      i++
      return [out, { kind: "map", start, end: i, entries }]
    }
    for (;;) {
      skip()
      if (text[i] !== '"')
        fail(text[i] === "}" ? "trailing comma before }" : `expected a key in double quotes, got ${found()}`)
      const keyStart = i
      const key = string()
      if (entries.has(key)) fail(`duplicate key ${JSON.stringify(key)}`, keyStart)
      skip()
      if (text[i] !== ":") fail(`expected ":" after the key ${JSON.stringify(key)}, got ${found()}`)
      i++
      path.push(key)
      const [v, node] = value(depth + 1)
      path.pop()
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
      entries.set(key, { keyStart, value: node })
      skip()
      if (text[i] === ",") {
        i++
        continue
      }
      if (text[i] === "}") {
        i++
        return [out, { kind: "map", start, end: i, entries }]
      }
      fail(`expected "," or "}" in an object, got ${found()}`)
    }
  }

  const array = (depth: number, start: number): [unknown, SourceNode] => {
    i++
    const out: unknown[] = []
    const items: SourceNode[] = []
    skip()
    if (text[i] === "]") {
      i++
      return [out, { kind: "seq", start, end: i, items }]
    }
    for (;;) {
      skip()
      if (text[i] === "]") fail("trailing comma before ]")
      path.push(out.length)
      const [v, node] = value(depth + 1)
      path.pop()
      out.push(v)
      items.push(node)
      skip()
      if (text[i] === ",") {
        i++
        continue
      }
      if (text[i] === "]") {
        i++
        return [out, { kind: "seq", start, end: i, items }]
      }
      fail(`expected "," or "]" in an array, got ${found()}`)
    }
  }

  try {
    skip()
    if (i >= text.length) fail("the file is empty: expected a JSON object")
    const [v, root] = value(0)
    skip()
    if (i < text.length) fail(`expected the end of the file after the top-level value, got ${found()}`)
    return { ok: true, value: v, root }
  } catch (e) {
    if (e instanceof JsonSyntaxError) return { ok: false, offset: e.offset, path: [...path], message: e.message }
    throw e
  }
}
