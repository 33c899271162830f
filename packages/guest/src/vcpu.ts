// A guest vCPU: its phases, its pattern state, and the burst loop that drives the MMU. A burst runs
// accesses back to back in one synchronous loop (never one scheduler event per access) until a real
// event: the access blocks (it stays pending and is retried first next burst), it raises a signal,
// the vCPU's time reaches until_ns, accesses_max are done, or the phases are over. An access is
// issued at the vCPU's time t (the ground truth records t; the pattern sees t - phase start), then
// time advances by the phase's access_ns plus the optional charge; so a burst may end up to one
// access past until_ns, and no access it ran was issued at or after until_ns. Each access draws
// the page, then the write choice (no draw when writes is 0% or 100%). Writes store a per-vCPU sequence (index + 1, stepping by the
// vCPU count, never 0), so every write in a run is distinct and a read of a lost write shows.
import { assert } from "./assert.ts"
import { GT_CYCLE_MASK, GT_WRITTEN, type GroundTruth } from "./ground_truth.ts"
import { ACCESS_BLOCKED, ACCESS_DONE, type AccessCharge, type GuestMemory } from "./memory.ts"
import { makePattern, type Phase, type PhaseSpec, resolvePhases } from "./phase.ts"
import type { PagePattern } from "./patterns/pattern.ts"
import { type RandomSource, U32_ALWAYS, u32Threshold } from "./random.ts"

/** The burst reached until_ns: runnable again at result.now_ns. */
export const BURST_DONE_UNTIL = 0
/** The burst did accesses_max accesses before until_ns: runnable again at result.now_ns. */
export const BURST_DONE_MAX = 1
/** The access at result.addr blocked; it is retried first when the vCPU runs again (after its wake). */
export const BURST_BLOCKED = 2
/** The access at result.addr raised result.code (ACCESS_SIGSEGV or ACCESS_SIGBUS); it is abandoned. */
export const BURST_SIGNAL = 3
/** Every phase has ended: the vCPU idles for the rest of the run. */
export const BURST_FINISHED = 4
/** Why a burst stopped. */
export type BurstKind =
  | typeof BURST_DONE_UNTIL
  | typeof BURST_DONE_MAX
  | typeof BURST_BLOCKED
  | typeof BURST_SIGNAL
  | typeof BURST_FINISHED

/** The outcome of run_burst: one object per vCPU, overwritten by each burst. */
export class BurstResult {
  kind: BurstKind = BURST_DONE_UNTIL
  /** The vCPU's virtual time after the burst (at a block or signal: the time of that access). */
  now_ns = 0
  /** Accesses completed in this burst (a retried access counts once, when it completes). */
  accesses = 0
  /** The access code that stopped the burst (ACCESS_DONE unless BLOCKED or SIGNAL). */
  code = ACCESS_DONE
  /** The guest page and address of the access that blocked or signalled (-1 otherwise). */
  page = -1
  addr = -1
}

/** How a vCPU is set up. */
export interface VcpuOptions {
  /** The vCPU's number, which is also its kernel task id. */
  readonly index: number
  /** How many vCPUs the run has (the stride of write values). */
  readonly vcpus: number
  readonly phases: readonly PhaseSpec[]
  /** Guest memory in tracking pages; page p is at base_addr + p * page_bytes. */
  readonly guest_pages: number
  readonly base_addr: number
  readonly page_bytes: number
  /** This vCPU's stream ("guest.vcpu<N>"). */
  readonly rng: RandomSource
  readonly ground_truth: GroundTruth
  readonly charge?: AccessCharge | undefined
  /** Builds each phase's page generator (default makePattern); e.g. a bench's reference pattern. */
  readonly make_pattern?: ((phase: Phase) => PagePattern) | undefined
}

