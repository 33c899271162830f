// argv → a command. node:util parseArgs is enough for this command set; errors are values, not throws.
// Each command has its own options, so an option another command takes is still an error here.
import { type ParseArgsConfig, parseArgs } from "node:util"
import { parseAddressArg, parseDurationArg } from "@rwpsim/trace"
import type { ExploreCommand } from "./commands/explore.ts"
import type { SweepCommand } from "./commands/sweep.ts"
import { parseSeedSet, parseShard } from "./seeds.ts"

export interface TraceFilterArgs {
  readonly page: { readonly base: string | null; readonly offset: number; readonly text: string } | undefined
  readonly vcpu: number | undefined
  readonly from: number | undefined
  readonly to: number | undefined
  readonly ev: readonly string[] | undefined
}

export type Command =
  | {
      readonly cmd: "run"
      readonly files: readonly string[]
      readonly seed: number | undefined
      readonly trace: string | undefined
      readonly json: boolean
      /** --progress / --no-progress; undefined: a bar when stderr is a TTY and not --json. */
      readonly progress: boolean | undefined
      /** --mutant NAME (repeatable): deliberate kernel or VMM bugs to switch on (checked by `unknownMutant`). */
      readonly mutants: readonly string[]
    }
  | { readonly cmd: "check"; readonly files: readonly string[]; readonly json: boolean }
  | {
      readonly cmd: "trace"
      readonly file: string
      readonly filter: TraceFilterArgs
      readonly perfetto: string | undefined
      readonly color: boolean | undefined
    }
  | { readonly cmd: "diff"; readonly a: string; readonly b: string; readonly context: number }
  | { readonly cmd: "why"; readonly file: string; readonly page: NonNullable<TraceFilterArgs["page"]> }
  | { readonly cmd: "report"; readonly file: string; readonly html: string }
  | { readonly cmd: "schema" }
  | ExploreCommand
  | SweepCommand
  | { readonly cmd: "help" }
  | { readonly cmd: "version" }

export interface UsageError {
  readonly _tag: "UsageError"
  readonly message: string
}

export const USAGE = `usage:
  rwpsim run FILE... [--seed N] [--trace PATH] [--json] [--mutant NAME]...
                                                         run scenarios (exit 0 ok, 1 expectation failed, 2 invalid);
                                                         --mutant switches on a deliberate kernel or VMM bug
  rwpsim check FILE... [--json]                          validate scenarios only
  rwpsim explore FILE [--runs N] [--strategy random|pct] [--exhaustive] [--depth D] [--vary schedule|seed]
                 [--seed N] [--explore-seed N] [--out DIR] [--json] [--mutant NAME]...
                                                         one scenario under many schedules: each distinct outcome
                                                         with the command that replays it (exit 1 if one fails)
  rwpsim sweep FILE... --seeds 1..10000 [--jobs N] [--shard I/N] [--out PATH] [--hash] [--mutant NAME]...
                                                         every file under every seed on worker threads: JSONL rows,
                                                         a failure summary with replay commands (--shard /N: JOB_COMPLETION_INDEX)
  rwpsim trace FILE [--page ADDR] [--vcpu N] [--from DUR] [--to DUR] [--ev NAME[,NAME]]
                    [--perfetto OUT.json] [--color|--no-color]
                                                         read a trace (exit 2 on a malformed or truncated one)
  rwpsim diff A B [--context N]                          first divergence of two traces (exit 0 same, 1 differ, 2 bad)
  rwpsim why --page ADDR FILE                            the story of one page (ADDR like guest_mem+0x1000)
  rwpsim report FILE --html OUT.html                     a self-contained HTML report of a trace
  rwpsim schema                                          print the JSON Schema of scenario files
  rwpsim --version | --help
  (run: a progress bar on stderr when it is a terminal; --no-progress turns it off)`

const usage = (message: string): UsageError => ({ _tag: "UsageError", message })

/** Seeds are integers from 0 to 2^53-1, written in decimal (or 0x hex). */
export function parseSeed(text: string): number | undefined {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) return undefined
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : undefined
}

type Options = NonNullable<ParseArgsConfig["options"]>
type Values = { [k: string]: string | boolean | (string | boolean)[] | undefined }

