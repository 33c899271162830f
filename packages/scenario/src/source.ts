/**
 * Source maps of scenario files: a small tree of node ranges, built from a YAML document or by the
 * JSON reader, so that a path inside the value (`steps[3].mmap.length`) finds its place in the text.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml"

export type PathSegment = string | number

/** A node's range in the text ([start, end) offsets) and its children. */
export type SourceNode =
  | {
      readonly kind: "map"
      readonly start: number
      readonly end: number
      readonly entries: ReadonlyMap<string, SourceEntry>
    }
  | { readonly kind: "seq"; readonly start: number; readonly end: number; readonly items: readonly SourceNode[] }
  | { readonly kind: "scalar"; readonly start: number; readonly end: number }

export interface SourceEntry {
  readonly keyStart: number
  readonly value: SourceNode
}

/** The source tree of a parsed YAML document (aliases followed, merge keys' targets not). */
export function yamlSourceTree(doc: Document): SourceNode | undefined {
  const seen = new Set<unknown>()
  const build = (node: unknown): SourceNode | undefined => {
    if (isAlias(node)) {
      const target = node.resolve(doc)
      if (target === undefined || seen.has(target)) return scalarOf(node)
      seen.add(target)
      const built = build(target)
      seen.delete(target)
      return built === undefined ? scalarOf(node) : { ...built, start: node.range?.[0] ?? built.start }
    }
    if (isMap(node)) {
      const entries = new Map<string, SourceEntry>()
      for (const pair of node.items) {
        if (!isPair(pair)) continue
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined
        const keyStart = (pair.key as Node | null)?.range?.[0]
        if (key === undefined || keyStart === undefined) continue
        const value = build(pair.value) ?? { kind: "scalar", start: keyStart, end: keyStart }
        if (!entries.has(key)) entries.set(key, { keyStart, value })
      }
      const [start, , end] = node.range ?? [0, 0, 0]
      return { kind: "map", start, end, entries }
    }
    if (isSeq(node)) {
      const items: SourceNode[] = []
      for (const item of node.items) items.push(build(item) ?? { kind: "scalar", start: node.range?.[0] ?? 0, end: 0 })
      const [start, , end] = node.range ?? [0, 0, 0]
      return { kind: "seq", start, end, items }
    }
    return scalarOf(node)
  }
  return build(doc.contents)
}

function scalarOf(node: unknown): SourceNode | undefined {
  const range = (node as Node | null)?.range
  return range === undefined || range === null ? undefined : { kind: "scalar", start: range[0], end: range[2] }
}

/**
 * The offset of `path` in the text: its value's start, or its key's start with `atKey`; when the
 * path leads off the tree (a missing key), the start of the deepest node on it.
 */
export function locate(root: SourceNode | undefined, path: readonly PathSegment[], atKey = false): number | undefined {
  let node = root
  if (node === undefined) return undefined
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]
    if (node.kind === "map") {
      const entry: SourceEntry | undefined = node.entries.get(String(segment))
      if (entry === undefined) return node.start
      if (atKey && i === path.length - 1) return entry.keyStart
      node = entry.value
    } else if (node.kind === "seq" && typeof segment === "number" && segment < node.items.length) {
      node = node.items[segment]
    } else return node.start
  }
  return node.start
}

/** The path of the deepest node whose range holds `offset` (where a syntax error sits). */
export function pathAt(root: SourceNode | undefined, offset: number): PathSegment[] {
  const path: PathSegment[] = []
  let node = root
  while (node !== undefined) {
    let next: SourceNode | undefined
    if (node.kind === "map") {
      for (const [key, entry] of node.entries) {
        if (offset >= entry.keyStart && offset < Math.max(entry.value.end, entry.keyStart + 1)) {
          path.push(key)
          next = entry.value
          break
        }
      }
    } else if (node.kind === "seq") {
      const i = node.items.findIndex((item) => offset >= item.start && offset < item.end)
      if (i >= 0) {
        path.push(i)
        next = node.items[i]
      }
    }
    node = next
  }
  return path
}

/** Line and column (1-based) of offsets in `text`. */
export function lineColumn(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0]
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1)
  return (offset) => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 }
  }
}