/** One guest vCPU: phases, pattern state, a pending access, and counters. */
export class Vcpu {
  readonly index: number
  readonly phases: readonly Phase[]
  readonly ground_truth: GroundTruth
  readonly result = new BurstResult()
  /**
   * The vCPU's virtual time: where its last burst left it; during a burst, the time of the access in
   * progress (so a callback from inside the access, such as the checker's, can read it).
   */
  now_ns = 0
  /** The phase in effect (phases.length once all have ended). */
  phase_index = 0
  /** The access that blocked, retried first by the next burst. */
  pending = false
  pending_page = 0
  pending_write = false
  pending_value = 0
  pending_access_ns = 0
  /** The value the next write stores. */
  next_value: number
  /** Totals over the run. */
  accesses = 0
  writes = 0
  blocks = 0
  signals = 0
  /** Set by the burst loop on exit (its second result): accesses completed, value counter. */
  loop_done = 0
  private readonly patterns: readonly PagePattern[]
  private readonly write_thresholds: readonly number[]
  private readonly rng: RandomSource
  private readonly base_addr: number
  private readonly page_bytes: number
  private readonly stride: number
  private readonly charge: AccessCharge | null

  constructor(o: VcpuOptions) {
    assert(Number.isInteger(o.vcpus) && o.vcpus >= 1, `vcpus ${o.vcpus}`)
    assert(Number.isInteger(o.index) && o.index >= 0 && o.index < o.vcpus, `vcpu index ${o.index} of ${o.vcpus}`)
    assert(o.phases.length >= 1, "a vCPU needs at least one phase")
    assert(o.ground_truth.pages_count === o.guest_pages, "ground truth and guest differ in size")
    assert(Number.isInteger(o.page_bytes) && o.page_bytes >= 1, `page_bytes ${o.page_bytes}`)
    assert(Number.isInteger(o.base_addr) && o.base_addr >= 0, `base_addr ${o.base_addr}`)
    assert(o.base_addr + o.guest_pages * o.page_bytes <= Number.MAX_SAFE_INTEGER, "guest beyond 2^53")
    this.index = o.index
    this.phases = resolvePhases(o.phases, o.guest_pages)
    this.patterns = this.phases.map(o.make_pattern ?? makePattern)
    this.write_thresholds = this.phases.map((p) => u32Threshold(p.writes))
    this.ground_truth = o.ground_truth
    this.rng = o.rng
    this.base_addr = o.base_addr
    this.page_bytes = o.page_bytes
    this.stride = o.vcpus
    this.next_value = o.index + 1
    this.charge = o.charge ?? null
    this.phase_index = this.skipEndedPhases(0)
  }

  /** The active phase, or undefined once every phase has ended. */
  get phase(): Phase | undefined {
    return this.phases[this.phase_index]
  }

  /** The end of the active phase (a boundary the caller may schedule at), +Infinity if none. */
  get phase_end_ns(): number {
    return this.phase_index < this.phases.length ? this.phases[this.phase_index].end_ns : Number.POSITIVE_INFINITY
  }

  /**
   * Runs accesses from now_ns until a block, a signal, until_ns, accesses_max accesses or the end of
   * the phases; returns this.result (reused, no allocation per burst).
   */
  run_burst(mem: GuestMemory, now_ns: number, until_ns: number, accesses_max: number): BurstResult {
    // messages are built only on failure: a burst allocates nothing
    if (!(now_ns >= this.now_ns)) assert(false, `vCPU ${this.index} time goes back from ${this.now_ns} to ${now_ns}`)
    if (!(accesses_max >= 1 && Number.isInteger(accesses_max))) assert(false, `accesses_max ${accesses_max}`)
    const r = this.result
    r.accesses = 0
    r.code = ACCESS_DONE
    r.page = -1
    r.addr = -1
    this.now_ns = now_ns
    if (this.pending) {
      if (now_ns >= until_ns) return this.stop(BURST_DONE_UNTIL)
      if (!this.retryPending(mem)) return r
    }
    for (;;) {
      const pi = this.skipEndedPhases(this.phase_index)
      this.phase_index = pi
      if (pi === this.phases.length) return this.stop(BURST_FINISHED)
      if (r.accesses >= accesses_max) return this.stop(BURST_DONE_MAX)
      if (this.now_ns >= until_ns) return this.stop(BURST_DONE_UNTIL)
      const phase = this.phases[pi]
      const gt = this.ground_truth
      const code = accessLoop(
        this,
        mem,
        this.patterns[pi],
        this.rng,
        gt,
        gt.words,
        this.charge,
        this.write_thresholds[pi],
        phase.access_ns,
        phase.start_ns,
        Math.min(until_ns, phase.end_ns),
        accesses_max - r.accesses
      )
      r.accesses += this.loop_done
      if (code !== ACCESS_DONE) return this.blockedOrSignal(code)
    }
  }

