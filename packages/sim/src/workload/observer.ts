// The VMM's observer (VmmObserver): what the tracker and the fault handler report, after each call,
// goes to the checker and to the cycle sums of the metrics.
import type { GroundTruth } from "@rwpsim/guest"
import type { TrackerKind, VmmObserver } from "@rwpsim/vmm"
import type { Checker } from "./checker.ts"
import type { CycleSums } from "./metrics.ts"

export class RunObserver implements VmmObserver {
  /** Evicted pages brought back from storage (UFFDIO_COPY of a stored copy). */
  refaults = 0
  readonly #gt: GroundTruth
  readonly #checker: Checker
  readonly #cycles: CycleSums
  readonly #afterScan: () => void

  constructor(gt: GroundTruth, checker: Checker, cycles: CycleSums, afterScan: () => void) {
    this.#gt = gt
    this.#checker = checker
    this.#cycles = cycles
    this.#afterScan = afterScan
  }

  cycleStart(_tracker: TrackerKind): void {
    // the first window opens: what the guest did before it belongs to no cycle
    if (this.#cycles.started) return
    this.#gt.nextCycle()
    this.#cycles.started = true
  }

  scanned(hot: Uint8Array, hot_pages: number, _reported: "hot" | "cold"): void {
    this.#checker.judged(hot)
    const c = this.#cycles
    c.true_pages += this.#gt.nextCycle()
    c.estimated_pages += hot_pages
    c.cycles++
    this.#afterScan()
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
