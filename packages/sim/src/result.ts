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
}

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
