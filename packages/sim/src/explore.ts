// Interleaving exploration (`rwpsim explore`): one scenario run under many schedules, the runs
// grouped by outcome (ok, or which invariant or step failed, with the message's numbers taken
// out), each outcome with the first run that reached it and what reproduces that run: a seed, or
// the recorded choices to pin in the scenario's `schedule` key.
//
// Strategies steer the scheduler through the choice tape's policy (ChoiceTape.ts):
// - random: every choice drawn afresh from a per-run stream (or, with vary "seed", the scenario's
//   whole seed changes from run to run: guest accesses and schedule both);
// - pct: PCT-style (Burckhardt et al., ASPLOS 2010): a random priority per option position, the
//   highest-priority option taken at every choice, and depth-1 change points, tape indices drawn
//   over the tape's length, where the option just taken drops to the lowest priority;
// - exhaustive: depth-first over the tape: replay a prefix, take option 0 at every later choice,
//   then branch at each choice past the prefix; every schedule once, until `runs` is reached.
import type { KernelMutant } from "@rwpsim/kernel"
import { type ChoicePoint, type ChoicePolicy, type Prng, PrngStreams } from "@rwpsim/sched"
import type { Scenario } from "@rwpsim/scenario"
import type { RunResult } from "./result.ts"
import { runScenario } from "./run.ts"

export type ExploreStrategy = "random" | "pct"

export interface ExploreOptions {
  /** How many runs at most. */
  readonly runs: number
  readonly strategy: ExploreStrategy
  /** Enumerate every schedule (depth-first over the tape) instead of sampling; `runs` bounds it. */
  readonly exhaustive?: boolean
  /** The scenario's seed (`--seed N`); default the scenario's own. */
  readonly seed?: number
  /** The explorer's own seed (which schedules it samples); default derived from the scenario seed. */
  readonly exploreSeed?: number
  /** random only: "schedule" keeps the seed and varies the choices; "seed" runs seed, seed+1, ... */
  readonly vary?: "schedule" | "seed"
  /** pct: the bug depth d (d - 1 change points); default 3. */
  readonly depth?: number
  /** Kernel mutants to switch on (VMM bugs are applied to the scenario by the caller). */
  readonly mutants?: readonly KernelMutant[]
  /** Called after each run (progress). */
  readonly onRun?: (run: number, result: RunResult) => void
  /**
   * Asked to stop (Ctrl-C in `rwpsim explore`): read before each run and, as RunOptions.interrupted,
   * inside it. A run it cut short is not counted; the exploration so far comes back with
   * `interrupted` set.
   */
  readonly stop?: () => boolean
}

/** What reproduces one run: its seed, and its recorded choices when the seed alone does not. */
export interface Reproducer {
  readonly run: number
  readonly seed: number
  /** The run's choices; `pinned` says whether a replay needs them in the `schedule` key. */
  readonly schedule: readonly number[]
  readonly pinned: boolean
}

export interface Outcome {
  /** The normalised outcome: "ok", or the failures' labels and messages with numbers taken out. */
  readonly key: string
  readonly ok: boolean
  /** The first failure of the first run with this outcome (null when ok). */
  readonly label: string | null
  readonly message: string | null
  readonly runs: number
  readonly first: Reproducer
}

export interface Exploration {
  readonly strategy: ExploreStrategy | "exhaustive"
  readonly seed: number
  readonly exploreSeed: number
  readonly runs: number
  /** Distinct outcomes in order of first appearance. */
  readonly outcomes: readonly Outcome[]
  /** exhaustive: every schedule was run (null for the sampling strategies). */
  readonly complete: boolean | null
  /** The most choices one run made. */
  readonly maxChoices: number
  /** ExploreOptions.stop ended it before `runs` runs (and, exhaustive, before every schedule). */
  readonly interrupted: boolean
}

/** A failure's label: its invariant, or its step (index and op), or "expect" for the rest. */
export function failureLabel(f: RunResult["failures"][number]): string {
  if (f.invariant !== null) return f.invariant
  if (f.step !== null) return `step ${f.step} (${f.op})`
  return "expect"
}

/**
 * A message with what varies from run to run taken out: numbers (times, addresses, pages, values,
 * vCPUs) become N, hex addresses 0xN, and the parenthesised human times and violation counts go.
 */
export function normaliseMessage(message: string): string {
  return message
    .replace(/ \(\d+ violations in all; the first is shown\)/g, "")
    .replace(/\s*\((?:\d+(?:\.\d+)?(?:ns|us|ms|s))\)/g, "")
    .replace(/0x[0-9a-f]+/gi, "\u0000")
    .replace(/\d+(?:\.\d+)?/g, "N")
    .replaceAll("\u0000", "0xN")
}

/** The run's outcome, normalised so that runs that fail the same way share it. */
export function outcomeKey(result: RunResult): string {
  if (result.ok) return "ok"
  const seen = new Set<string>()
  for (const f of result.failures) seen.add(`${failureLabel(f)}: ${normaliseMessage(f.message)}`)
  return [...seen].join(" | ")
}

