// The vCPUs of a workload run on the event queue. vCPUs are not fibers: each runs bursts of
// accesses in the guest's tight loop (@rwpsim/guest), and the driver is the only one that starts a
// burst, always from an event:
// - a round (RoundEvent) runs every runnable vCPU once, each until the next queued event, the end
//   of the round's quantum or the end of the run, whichever comes first; so no vCPU ever runs past
//   a VMM thread's next action, and vCPUs drift at most one quantum apart. vCPUs at the same
//   instant go in an order drawn from the "sched" stream (a recorded choice);
// - an access that blocks parks its vCPU; the kernel's wake (drain_woken, read after every kernel
//   call) queues a RetryEvent one userfault round trip later, several woken vCPUs in a drawn order;
//   the retry completes the access or parks the vCPU again;
// - pause/resume (the fallback trackers) hold every vCPU; the pause counts as stall.
// Each block and pause is a stall episode.
import { BURST_BLOCKED, BURST_FINISHED, BURST_SIGNAL, type BurstResult, type Vcpu } from "@rwpsim/guest"
import type { Kernel, WaitObject } from "@rwpsim/kernel"
import type { SimEngine, TraceFields } from "@rwpsim/sched"
import type { WorkloadEvent } from "./events.ts"
import type { CheckedMemory } from "./memory.ts"
import { StallEpisodes } from "./stall.ts"
import { emitAt } from "./trace.ts"

export const VS_RUNNABLE = 0
export const VS_BLOCKED = 1
export const VS_WOKEN = 2
export const VS_FINISHED = 3

const MANY = Number.MAX_SAFE_INTEGER

/** What the driver tells the rest of the run. */
export interface DriverHooks {
  /** After every burst or retry of vCPU `vcpu` that ran from `from_ns` to `to_ns`. */
  afterBurst(vcpu: number, from_ns: number, to_ns: number): void
  /** A vCPU's access raised a signal (code ACCESS_SIGSEGV or ACCESS_SIGBUS). */
  signal(vcpu: number, page: number, code: number, t_ns: number): void
  /** vCPU `vcpu` blocked at t_ns (its message, if any, is queued). */
  blocked(vcpu: number, t_ns: number): void
  /** A burst starts (true) or ends (false): the kernel's own trace lines are muted inside one. */
  inBurst(on: boolean): void
}

export interface DriverOptions {
  readonly engine: SimEngine<WorkloadEvent>
  readonly kernel: Kernel
  readonly vcpus: readonly Vcpu[]
  readonly mem: CheckedMemory
  /** Engine time of the workload's t = 0, and of its end. */
  readonly base_ns: number
  readonly end_ns: number
  readonly quantum_ns: number
  /** From a wake to the woken vCPU's retry (machine.costs.uffd_round_trip). */
  readonly wake_ns: number
  readonly page_bytes: number
  readonly hooks: DriverHooks
}

/** Per vCPU, the access it is blocked in. */
export interface BlockedAccess {
  /** Engine time of the access that blocked (the stall episode's start). */
  since_ns: number
  page: number
  write: boolean
  /** Page-aligned address of the last block, and what the kernel says it sleeps on (describe it lazily). */
  addr: number
  wait: WaitObject | null
  /** Times it was woken and blocked again. */
  retries: number
}

/** What a blocked vCPU waits on, in words. */
export function waitsOn(b: BlockedAccess): string {
  return b.wait === null ? "nothing the kernel names (not asleep in the kernel)" : b.wait.describe()
}

export class VcpuDriver {
  readonly state: Uint8Array
  /** Engine time from which each runnable vCPU may run. */
  readonly at: Float64Array
  readonly blocked: (BlockedAccess | null)[]
  readonly stalls = new StallEpisodes()
  /** No new bursts: only retries (after the run's end, while blocked vCPUs get their chance). */
  draining = false
  paused = false
  pause_since_ns = 0
  bursts = 0
  rounds = 0
  readonly #o: DriverOptions
  readonly #wake_token: Float64Array
  #round_at = Number.POSITIVE_INFINITY
  #round_token = 0
  /** The one pending round event (never more: a round must not cut the bursts of another). */
  #round_handle = -1
  #in_round = false
  #order: number[] = []
  /** The vCPUs a kernel call woke (reused by wakeFromKernel). */
  readonly #woken: number[] = []

  constructor(o: DriverOptions) {
    this.#o = o
    const n = o.vcpus.length
    this.state = new Uint8Array(n)
    this.at = new Float64Array(n).fill(o.base_ns)
    this.blocked = Array.from({ length: n }, () => null)
    this.#wake_token = new Float64Array(n)
  }

  /** How many vCPUs are blocked or woken and not yet retried. */
  get waiting(): number {
    const state = this.state
    let n = 0
    for (let v = 0; v < state.length; v++) if (state[v] === VS_BLOCKED || state[v] === VS_WOKEN) n++
    return n
  }

