// The events of a workload run that are not thread resumptions (those are the engine's Resume):
// every vCPU resumption and every wake of the fault handler is one of these on the event queue.
/** Runs one round of vCPU bursts (stale when its token is not the driver's current one). */
export interface RoundEvent {
  readonly kind: "round"
  readonly token: number
}

/** A woken vCPU retries its blocked access. */
export interface RetryEvent {
  readonly kind: "retry"
  readonly vcpu: number
  /** The wake this retry answers (a later wake or a block makes it stale). */
  readonly wake: number
}

/** poll(2) on the userfaultfd returns: a message a vCPU queued at this time reaches the handler. */
export interface PollEvent {
  readonly kind: "poll"
}

/** Looks for vCPUs that nothing left can wake (no_lost_wakeup), after the VMM's threads blocked. */
export interface HangCheckEvent {
  readonly kind: "hang_check"
}

export type WorkloadEvent = RoundEvent | RetryEvent | PollEvent | HangCheckEvent
