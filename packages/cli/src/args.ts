// argv → a command. node:util parseArgs is enough for this command set; errors are values, not throws.
import { parseArgs } from "node:util"

export type Command =
  | {
      readonly cmd: "run"
      readonly files: readonly string[]
      readonly seed: number | undefined
      readonly trace: string | undefined
      readonly json: boolean
    }
  | { readonly cmd: "check"; readonly files: readonly string[]; readonly json: boolean }
  | { readonly cmd: "schema" }
  | { readonly cmd: "help" }
  | { readonly cmd: "version" }

export interface UsageError {
  readonly _tag: "UsageError"
  readonly message: string
}

export const USAGE = `usage:
  rwpsim run FILE... [--seed N] [--trace PATH] [--json]   run scenarios (exit 0 ok, 1 expectation failed, 2 invalid)
  rwpsim check FILE... [--json]                          validate scenarios only
  rwpsim schema                                          print the JSON Schema of scenario files
  rwpsim --version | --help`

const usage = (message: string): UsageError => ({ _tag: "UsageError", message })

/** Seeds are integers from 0 to 2^53-1, written in decimal (or 0x hex). */
export function parseSeed(text: string): number | undefined {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) return undefined
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : undefined
}

export function parseCommand(argv: readonly string[]): Command | UsageError {
  const [cmd, ...rest] = argv
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") return { cmd: "help" }
  if (cmd === "--version" || cmd === "-V") return { cmd: "version" }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...rest],
      allowPositionals: true,
      strict: true,
      options: {
        seed: { type: "string" },
        trace: { type: "string" },
        json: { type: "boolean", default: false }
      }
    })
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e))
  }
  const { values, positionals } = parsed
  const json = values.json === true
  switch (cmd) {
    case "run": {
      if (positionals.length === 0) return usage("run: no scenario file given")
      let seed: number | undefined
      if (typeof values.seed === "string") {
        seed = parseSeed(values.seed)
        if (seed === undefined) return usage(`--seed: expected an integer from 0 to 2^53-1, got "${values.seed}"`)
      }
      const trace = typeof values.trace === "string" ? values.trace : undefined
      return { cmd: "run", files: positionals, seed, trace, json }
    }
    case "check":
      if (positionals.length === 0) return usage("check: no scenario file given")
      if (values.seed !== undefined || values.trace !== undefined) return usage("check takes no --seed or --trace")
      return { cmd: "check", files: positionals, json }
    case "schema":
      if (positionals.length > 0) return usage("schema takes no arguments")
      return { cmd: "schema" }
    default:
      return usage(`unknown command "${cmd}"`)
  }
}
