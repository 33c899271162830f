/**
 * Strict mappings: every mapping in a scenario rejects unknown keys (spec "Files": a typo must not
 * silently change a scenario), and says which keys it knows, with a guess at the one meant.
 */
import * as z from "zod"
import { show } from "./messages.ts"

/** Levenshtein distance, small strings only (keys and op names). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]
}

/** The known word closest to `word`, when it is close enough to be a likely typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 4)) + 1
  for (const k of known) {
    const a = word.toLowerCase()
    const b = k.toLowerCase()
    const prefix = Math.min(a.length, b.length) >= 3 && (a.startsWith(b) || b.startsWith(a))
    const d = a === b ? 0 : prefix ? 1 : distance(word, k)
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

/** The message for unknown keys of a mapping whose keys are `known` (`kind` is "key" or "op"). */
export function unknownKeys(keys: readonly string[], known: readonly string[], kind = "key"): string {
  const quoted = keys.map((k) => JSON.stringify(k)).join(", ")
  const guess = keys.length === 1 ? closest(keys[0], known) : undefined
  const hint = guess === undefined ? "" : ` (did you mean "${guess}"?)`
  return `unknown ${kind}${keys.length > 1 ? "s" : ""} ${quoted}${hint}; valid ${kind}s: ${known.join(", ")}`
}

/** z.strictObject whose errors say what the mapping is (`what`) and which keys it accepts. */
export function strict<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  const known = Object.keys(shape)
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") return unknownKeys(issue.keys, known)
      if (issue.code === "invalid_type") {
        return issue.input === undefined ? `required: ${what}` : `expected ${what}, got ${show(issue.input)}`
      }
      return undefined
    }
  })
}

/**
 * Refinement params: run only on a value with no issues so far. zod otherwise runs refinements after
 * "continuable" issues (a failed regex or minimum), on values that may not have their output shape.
 */
export const ONLY_VALID = { when: (payload: { readonly issues: readonly unknown[] }) => payload.issues.length === 0 }
