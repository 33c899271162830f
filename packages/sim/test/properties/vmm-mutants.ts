// Hunting the deliberate VMM bugs (workload.vmm.bug) with the properties over whole runs, for
// `npm run mutants`. fast-check searches workloads and interleavings for a case that the correct
// VMM passes and the buggy one fails, shrinks it, and the case is written as a scenario file (the
// correct VMM's scenario: the bug is switched on by `rwpsim run FILE --mutant NAME`).
//
// The file pins the scheduler choices both runs share: the correct and the buggy run make the same
// choices until the bug changes what happens, and a case counts only if its hints are used up
// before that point. Then the pinned prefix replays both runs exactly (after it, the seed draws
// what it drew in both), so the file passes without the mutant and fails with it, and its trace
// with the mutant is byte for byte the hunted run's.
import type { VmmBug } from "@rwpsim/scenario"
import type { ArbWorkloadOptions } from "@rwpsim/scenario/testing"
import fc from "fast-check"
import { type Case, type CaseRun, parseText, pinnedText, runCase, runText, toYaml } from "./harness.ts"
import { promptWake } from "./prompt-wake.ts"
import { arbWorkloadCase } from "./runs.ts"

export interface VmmHunt {
  /** The property expected to kill it, as the table shows it. */
  readonly property: string
  /** Which workloads the hunt draws. */
  readonly options: ArbWorkloadOptions
  /** A property over the trace (beyond the invariants); the file then bounds the stall instead. */
  readonly trace?: (lines: readonly string[]) => string | null
}

// THP is no VMM concern: left out, so that what fast-check draws (and the files) stay put
const RWP: ArbWorkloadOptions = { thp: false, trackers: ["rwp"], maxVcpus: 3, maxDurationMs: 60, maxUnits: 2 }
const FILES: ArbWorkloadOptions = { ...RWP, backings: ["shmem", "hugetlb"] }

/** What kills each VMM bug, and over which runs it is hunted. */
export const VMM_HUNTS: Readonly<Record<VmmBug, VmmHunt>> = {
  "handler-ignores-missing": { property: "invariants (no_lost_wakeup)", options: FILES },
  "handler-resolves-evicting": {
    property: "invariants (no_data_loss)",
    options: { ...FILES, strategies: ["hot-scan"] }
  },
  "tracker-forgets-wake": {
    property: "prompt_wake (trace)",
    options: { ...RWP, strategies: ["hot-scan"] },
    trace: promptWake
  },
  "tracker-skips-punch": { property: "invariants (accounting)", options: FILES },
  "tracker-stale-scan": { property: "invariants (scan_soundness)", options: { ...RWP, strategies: ["hot-scan"] } },
  "handler-copy-wrong-offset": { property: "invariants (no_data_loss)", options: FILES },
  "tracker-evicts-async": { property: "invariants (no_data_loss)", options: { ...FILES, strategies: ["hot-scan"] } }
}

export interface VmmHuntResult {
  readonly killed: boolean
  /** The property that fired on the shrunk case (its first failure). */
  readonly property: string
  readonly text: string | null
  /** Tracker cycles of the shrunk run (a workload's steps). */
  readonly cycles: number
  readonly detail: string
  /** The file passes without the bug, fails with it, and its trace with it is the hunted run's. */
  readonly replays: boolean
}

/** The common prefix of two choice lists. */
function commonPrefix(a: readonly number[], b: readonly number[]): number[] {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return a.slice(0, i)
}

interface Pair {
  readonly good: CaseRun
  readonly bad: CaseRun
  /** Why the buggy run breaks the property (null: it does not). */
  readonly why: string | null
  /** The choices a file pins to replay both runs; null if the hints were not used up before they diverge. */
  readonly pinned: number[] | null
}

function runPair(c: Case, bug: VmmBug, h: VmmHunt): Pair {
  const trace = h.trace !== undefined
  const good = runCase(c, { trace })
  const bad = runCase(c, { mutants: [bug], trace })
  const fails = (r: CaseRun) => {
    const f = r.result.failures[0]
    if (f !== undefined) return `${f.invariant ?? "expect"}: ${f.message}`
    return h.trace?.(r.lines!) ?? null
  }
  const goodWhy = fails(good)
  let why = goodWhy === null ? fails(bad) : null
  // the file's witness of a trace property is a stall bound the correct run meets
  if (
    why !== null &&
    h.trace !== undefined &&
    !((bad.result.metrics.stall_ns_max as number) > (good.result.metrics.stall_ns_max as number))
  )
    why = null
  const prefix = commonPrefix(good.result.schedule, bad.result.schedule)
  const used = (r: CaseRun) => Math.min(c.hints.length, r.result.schedule.length)
  const pinned = prefix.length >= used(good) && prefix.length >= used(bad) ? prefix : null
  return { good, bad, why, pinned }
}

