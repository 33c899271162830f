// Runs one scenario: the steps (a script), the workload, or both; collects failures and metrics.
import { Kernel, type KernelMutant } from "@rwpsim/kernel"
import { type ChoicePolicy, Engine, ScheduleMismatch, Trace, type TraceSink } from "@rwpsim/sched"
import type { Scenario } from "@rwpsim/scenario"
import { machineProblem } from "./machine.ts"
import { interruptedResult, type RunFailure, type RunResult } from "./result.ts"
import type { ScriptEvent } from "./script/context.ts"
import { DEFAULT_SCRIPT_STORAGE, hungVcpus, newScriptContext, runSteps } from "./script/runner.ts"
import { type KernelFactory, runWorkload } from "./workload/run.ts"
import { DeferringTrace } from "./workload/trace.ts"

export interface RunOptions {
  /** Overrides the scenario's seed (`--seed N`). */
  readonly seed?: number
  /** Where the trace's JSON lines go; without one the trace is not written. */
  readonly sink?: TraceSink
  /** The scenario's path, for messages. */
  readonly file?: string
  /** Workload runs: builds the kernel (tests pass a faulty one to show an invariant catches it). */
  readonly makeKernel?: KernelFactory
  /** Deliberate kernel bugs to switch on (`rwpsim run --mutant NAME`). */
  readonly mutants?: readonly KernelMutant[]
  /**
   * Makes the scheduler's choices once the scenario's `schedule` has run out, instead of the seed
   * (explore, property tests). RunResult.schedule records what it picked: a scenario with that
   * `schedule` replays the run without it.
   */
  readonly policy?: ChoicePolicy
  /**
   * Asked between steps and every so many workload events: true ends the run there, with
   * RunResult.interrupted (Ctrl-C in `rwpsim run`). An input like the others: the simulation reads
   * no clock and no signal; a run it never stops is the same as without it.
   */
  readonly interrupted?: () => boolean
}

export function runScenario(scenario: Scenario, options: RunOptions = {}): RunResult {
  try {
    return run(scenario, options)
  } catch (e) {
    if (!(e instanceof ScheduleMismatch)) throw e
    // the scenario's `schedule` does not fit the run it drives: a failure to report, not a crash
    const message = `schedule: ${e.message}: the recorded choices do not fit this run (recorded with other --mutant flags, or by another version of rwpsim?)`
    return {
      ok: false,
      failures: [{ step: null, op: null, invariant: null, message }],
      metrics: { simulated_ns: 0, hung_vcpus: 0 },
      schedule: []
    }
  }
}

function run(scenario: Scenario, options: RunOptions): RunResult {
  const seed = options.seed ?? scenario.seed
  // the CLI refuses such a scenario before running it (exit 2); through the API it cannot pass either
  const problem = machineProblem(scenario.machine)
  if (problem !== null) {
    const failure = { step: null, op: null, invariant: null, message: `invalid machine: ${problem}` }
    return { ok: false, failures: [failure], metrics: { simulated_ns: 0, hung_vcpus: 0 }, schedule: [] }
  }
  if (scenario.workload !== undefined) {
    // a workload's memory and userfaultfd come first, then its steps, then the run itself
    const trace =
      options.sink === undefined ? undefined : new DeferringTrace(options.sink, { scenario: scenario.name, seed })
    try {
      const mutants = options.mutants ?? []
      const base = options.makeKernel ?? ((f, o) => new Kernel(f, o))
      const makeKernel: KernelFactory = mutants.length === 0 ? base : (f, o) => base(f, { ...o, mutants })
      return runWorkload(scenario, scenario.workload, {
        seed,
        trace,
        makeKernel,
        policy: options.policy,
        interrupted: options.interrupted
      })
    } finally {
      trace?.close()
    }
  }
  const trace = options.sink === undefined ? undefined : new Trace(options.sink, { scenario: scenario.name, seed })
  const engine = new Engine<ScriptEvent>({
    seed,
    dispatch: () => {},
    schedule: scenario.schedule,
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(trace === undefined ? {} : { trace })
  })
  const failures: RunFailure[] = []
  const ctx = newScriptContext(scenario, engine, DEFAULT_SCRIPT_STORAGE, undefined, options.mutants)
  try {
    const steps = runSteps(ctx, scenario.steps, options.interrupted)
    if (steps.interrupted) return interruptedResult(engine.now_ns, null, engine.tape.recorded())
    failures.push(...steps.failures)
    const hung = hungVcpus(ctx)
    const wantHung = scenario.expect.hung_vcpus ?? 0
    if (failures.length === 0 && hung.length !== wantHung) {
      const detail = hung.length > 0 ? `: ${hung.join("; ")}` : ""
      failures.push({
        step: null,
        op: null,
        invariant: hung.length > wantHung ? "no_lost_wakeup" : null,
        message: `expected ${wantHung} hung vCPU(s) at the end of the script, found ${hung.length}${detail}`
      })
    }
    engine.emit("end", { ok: failures.length === 0, hung_vcpus: hung.length })
    const k = ctx.kernel.stats
    return {
      ok: failures.length === 0,
      failures,
      metrics: {
        simulated_ns: engine.now_ns,
        hung_vcpus: hung.length,
        rwp_faults: k.rwp_faults_sync + k.rwp_faults_async,
        missing_faults: k.missing_faults
      },
      schedule: engine.tape.recorded()
    }
  } finally {
    trace?.close()
  }
}