  /** Starts the vCPUs at the workload's t = 0. */
  start(): void {
    this.#ensureRound(this.#o.base_ns)
  }

  dispatch(ev: WorkloadEvent): void {
    if (ev.kind === "round") this.#round(ev.token)
    else if (ev.kind === "retry") this.#retry(ev.vcpu, ev.wake)
  }

  /** After a kernel call (by a VMM thread or a vCPU): the vCPUs the kernel woke retry. */
  wakeFromKernel(t_ns: number): void {
    const kernel = this.#o.kernel
    // nothing woken (most calls): no drain, which would hand back the list and start a new one
    if (kernel.mm.woken.length === 0) return
    const woken = kernel.drain_woken()
    const vcpus = this.#woken
    if (vcpus.length > 0) vcpus.length = 0
    for (const task of woken) {
      if (task < this.state.length && this.state[task] === VS_BLOCKED && !vcpus.includes(task)) vcpus.push(task)
    }
    if (vcpus.length === 0) return
    const engine = this.#o.engine
    const order = vcpus.length > 1 ? engine.tape.order("wake", vcpus.length).map((i) => vcpus[i]) : vcpus
    // the trace may keep the fields until a later line: never the reused list
    if (engine.trace.enabled) this.#note(t_ns, "vcpu.wake", { vcpus: order === vcpus ? vcpus.slice() : order })
    for (const v of order) this.#wake(v, t_ns + this.#o.wake_ns)
  }

  /** Fallback trackers: every vCPU stops where it is until resume. */
  pause(): void {
    const now = this.#o.engine.now_ns
    this.paused = true
    this.pause_since_ns = now
    this.#o.engine.emit("vcpus.pause", {})
  }

  resume(): void {
    const now = this.#o.engine.now_ns
    this.paused = false
    const paused_ns = now - this.pause_since_ns
    let held = 0
    for (let v = 0; v < this.state.length; v++) {
      const s = this.state[v]
      if (s === VS_RUNNABLE) {
        held++
        this.stalls.record(paused_ns)
        if (this.at[v] < now) this.at[v] = now
      } else if (s === VS_WOKEN) this.#wake(v, now) // its block episode goes on until the retry
    }
    this.#o.engine.emit("vcpus.resume", { paused_ns, vcpus: held })
    this.#ensureRoundForRunnable()
  }

  /** Stall episodes still open at time t_ns (blocked vCPUs; a pause in progress), as if they ended then. */
  openStalls(t_ns: number): number[] {
    const out: number[] = []
    for (let v = 0; v < this.state.length; v++) {
      const b = this.blocked[v]
      if (b !== null) out.push(Math.max(0, t_ns - b.since_ns))
      else if (this.paused && this.state[v] === VS_RUNNABLE) out.push(Math.max(0, t_ns - this.pause_since_ns))
    }
    return out
  }

  // ---- rounds -----------------------------------------------------------------------------

  #ensureRound(t_ns: number): void {
    if (this.#in_round || this.draining || t_ns >= this.#o.end_ns || t_ns >= this.#round_at) return
    const engine = this.#o.engine
    if (this.#round_handle >= 0) engine.cancel(this.#round_handle)
    this.#round_at = t_ns
    this.#round_handle = engine.schedule(t_ns, { kind: "round", token: ++this.#round_token })
  }

  #ensureRoundForRunnable(): void {
    let t = Number.POSITIVE_INFINITY
    for (let v = 0; v < this.state.length; v++) if (this.state[v] === VS_RUNNABLE && this.at[v] < t) t = this.at[v]
    if (t < Number.POSITIVE_INFINITY) this.#ensureRound(t)
  }

  #round(token: number): void {
    if (token !== this.#round_token) return
    this.#round_at = Number.POSITIVE_INFINITY
    this.#round_handle = -1
    if (this.paused || this.draining) return
    const { engine, end_ns, quantum_ns } = this.#o
    const r = engine.now_ns
    const round_end = Math.min(r + quantum_ns, end_ns)
    // who takes part: runnable vCPUs due before the next event; by time, ties in a drawn order
    const order = this.#order
    if (order.length > 0) order.length = 0
    const first_limit = Math.min(round_end, engine.queue.peekTime() ?? Number.POSITIVE_INFINITY)
    for (let v = 0; v < this.state.length; v++) {
      if (this.state[v] === VS_RUNNABLE && this.at[v] < first_limit) order.push(v)
    }
    if (order.length > 1) this.#drawTies(order)
    this.rounds++
    this.#in_round = true
    for (const v of order) {
      if (this.state[v] !== VS_RUNNABLE || this.paused) continue
      // a burst never runs past the next queued event (events earlier vCPUs of this round queued too)
      const until = Math.min(round_end, engine.queue.peekTime() ?? Number.POSITIVE_INFINITY)
      const from = Math.max(this.at[v], r)
      if (from >= until) continue
      this.#burst(v, from, until)
    }
    this.#in_round = false
    this.#ensureRoundForRunnable()
  }