const killedBy = (p: Pair) => p.why !== null && p.pinned !== null

/** Tracker cycles of a case's run, and its interval (ns). */
function cyclesOf(c: Case): { cycles: number; interval: number } {
  const w = parseText(toYaml(c.input)).workload!
  return { cycles: Math.ceil(w.duration / w.vmm.interval), interval: w.vmm.interval }
}

/**
 * Hunts `bug`: fast-check over the hunt's workloads and hints, then two last shrinks fast-check
 * cannot make (the run cut to the fewest cycles that still kill, the hints lowered), and the file.
 */
export function huntVmmBug(bug: VmmBug, numRuns: number, seed: number): VmmHuntResult {
  const h = VMM_HUNTS[bug]
  const r = fc.check(
    fc.property(arbWorkloadCase(h.options), (c) => !killedBy(runPair(c, bug, h))),
    { numRuns, seed }
  )
  if (!r.failed || r.counterexample === null)
    return {
      killed: false,
      property: h.property,
      text: null,
      cycles: 0,
      detail: `survived ${numRuns} runs`,
      replays: false
    }
  let c = r.counterexample[0]
  // fewer cycles: the run cut short (the same choices up to the cut), as long as it still kills
  const { cycles: cycles0, interval } = cyclesOf(c)
  for (let k = 1; k < cycles0; k++) {
    const shorter: Case = { ...c, input: { ...c.input, workload: { ...c.input.workload!, duration: k * interval } } }
    if (killedBy(runPair(shorter, bug, h))) {
      c = shorter
      break
    }
  }
  // the hints lowered one by one while the case still kills
  for (let i = 0; i < c.hints.length; i++) {
    for (let v = 0; v < c.hints[i]!; v++) {
      const lower: Case = { ...c, hints: c.hints.map((x, j) => (j === i ? v : x)) }
      if (killedBy(runPair(lower, bug, h))) {
        c = lower
        break
      }
    }
  }
  const p = runPair(c, bug, h)
  const input =
    h.trace === undefined
      ? c.input
      : { ...c.input, expect: { ...c.input.expect, max_stall: p.good.result.metrics.stall_ns_max as number } }
  const { cycles } = cyclesOf(c)
  const description =
    `Shrunk by fast-check (seed ${seed}, path ${r.counterexamplePath}) from the properties over whole runs: the correct VMM passes, ` +
    `and with --mutant ${bug} the run breaks ${h.property}: ${p.why}.` +
    (h.trace === undefined
      ? ""
      : ` The file bounds the stall at what the correct VMM needs (${p.good.result.metrics.stall_ns_max}ns); the bug's vCPUs wait through later ranges instead (${p.bad.result.metrics.stall_ns_max}ns).`) +
    ` schedule pins the ${p.pinned!.length} scheduler choice(s) both runs make.`
  const text = pinnedText(input, p.pinned!, description)
  // the file alone: a correct VMM passes; with the bug, the hunted run to the byte
  const hunted = runCase(c, { mutants: [bug], trace: true })
  const good = runText(text)
  const bad = runText(text, { mutants: [bug], trace: true })
  // (with a stall bound, the file's run fails where the hunted run did not: all but the end line)
  const body = (lines: readonly string[]) => (h.trace === undefined ? lines : lines.slice(0, -1)).join("")
  const replays = good.result.ok && !bad.result.ok && body(bad.lines!) === body(hunted.lines!)
  const detail = replays
    ? (bad.result.failures[0]?.message ?? "")
    : !good.result.ok
      ? `the file fails without the bug: ${good.result.failures[0]?.message}`
      : bad.result.ok
        ? "the file passes with the bug"
        : "the file's run with the bug is not the hunted run (trace differs)"
  return { killed: true, property: h.property, text, cycles, detail, replays }
}