const OPTIONS: Record<string, Options> = {
  run: {
    seed: { type: "string" },
    trace: { type: "string" },
    json: { type: "boolean", default: false },
    progress: { type: "boolean" },
    "no-progress": { type: "boolean" },
    mutant: { type: "string", multiple: true }
  },
  check: { json: { type: "boolean", default: false } },
  trace: {
    page: { type: "string" },
    vcpu: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    ev: { type: "string", multiple: true },
    perfetto: { type: "string" },
    color: { type: "boolean" },
    "no-color": { type: "boolean" }
  },
  diff: { context: { type: "string" } },
  why: { page: { type: "string" } },
  report: { html: { type: "string" } },
  explore: {
    runs: { type: "string" },
    strategy: { type: "string" },
    exhaustive: { type: "boolean", default: false },
    depth: { type: "string" },
    vary: { type: "string" },
    seed: { type: "string" },
    "explore-seed": { type: "string" },
    out: { type: "string" },
    json: { type: "boolean", default: false },
    mutant: { type: "string", multiple: true }
  },
  sweep: {
    seeds: { type: "string" },
    jobs: { type: "string" },
    shard: { type: "string" },
    out: { type: "string" },
    hash: { type: "boolean", default: false },
    progress: { type: "boolean" },
    "no-progress": { type: "boolean" },
    mutant: { type: "string", multiple: true }
  },
  schema: {}
}

