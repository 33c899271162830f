// `rwpsim explore FILE --runs N --strategy random|pct [--exhaustive]`: one scenario under many
// schedules (packages/sim/src/explore.ts), each distinct outcome with the command that replays its
// first run. A run whose seed alone does not reproduce it (its choices were steered) gets a file:
// the scenario as written, with `seed` and a `schedule` key pinning every choice it made.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { basename, extname, join } from "node:path"
import { formatScenarioError, parseScenario, pinSchedule, type Scenario } from "@rwpsim/scenario"
import {
  applyMutants,
  type Exploration,
  explore,
  type Outcome,
  outcomeKey,
  runScenario,
  validateScenario
} from "@rwpsim/sim"
import type { Io } from "../output.ts"
import type { ExitCode } from "./run.ts"

export interface ExploreCommand {
  readonly cmd: "explore"
  readonly file: string
  readonly runs: number
  readonly strategy: "random" | "pct"
  /** --exhaustive: every schedule, depth-first over the choice tape (--runs bounds it). */
  readonly exhaustive: boolean
  /** --seed N: the scenario's seed (as for run). */
  readonly seed: number | undefined
  /** --explore-seed N: which schedules random and pct sample (default the scenario's seed). */
  readonly exploreSeed: number | undefined
  /** --vary schedule (default) | seed: random varies the choices, or the whole seed. */
  readonly vary: "schedule" | "seed"
  /** --depth D: pct's bug depth (D - 1 priority change points). */
  readonly depth: number
  /** --out DIR: where the schedule-pinned files go. */
  readonly out: string
  readonly json: boolean
  readonly mutants: readonly string[]
}

/** One outcome as reported: the sim's, with the replay command and the file written for it. */
interface Reported extends Outcome {
  readonly file: string | null
  readonly replay: string
  /** The pinned file, run again, gave the same outcome. */
  readonly verified: boolean
}

/** `stop`: asked to stop (Ctrl-C): the outcomes found so far are reported, exit 130. */
export function exploreCommand(c: ExploreCommand, io: Io, stop?: () => boolean): ExitCode {
  let text: string
  try {
    text = readFileSync(c.file, "utf8")
  } catch (e) {
    io.err(`rwpsim: ${c.file}: cannot read (${(e as { code?: string }).code ?? "EIO"})`)
    return 2
  }
  const parsed = parseScenario(text, c.file)
  const errors = parsed.ok ? validateScenario(parsed.scenario, c.file) : parsed.errors
  if (!parsed.ok || errors.length > 0) {
    for (const e of errors) io.err(formatScenarioError(e))
    return 2
  }
  const mutated = applyMutants(parsed.scenario, c.mutants)
  if (!mutated.ok) {
    io.err(`rwpsim: ${mutated.message}`)
    return 2
  }
  const scenario: Scenario = mutated.scenario
  let exploration: Exploration
  try {
    exploration = explore(scenario, {
      runs: c.runs,
      strategy: c.strategy,
      exhaustive: c.exhaustive,
      ...(c.seed === undefined ? {} : { seed: c.seed }),
      ...(c.exploreSeed === undefined ? {} : { exploreSeed: c.exploreSeed }),
      vary: c.vary,
      depth: c.depth,
      mutants: mutated.kernel,
      ...(stop === undefined ? {} : { stop })
    })
  } catch (e) {
    // a `schedule` key that does not fit the run is the user's input, not a crash
    if (typeof e === "object" && e !== null && (e as { _tag?: string })._tag === "ScheduleMismatch") {
      io.err(`rwpsim: ${c.file}: ${(e as { message?: string }).message}`)
      return 2
    }
    throw e
  }
  const flags = c.mutants.map((m) => ` --mutant ${m}`).join("")
  const stem = basename(c.file, extname(c.file))
  const reported: Reported[] = exploration.outcomes.map((o, i) => {
    if (!o.first.pinned) {
      const seedFlag = o.first.seed === scenario.seed ? "" : ` --seed ${o.first.seed}`
      return { ...o, file: null, replay: `rwpsim run ${c.file}${seedFlag}${flags}`, verified: true }
    }
    mkdirSync(c.out, { recursive: true })
    const file = join(c.out, `${stem}-${i + 1}.yaml`)
    const pinned = pinSchedule(text, o.first.seed, o.first.schedule)
    writeFileSync(file, pinned)
    // the file alone (with the same --mutant flags) replays the run: same outcome
    const again = parseScenario(pinned, file)
    const replay = again.ok ? applyMutants(again.scenario, c.mutants) : null
    let verified = false
    try {
      verified = replay?.ok === true && outcomeKey(runScenario(replay.scenario, { mutants: replay.kernel })) === o.key
    } catch {
      // a schedule that does not fit its own run: reported as not verified
    }
    return { ...o, file, replay: `rwpsim run ${file}${flags}`, verified }
  })
  const failing = reported.filter((o) => !o.ok).length
  const how = exploration.strategy === "exhaustive" ? "exhaustive" : `strategy ${exploration.strategy}`
  if (c.json) {
    io.out(
      JSON.stringify({
        scenario: c.file,
        name: scenario.name,
        seed: exploration.seed,
        explore_seed: exploration.exploreSeed,
        strategy: exploration.strategy,
        runs: exploration.runs,
        complete: exploration.complete,
        interrupted: exploration.interrupted,
        max_choices: exploration.maxChoices,
        outcomes: reported.map((o) => ({
          ok: o.ok,
          outcome: o.key,
          runs: o.runs,
          first_run: o.first.run,
          label: o.label,
          message: o.message,
          seed: o.first.seed,
          schedule: o.first.pinned ? o.first.schedule : null,
          file: o.file,
          replay: o.replay
        }))
      })
    )
  } else {
    const complete = exploration.interrupted
      ? ", interrupted (Ctrl-C)"
      : exploration.complete === null
        ? ""
        : exploration.complete
          ? ", every schedule covered"
          : `, stopped at --runs ${c.runs} before covering every schedule`
    io.out(
      `explore ${c.file} (${scenario.name}, seed ${exploration.seed}): ${exploration.runs} runs, ${how}${complete}; up to ${exploration.maxChoices} scheduler choices a run`
    )
    io.out(`${reported.length} distinct outcome(s), ${failing} failing`)
    for (const o of reported) {
      const share = ((100 * o.runs) / Math.max(1, exploration.runs)).toFixed(1)
      io.out("")
      io.out(`${o.ok ? "ok  " : "FAIL"}  ${o.runs} run(s) (${share}%), first run ${o.first.run}`)
      if (!o.ok) io.out(`      ${o.label}: ${o.message}`)
      io.out(`      replay: ${o.replay}`)
      if (o.file !== null) io.out(`      (${o.file} pins the run's ${o.first.schedule.length} scheduler choices)`)
      if (!o.verified) io.out("      WARNING: the pinned file did not replay to the same outcome")
    }
  }
  if (exploration.interrupted) {
    io.err(
      `rwpsim explore: interrupted after ${exploration.runs} of ${c.runs} runs: the outcomes above are those found so far`
    )
    return 130
  }
  return failing > 0 ? 1 : 0
}
