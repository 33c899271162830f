/**
 * ScenarioError: an invalid scenario file (exit 2). A plain, serialisable object that names the
 * file, the path inside it and, whenever the text is known, the line and column.
 */
import type { PathSegment } from "./source.ts"

export interface ScenarioError {
  readonly _tag: "ScenarioError"
  readonly file: string
  readonly path: readonly PathSegment[]
  /** 1-based */
  readonly line?: number
  /** 1-based, in UTF-16 code units */
  readonly column?: number
  readonly message: string
}

/** `steps[3].mmap.length`: how a path is written in messages. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = ""
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(p)) out += out === "" ? p : `.${p}`
    else out += `[${JSON.stringify(p)}]`
  }
  return out
}

/** One line: `file:line:column: path: message` (the parts that are known). */
export function formatScenarioError(e: ScenarioError): string {
  const where = e.line === undefined ? e.file : `${e.file}:${e.line}:${e.column ?? 1}`
  const path = formatPath(e.path)
  const message = e.message.replace(/\s*\n\s*/g, " ")
  return path === "" ? `${where}: ${message}` : `${where}: ${path}: ${message}`
}
