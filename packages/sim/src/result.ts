// What a run reports: the spec's `--json` object minus the fields the CLI adds.

/** One failed expectation: a step (index and op) or an invariant, and what differed. */
export interface RunFailure {
  readonly step: number | null
  readonly op: string | null
  readonly invariant: string | null
  readonly message: string
}

export interface RunResult {
  readonly ok: boolean
  readonly failures: readonly RunFailure[]
  readonly metrics: Readonly<Record<string, number | string>>
  /** The scheduler choices the run made, in order (what a `schedule` key replays). */
  readonly schedule: readonly number[]
  /** Set when RunOptions.interrupted stopped the run before its end (ok is then false). */
  readonly interrupted?: Interrupted
}

/** Where an interrupted run stopped. */
export interface Interrupted {
  /** The virtual time reached (the trace's last `t`). */
  readonly t_ns: number
  /** The time the run would have run to: a workload's end; null before it started, and for a script. */
  readonly end_ns: number | null
}

/** The result of a run that RunOptions.interrupted stopped at t_ns. */
export const interruptedResult = (t_ns: number, end_ns: number | null, schedule: readonly number[]): RunResult => ({
  ok: false,
  failures: [{ step: null, op: null, invariant: null, message: `interrupted at t=${t_ns}ns` }],
  metrics: { simulated_ns: t_ns, hung_vcpus: 0 },
  schedule,
  interrupted: { t_ns, end_ns }
})

export const stepFailure = (step: number, op: string, message: string): RunFailure => ({
  step,
  op,
  invariant: null,
  message
})

export const invariantFailure = (invariant: string, message: string): RunFailure => ({
  step: null,
  op: null,
  invariant,
  message
})