function parse(cmd: string, rest: readonly string[]): { values: Values; positionals: string[] } | UsageError {
  try {
    const r = parseArgs({ args: [...rest], allowPositionals: true, strict: true, options: OPTIONS[cmd]! })
    return { values: r.values as Values, positionals: r.positionals }
  } catch (e) {
    return usage(`${cmd}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

const str = (v: Values[string]): string | undefined => (typeof v === "string" ? v : undefined)

function pageArg(text: string, flag: string): NonNullable<TraceFilterArgs["page"]> | UsageError {
  const a = parseAddressArg(text)
  return typeof a === "string" ? usage(`${flag}: ${a}`) : { ...a, text }
}

function traceFilter(values: Values): TraceFilterArgs | UsageError {
  let page: TraceFilterArgs["page"]
  const p = str(values.page)
  if (p !== undefined) {
    const r = pageArg(p, "--page")
    if ("_tag" in r) return r
    page = r
  }
  let vcpu: number | undefined
  const v = str(values.vcpu)
  if (v !== undefined) {
    if (!/^\d+$/.test(v)) return usage(`--vcpu: expected a vCPU number, got "${v}"`)
    vcpu = Number(v)
  }
  const times: { from?: number; to?: number } = {}
  for (const k of ["from", "to"] as const) {
    const t = str(values[k])
    if (t === undefined) continue
    const d = parseDurationArg(t)
    if (typeof d === "string") return usage(`--${k}: ${d}`)
    times[k] = d
  }
  const evs = values.ev
  const ev = Array.isArray(evs) ? evs.flatMap((e) => String(e).split(",")).filter((e) => e !== "") : undefined
  return { page, vcpu, from: times.from, to: times.to, ev }
}

/** --x / --no-x: true, false, or undefined when neither is given; both is an error. */
function toggle(values: Values, name: string): boolean | undefined | UsageError {
  const on = values[name] === true
  const off = values[`no-${name}`] === true
  if (on && off) return usage(`--${name} and --no-${name} together`)
  return on ? true : off ? false : undefined
}

export function parseCommand(argv: readonly string[]): Command | UsageError {
  const [cmd, ...rest] = argv
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") return { cmd: "help" }
  if (cmd === "--version" || cmd === "-V") return { cmd: "version" }
  if (!(cmd in OPTIONS)) return usage(`unknown command "${cmd}"`)
  const parsed = parse(cmd, rest)
  if ("_tag" in parsed) return parsed
  const { values, positionals } = parsed
  const json = values.json === true
  switch (cmd) {
    case "run": {
      if (positionals.length === 0) return usage("run: no scenario file given")
      let seed: number | undefined
      const s = str(values.seed)
      if (s !== undefined) {
        seed = parseSeed(s)
        if (seed === undefined) return usage(`--seed: expected an integer from 0 to 2^53-1, got "${s}"`)
      }
      const progress = toggle(values, "progress")
      if (typeof progress === "object") return progress
      const mutants = (Array.isArray(values.mutant) ? values.mutant : []).map(String)
      return { cmd: "run", files: positionals, seed, trace: str(values.trace), json, progress, mutants }
    }
    case "check":
      if (positionals.length === 0) return usage("check: no scenario file given")
      return { cmd: "check", files: positionals, json }
    case "trace": {
      if (positionals.length !== 1) return usage("trace: expected one trace file")
      const filter = traceFilter(values)
      if ("_tag" in filter) return filter
      const color = toggle(values, "color")
      if (typeof color === "object") return color
      return { cmd: "trace", file: positionals[0]!, filter, perfetto: str(values.perfetto), color }
    }
    case "diff": {
      if (positionals.length !== 2) return usage("diff: expected two trace files")
      const c = str(values.context) ?? "5"
      if (!/^\d+$/.test(c)) return usage(`--context: expected a number of lines, got "${c}"`)
      return { cmd: "diff", a: positionals[0]!, b: positionals[1]!, context: Number(c) }
    }
    case "why": {
      const p = str(values.page)
      if (p === undefined) return usage("why: --page ADDR is required (e.g. --page guest_mem+0x1000)")
      if (positionals.length !== 1) return usage("why: expected one trace file")
      const page = pageArg(p, "--page")
      if ("_tag" in page) return page
      return { cmd: "why", file: positionals[0]!, page }
    }
    case "sweep": {
      if (positionals.length === 0) return usage("sweep: no scenario file given")
      const spec = str(values.seeds)
      if (spec === undefined) return usage("sweep: --seeds is required (e.g. --seeds 1..10000)")
      const seeds = parseSeedSet(spec)
      if (typeof seeds === "string") return usage(`--seeds: ${seeds}`)
      const j = str(values.jobs)
      if (j !== undefined && !/^[1-9]\d*$/.test(j))
        return usage(`--jobs: expected a number of worker threads, got "${j}"`)
      const sh = str(values.shard)
      const shard = sh === undefined ? undefined : parseShard(sh)
      if (typeof shard === "string") return usage(`--shard: ${shard}`)
      const progress = toggle(values, "progress")
      if (typeof progress === "object") return progress
      const mutants = (Array.isArray(values.mutant) ? values.mutant : []).map(String)
      return {
        cmd: "sweep",
        files: positionals,
        seeds,
        jobs: j === undefined ? undefined : Number(j),
        shard,
        out: str(values.out),
        progress,
        hash: values.hash === true,
        mutants
      }
    }
    case "explore": {
      if (positionals.length !== 1) return usage("explore: expected one scenario file")
      const count = (flag: string, text: string): number | UsageError =>
        /^[1-9]\d*$/.test(text) ? Number(text) : usage(`--${flag}: expected a whole number above 0, got "${text}"`)
      const runs = count("runs", str(values.runs) ?? "100")
      if (typeof runs === "object") return runs
      const depth = count("depth", str(values.depth) ?? "3")
      if (typeof depth === "object") return depth
      const strategy = str(values.strategy) ?? "random"
      if (strategy !== "random" && strategy !== "pct")
        return usage(`--strategy: expected random or pct, got "${strategy}"`)
      const vary = str(values.vary) ?? "schedule"
      if (vary !== "schedule" && vary !== "seed") return usage(`--vary: expected schedule or seed, got "${vary}"`)
      if (vary === "seed" && (strategy !== "random" || values.exhaustive === true))
        return usage("--vary seed goes with --strategy random only (pct and --exhaustive steer the schedule)")
      const seeds: (number | undefined)[] = []
      for (const flag of ["seed", "explore-seed"]) {
        const s = str(values[flag])
        const n = s === undefined ? undefined : parseSeed(s)
        if (s !== undefined && n === undefined)
          return usage(`--${flag}: expected an integer from 0 to 2^53-1, got "${s}"`)
        seeds.push(n)
      }
      return {
        cmd: "explore",
        file: positionals[0]!,
        runs,
        strategy,
        exhaustive: values.exhaustive === true,
        seed: seeds[0],
        exploreSeed: seeds[1],
        vary,
        depth,
        out: str(values.out) ?? ".rwpsim-explore",
        json,
        mutants: (Array.isArray(values.mutant) ? values.mutant : []).map(String)
      }
    }
    case "report": {
      const html = str(values.html)
      if (html === undefined) return usage("report: --html OUT.html is required")
      if (positionals.length !== 1) return usage("report: expected one trace file")
      return { cmd: "report", file: positionals[0]!, html }
    }
    default:
      if (positionals.length > 0) return usage("schema takes no arguments")
      return { cmd: "schema" }
  }
}

/**
 * The usage error for a --mutant name the simulator does not know, or undefined. Apart from
 * parseCommand so that argv parsing does not load the simulator (the trace readers start fast).
 */
export async function unknownMutant(mutants: readonly string[]): Promise<UsageError | undefined> {
  if (mutants.length === 0) return undefined
  const { isMutant, MUTANT_NAMES } = await import("@rwpsim/sim")
  const unknown = mutants.find((m) => !isMutant(m))
  return unknown === undefined
    ? undefined
    : usage(`--mutant: unknown mutant "${unknown}" (known: ${MUTANT_NAMES.join(", ")})`)
}