/** Picks at random from `prng`. */
function randomPolicy(prng: Prng): ChoicePolicy {
  return (c) => prng.nextInt(c.n)
}

/**
 * PCT over the tape: option positions get random priorities; each choice takes the
 * highest-priority position among its options; at a change point the one taken drops below all.
 */
function pctPolicy(prng: Prng, changePoints: ReadonlySet<number>): ChoicePolicy {
  const priority = new Map<number, number>()
  let lowest = 0
  const prio = (pos: number): number => {
    let p = priority.get(pos)
    if (p === undefined) {
      p = 1 + prng.nextInt(1 << 30)
      priority.set(pos, p)
    }
    return p
  }
  return (c: ChoicePoint) => {
    let best = 0
    for (let i = 1; i < c.n; i++) {
      const pos = c.among?.[i] ?? i
      if (prio(pos) > prio(c.among?.[best] ?? best)) best = i
    }
    if (changePoints.has(c.index)) priority.set(c.among?.[best] ?? best, --lowest)
    return best
  }
}

/** Runs `scenario` under many schedules and groups the runs by outcome. */
export function explore(scenario: Scenario, options: ExploreOptions): Exploration {
  const seed = options.seed ?? scenario.seed
  const exploreSeed = options.exploreSeed ?? seed
  const streams = new PrngStreams(exploreSeed)
  const outcomes = new Map<
    string,
    { key: string; ok: boolean; label: string | null; message: string | null; runs: number; first: Reproducer }
  >()
  let runs = 0
  let maxChoices = 0
  const stop = options.stop ?? (() => false)
  let interrupted = false
  const stopped = (): boolean => {
    if (!interrupted && stop()) interrupted = true
    return interrupted
  }
  const record = (result: RunResult, reproducer: Omit<Reproducer, "run" | "schedule">) => {
    // a run the stop cut short says nothing about its schedule
    if (result.interrupted !== undefined) {
      interrupted = true
      return
    }
    const run = runs++
    maxChoices = Math.max(maxChoices, result.schedule.length)
    const key = outcomeKey(result)
    const o = outcomes.get(key)
    if (o !== undefined) o.runs++
    else {
      const f = result.failures[0]
      outcomes.set(key, {
        key,
        ok: result.ok,
        label: f === undefined ? null : failureLabel(f),
        message: f?.message ?? null,
        runs: 1,
        first: { run, seed: reproducer.seed, schedule: result.schedule, pinned: reproducer.pinned }
      })
    }
    options.onRun?.(run, result)
  }
  const runWith = (s: number, policy?: ChoicePolicy) =>
    runScenario(scenario, {
      seed: s,
      ...(options.mutants === undefined ? {} : { mutants: options.mutants }),
      ...(policy === undefined ? {} : { policy }),
      interrupted: stop
    })
  const done = (strategy: Exploration["strategy"], complete: boolean | null): Exploration => ({
    strategy,
    seed,
    exploreSeed,
    runs,
    outcomes: [...outcomes.values()],
    complete: complete === null ? null : complete && !interrupted,
    maxChoices,
    interrupted
  })

  if (options.exhaustive === true) {
    // depth-first: each prefix is the picks of the policy's first choices; option 0 after it
    const stack: number[][] = [[]]
    while (stack.length > 0 && runs < options.runs && !stopped()) {
      const prefix = stack.pop()!
      const points: { n: number; pick: number }[] = []
      const result = runWith(seed, (c) => {
        const k = points.length
        const pick = k < prefix.length ? prefix[k]! : 0
        points.push({ n: c.n, pick })
        return pick
      })
      record(result, { seed, pinned: result.schedule.length > 0 })
      // the siblings at every choice past the prefix (those before it are its ancestors' to branch)
      for (let k = points.length - 1; k >= prefix.length; k--) {
        const head = points.slice(0, k).map((p) => p.pick)
        for (let v = points[k]!.n - 1; v >= 1; v--) stack.push([...head, v])
      }
    }
    return done("exhaustive", stack.length === 0)
  }

  // run 0 is the scenario as it stands: its own seed's schedule
  if (options.runs > 0 && !stopped()) {
    const base = runWith(seed)
    record(base, { seed, pinned: false })
  }
  const vary = options.vary ?? "schedule"
  const depth = Math.max(1, options.depth ?? 3)
  while (runs < options.runs && !stopped()) {
    const i = runs
    if (options.strategy === "random" && vary === "seed") {
      const s = (seed + i) % 2 ** 53
      record(runWith(s), { seed: s, pinned: false })
      continue
    }
    const prng = streams.stream(`explore.${i}`)
    if (options.strategy === "random") {
      const result = runWith(seed, randomPolicy(prng))
      record(result, { seed, pinned: result.schedule.length > 0 })
      continue
    }
    // pct: d - 1 change points over the longest tape seen so far
    const span = Math.max(1, maxChoices)
    const changes = new Set<number>()
    for (let d = 1; d < depth; d++) changes.add(prng.nextInt(span))
    const result = runWith(seed, pctPolicy(prng, changes))
    record(result, { seed, pinned: result.schedule.length > 0 })
  }
  return done(options.strategy, null)
}
