/** Error messages in the scenario format's own words: what was expected, what was found. */

/** A short rendering of a user's value for an error message. */
export function show(input: unknown): string {
  if (input === undefined) return "nothing"
  if (input === null) return "null"
  if (Array.isArray(input)) return input.length === 0 ? "[]" : "a list"
  if (typeof input === "object") return "a mapping"
  if (typeof input === "string") {
    const s = JSON.stringify(input)
    return s.length > 48 ? `${s.slice(0, 44)}..."` : s
  }
  return String(input)
}

/** An error function saying what was expected and what was found. */
export function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? `required: ${what}` : `expected ${what}, got ${show(issue.input)}`)
}