  /** Sorts `order` by start time; each group at the same instant is permuted by a recorded choice. */
  #drawTies(order: number[]): void {
    const at = this.at
    // by (at, vCPU): an insertion sort (a handful of vCPUs, mostly in order already), no comparator closure
    for (let i = 1; i < order.length; i++) {
      const v = order[i]
      let j = i - 1
      while (j >= 0 && (at[order[j]] > at[v] || (at[order[j]] === at[v] && order[j] > v))) {
        order[j + 1] = order[j]
        j--
      }
      order[j + 1] = v
    }
    const tape = this.#o.engine.tape
    for (let i = 0; i < order.length; ) {
      let j = i + 1
      while (j < order.length && at[order[j]] === at[order[i]]) j++
      if (j - i > 1) {
        const group = order.slice(i, j)
        const pick = tape.order("vcpus", group.length)
        for (let k = 0; k < pick.length; k++) order[i + k] = group[pick[k]]
      }
      i = j
    }
  }

  #burst(v: number, from: number, until: number): void {
    const { vcpus, mem, base_ns } = this.#o
    this.bursts++
    this.#o.hooks.inBurst(true)
    const res = vcpus[v].run_burst(mem, from - base_ns, until - base_ns, MANY)
    this.#o.hooks.inBurst(false)
    this.#settle(v, from, res)
  }

  // ---- blocking, waking, retrying -----------------------------------------------------------

  #wake(v: number, t_ns: number): void {
    this.state[v] = VS_WOKEN
    const token = ++this.#wake_token[v]
    // a vCPU that ran ahead of the clock in its last round retries no earlier than its own time
    const t = Math.max(t_ns, this.#o.base_ns + this.#o.vcpus[v].now_ns)
    if (!this.paused) this.#o.engine.schedule(t, { kind: "retry", vcpu: v, wake: token })
  }

  #retry(v: number, token: number): void {
    if (this.state[v] !== VS_WOKEN || this.#wake_token[v] !== token || this.paused) return
    const { engine, vcpus, mem, base_ns, end_ns, quantum_ns } = this.#o
    const t = engine.now_ns
    // the blocked access, issued again now; then on, as a burst would (not after the end)
    const next = engine.queue.peekTime() ?? Number.POSITIVE_INFINITY
    const until = this.draining || t >= end_ns ? t : Math.min(t + quantum_ns, next, end_ns)
    this.bursts++
    this.#o.hooks.inBurst(true)
    const res = vcpus[v].run_burst(mem, t - base_ns, Math.max(until, t + 1) - base_ns, until > t ? MANY : 1)
    this.#o.hooks.inBurst(false)
    this.#settle(v, t, res)
  }

  /** After a burst or a retry of vCPU v that started at from_ns. */
  #settle(v: number, from_ns: number, res: BurstResult): void {
    const { base_ns, hooks, kernel, engine } = this.#o
    const vcpu = this.#o.vcpus[v]
    const t = base_ns + res.now_ns
    hooks.afterBurst(v, from_ns, Math.max(from_ns, t))
    // the blocked access (the first of a retry) completed, or was abandoned on a signal
    const prior = this.blocked[v]
    if (prior !== null && (res.accesses > 0 || res.kind !== BURST_BLOCKED)) {
      this.stalls.record(from_ns - prior.since_ns)
      this.blocked[v] = null
      if (engine.trace.enabled)
        this.#note(from_ns, "vcpu.done", { vcpu: v, page: prior.page, stalled_ns: from_ns - prior.since_ns })
    }
    if (res.kind === BURST_BLOCKED) {
      const wait = kernel.blockedOn(v)
      const addr = (wait as { address?: number } | null)?.address ?? res.addr
      let b = this.blocked[v]
      if (b === null) {
        b = { since_ns: t, page: res.page, write: vcpu.pending_write, addr, wait, retries: 0 }
        this.blocked[v] = b
      } else {
        b.addr = addr
        b.wait = wait
        b.retries++
      }
      this.state[v] = VS_BLOCKED
      if (engine.trace.enabled) {
        this.#note(t, b.retries > 0 ? "vcpu.block_again" : "vcpu.block", {
          vcpu: v,
          page: res.page,
          write: vcpu.pending_write,
          on: waitsOn(b)
        })
      }
      hooks.blocked(v, t)
    } else {
      if (res.kind === BURST_SIGNAL) hooks.signal(v, res.page, res.code, t)
      this.state[v] = res.kind === BURST_FINISHED ? VS_FINISHED : VS_RUNNABLE
      this.at[v] = Math.max(t, from_ns)
      if (this.state[v] === VS_RUNNABLE) this.#ensureRound(this.at[v])
    }
    this.wakeFromKernel(Math.max(engine.now_ns, t))
  }

  #note(t_ns: number, ev: string, fields: TraceFields): void {
    const engine = this.#o.engine
    emitAt(engine.trace, engine.now_ns, t_ns, ev, fields)
  }
}