  /** Retries the pending access at this.now_ns; false (and result set) if it blocked or signalled again. */
  private retryPending(mem: GuestMemory): boolean {
    const page = this.pending_page
    const write = this.pending_write
    const code = mem.access_page(this.index, page, write, this.pending_value)
    if (code !== ACCESS_DONE) {
      this.blockedOrSignal(code)
      return false
    }
    this.pending = false
    const t_ns = this.now_ns
    this.ground_truth.recordAccess(page, t_ns, this.index, write, this.pending_value, write ? 0 : mem.access_value)
    if (write) this.advanceValue()
    this.now_ns = t_ns + this.pending_access_ns + (this.charge === null ? 0 : this.charge.extra_ns(this.index))
    this.accesses++
    this.result.accesses++
    return true
  }

  /** Steps the write value by the vCPU count, skipping 0 (a page never written reads 0). */
  advanceValue(): void {
    this.writes++
    let v = (this.next_value + this.stride) >>> 0
    if (v === 0) v = (v + this.stride) >>> 0
    this.next_value = v
  }

  private blockedOrSignal(code: number): BurstResult {
    const r = this.result
    r.code = code
    r.page = this.pending_page
    r.addr = this.base_addr + this.pending_page * this.page_bytes
    if (code === ACCESS_BLOCKED) {
      this.pending = true
      this.blocks++
      return this.stop(BURST_BLOCKED)
    }
    this.pending = false
    this.signals++
    return this.stop(BURST_SIGNAL)
  }

  private stop(kind: BurstKind): BurstResult {
    this.result.kind = kind
    this.result.now_ns = this.now_ns
    return this.result
  }

  private skipEndedPhases(pi: number): number {
    while (pi < this.phases.length && this.now_ns >= this.phases[pi].end_ns) pi++
    return pi
  }
}

/**
 * The hot loop of one phase segment, a top-level function over typed arrays (faster in V8 than a
 * closure). Runs from v.now_ns while time < seg_until_ns and fewer than accesses_max completed;
 * returns ACCESS_DONE, or the code of an access that did not complete (then saved as v.pending_*).
 * Leaves v.now_ns, v.loop_done, v.next_value and the ground truth updated.
 */
function accessLoop(
  v: Vcpu,
  mem: GuestMemory,
  pattern: PagePattern,
  rng: RandomSource,
  gt: GroundTruth,
  gt_words: Uint32Array,
  charge: AccessCharge | null,
  write_threshold: number,
  access_ns: number,
  phase_start_ns: number,
  seg_until_ns: number,
  accesses_max: number
): number {
  const task = v.index
  const cycle = gt.cycle
  let now = v.now_ns
  let done = 0
  let fresh = 0
  let code = ACCESS_DONE
  while (now < seg_until_ns && done < accesses_max) {
    // the pattern sees the phase time only when it must (a seek): no double argument per access
    const t = now - phase_start_ns
    if (t >= pattern.seek_at_ns) pattern.seek(t)
    const page = pattern.draw(rng)
    // writes 0% or 100% decide without a draw (and leave the stream to the pattern)
    const write = write_threshold === 0 ? false : write_threshold === U32_ALWAYS || rng.below(write_threshold)
    const value = write ? v.next_value : 0
    // the access's time, for whoever the access calls back (the checker times a flagged access)
    v.now_ns = now
    code = mem.access_page(task, page, write, value)
    if (code !== ACCESS_DONE) {
      v.pending_page = page
      v.pending_write = write
      v.pending_value = value
      v.pending_access_ns = access_ns
      break
    }
    // ground truth, as GroundTruth.recordAccess: one 8-byte record per page
    const r = page << 1
    const head = gt_words[r]
    if ((head & GT_CYCLE_MASK) !== cycle) {
      gt_words[r] = (head & GT_WRITTEN) | cycle
      fresh++
    }
    if (write) {
      gt_words[r] |= GT_WRITTEN
      gt_words[r + 1] = value
      v.advanceValue()
    } else {
      const actual = mem.access_value >>> 0
      if (actual !== gt_words[r + 1]) gt.recordLoss(page, now, task, gt_words[r + 1], actual)
    }
    now += charge === null ? access_ns : access_ns + charge.extra_ns(task)
    done++
  }
  gt.cycle_pages += fresh
  v.now_ns = now
  v.loop_done = done
  v.accesses += done
  return code
}
