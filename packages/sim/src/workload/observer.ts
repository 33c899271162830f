// The VMM's observer (VmmObserver): what the tracker and the fault handler report, after each call,
// goes to the checker and to the cycle sums of the metrics.
import type { GroundTruth } from "@rwpsim/guest"
import type { TraceFields } from "@rwpsim/sched"
import type { PageBits, TrackerKind, VmmObserver } from "@rwpsim/vmm"
import type { Checker } from "./checker.ts"
import type { CycleSums } from "./metrics.ts"

/** Rows of the per-cycle access map in the trace (`workload.cycle`): pages are grouped into at most this many. */
export const CYCLE_MAP_ROWS = 128

/** Writes one trace line at the current time. */
export type EmitNow = (ev: string, fields: TraceFields) => void

export class RunObserver implements VmmObserver {
  /** Evicted pages brought back from storage (UFFDIO_COPY of a stored copy). */
  refaults = 0
  readonly #gt: GroundTruth
  readonly #checker: Checker
  readonly #cycles: CycleSums
  readonly #afterScan: () => void
  readonly #emit: EmitNow | undefined

  /** `emit` (when the trace is on) gets one `workload.cycle` line per completed cycle. */
  constructor(gt: GroundTruth, checker: Checker, cycles: CycleSums, afterScan: () => void, emit?: EmitNow) {
    this.#gt = gt
    this.#checker = checker
    this.#cycles = cycles
    this.#afterScan = afterScan
    this.#emit = emit
  }

  cycleStart(_tracker: TrackerKind): void {
    // the first window opens: what the guest did before it belongs to no cycle
    if (this.#cycles.started) return
    this.#gt.nextCycle()
    this.#cycles.started = true
  }

  scanned(hot: PageBits, hot_pages: number, reported: "hot" | "cold"): void {
    this.#checker.judged(hot)
    const c = this.#cycles
    if (this.#emit !== undefined) this.#cycleLine(hot, hot_pages, reported)
    c.true_pages += this.#gt.nextCycle()
    c.estimated_pages += hot_pages
    c.cycles++
    this.#afterScan()
  }

  /**
   * The cycle ending now, for trace readers (the report's heatmap and WSS chart): the true and
   * estimated working sets, and per row of pages how many were accessed (ground truth) and judged
   * accessed by the tracker. Written before the ground truth moves to the next cycle.
   */
  #cycleLine(hot: PageBits, hot_pages: number, reported: "hot" | "cold"): void {
    const gt = this.#gt
    const n = gt.pages_count
    const rows = Math.min(CYCLE_MAP_ROWS, n)
    const per = Math.ceil(n / rows)
    const accessed = new Array<number>(rows).fill(0)
    const judged = new Array<number>(rows).fill(0)
    const cycle = gt.cycle
    for (let r = 0; r < rows; r++) {
      let a = 0
      let j = 0
      for (let p = r * per, end = Math.min(n, p + per); p < end; p++) {
        if (gt.cycleOf(p) === cycle) a++
        if (hot.get(p)) j++
      }
      accessed[r] = a
      judged[r] = j
    }
    this.#emit!("workload.cycle", {
      cycle: this.#cycles.cycles,
      true_pages: gt.cycle_pages,
      estimated_pages: hot_pages,
      reported,
      pages_per_row: per,
      accessed,
      hot: judged
    })
  }

  protected(_start: number, _len: number): void {}

  modeSet(_async: boolean): void {}

  pwritten(first: number, _words: Uint32Array, count: number): void {
    this.#checker.pwritten(first, count)
  }

  evicted(page: number, stored: number, was_resident: boolean): void {
    this.#checker.evicted(page, stored, was_resident)
  }

  populated(page: number, word: number, from_storage: boolean): void {
    if (from_storage) this.refaults++
    this.#checker.populated(page, word, from_storage)
  }

  message(_kind: "missing" | "rwp" | "wp" | "other", _page: number, _action: string): void {}

  vmmError(what: string): void {
    this.#checker.error(`VMM system call failed: ${what}`)
  }
}
