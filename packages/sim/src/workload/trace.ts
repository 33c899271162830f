// The trace of a workload run. vCPU bursts run ahead of the engine's clock (a burst from t0 to t1
// runs while the clock reads t0), so what a vCPU does inside a burst is known only after it, with
// its own time. Such lines wait here, ordered by time, and are written just before the first line
// of a later time (or at close): the trace stays in time order, and the event queue, which decides
// the run, never sees them (a run is the same with the trace on or off).
import { Trace, type TraceFields, type TraceHeader, type TraceSink } from "@rwpsim/sched"

interface Pending {
  readonly t_ns: number
  readonly ev: string
  readonly fields: TraceFields
}

export class DeferringTrace extends Trace {
  readonly #pending: Pending[] = []

  constructor(sink: TraceSink, header: TraceHeader) {
    super(sink, header)
  }

  override emit(t_ns: number, ev: string, fields?: TraceFields): void {
    // left out: a thread's resumption is implied by its sleep or unpark line
    if (ev === "resume") return
    const p = this.#pending
    if (p.length > 0 && p[0].t_ns <= t_ns) this.#flushUntil(t_ns)
    super.emit(t_ns, ev, fields)
  }

  /** Writes `ev` at t_ns, later than now: when the trace reaches that time. */
  emitLater(t_ns: number, ev: string, fields: TraceFields): void {
    const p = this.#pending
    // after every line already waiting for the same time (insertion order within an instant)
    let lo = 0
    let hi = p.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (p[mid].t_ns <= t_ns) lo = mid + 1
      else hi = mid
    }
    p.splice(lo, 0, { t_ns, ev, fields })
  }

  /** Writes every waiting line (the run is over). */
  flushPending(): void {
    this.#flushUntil(Number.MAX_SAFE_INTEGER)
  }

  override close(): void {
    this.flushPending()
    super.close()
  }

  #flushUntil(t_ns: number): void {
    const p = this.#pending
    let n = 0
    while (n < p.length && p[n].t_ns <= t_ns) n++
    const due = p.splice(0, n)
    for (const d of due) super.emit(d.t_ns, d.ev, d.fields)
  }
}

/** Writes `ev` at t_ns: now if t_ns is now (or past), else when the trace gets there. */
export function emitAt(trace: Trace, now_ns: number, t_ns: number, ev: string, fields: TraceFields): void {
  if (!trace.enabled) return
  if (t_ns <= now_ns || !(trace instanceof DeferringTrace)) trace.emit(now_ns, ev, fields)
  else trace.emitLater(t_ns, ev, fields)
}
