// Chrome trace-event JSON (what ui.perfetto.dev and chrome://tracing open), written as a stream:
//   process "guest":   a track per vCPU, with its blocked and paused intervals and its faults;
//   process "vmm":     the tracker's phases (detect, scan, sync-evict, resume), the tracker's and
//                      the fault handler's system calls (each as long as the call's cost), the script;
//   process "storage": I/O, from submission to completion;
//   counters:          WSS (true and estimated, per cycle) and resident pages.
// Times are virtual: ts is in microseconds (the format's unit) with ns precision.
import type { FieldValue, TraceEvent, TraceHeader } from "./record.ts"
import { fieldsOf } from "./record.ts"

const PID_GUEST = 1
const PID_VMM = 2
const PID_STORAGE = 3
const TID_PHASES = 1
const TID_TRACKER = 2
const TID_HANDLER = 3
const TID_SCRIPT = 4
const TID_SIM = 5

const RWP_ASYNC = 1 << 18
const us = (ns: number) => ns / 1000
const num = (v: FieldValue | undefined): number | undefined => (typeof v === "number" ? v : undefined)

interface Open {
  readonly name: string
  readonly t: number
  readonly args: Record<string, FieldValue>
}

/** Why a vCPU blocked, from the `on` text: "MISSING fault", "RWP fault", "mmap_lock", ... */
function blockReason(on: FieldValue | undefined): string {
  if (typeof on !== "string") return "blocked"
  const m = /\(([A-Z_]+) fault/.exec(on)
  if (m !== null) return `blocked: ${m[1]} fault`
  return `blocked: ${on.split(" (")[0]}`
}

export interface PerfettoSummary {
  readonly events: number
  readonly tracks: number
}

export class PerfettoExport {
  readonly #sink: (s: string) => void
  #count = 0
  #first = true
  readonly #vcpus = new Set<number>()
  readonly #blocked = new Map<number, Open>()
  #phase: Open | null = null
  #scan: Open | null = null
  /** A call by a VMM thread whose cost (its next `sleep`) is not known yet. */
  readonly #call = new Map<string, Open>()
  #step: Open | null = null
  #scriptIo: Open | null = null
  #resident = 0
  #pageBytes = 4096
  #last_t = 0

  constructor(header: TraceHeader, sink: (s: string) => void) {
    this.#sink = sink
    sink('{"displayTimeUnit":"ns","otherData":')
    sink(JSON.stringify({ rwpsim: header.rwpsim, scenario: header.scenario, seed: header.seed, clock: "virtual" }))
    sink(',"traceEvents":[\n')
    this.#meta(PID_GUEST, 0, "process_name", "guest")
    this.#meta(PID_VMM, 0, "process_name", "vmm")
    this.#meta(PID_STORAGE, 0, "process_name", "storage")
    this.#meta(PID_VMM, TID_PHASES, "thread_name", "tracker phases")
    this.#meta(PID_VMM, TID_TRACKER, "thread_name", "tracker")
    this.#meta(PID_VMM, TID_HANDLER, "thread_name", "fault handler")
    this.#meta(PID_VMM, TID_SCRIPT, "thread_name", "script (the VMM's steps)")
    this.#meta(PID_VMM, TID_SIM, "thread_name", "scheduler")
    this.#meta(PID_STORAGE, 1, "thread_name", "I/O")
  }

  #emit(o: Record<string, unknown>): void {
    this.#sink(`${this.#first ? "" : ",\n"}${JSON.stringify(o)}`)
    this.#first = false
    this.#count++
  }

  #meta(pid: number, tid: number, name: string, value: string): void {
    this.#emit({ ph: "M", pid, tid, name, args: { name: value } })
  }

  #slice(pid: number, tid: number, name: string, t0: number, t1: number, args: Record<string, FieldValue>): void {
    this.#emit({ ph: "X", pid, tid, name, ts: us(t0), dur: us(Math.max(0, t1 - t0)), args })
  }

  #instant(pid: number, tid: number, name: string, t: number, args: Record<string, FieldValue>, scope = "t"): void {
    this.#emit({ ph: "i", pid, tid, name, ts: us(t), s: scope, args })
  }

  #counter(name: string, t: number, args: Record<string, number>): void {
    this.#emit({ ph: "C", pid: PID_VMM, name, ts: us(t), args })
  }

  #vcpu(v: number): number {
    if (!this.#vcpus.has(v)) {
      this.#vcpus.add(v)
      this.#meta(PID_GUEST, v + 1, "thread_name", `vCPU ${v}`)
    }
    return v + 1
  }

  #setPhase(name: string | null, t: number): void {
    const p = this.#phase
    if (p !== null && p.name === name) return
    if (p !== null) this.#slice(PID_VMM, TID_PHASES, p.name, p.t, t, p.args)
    this.#phase = name === null ? null : { name, t, args: {} }
  }

  #args(e: TraceEvent): Record<string, FieldValue> {
    const a: Record<string, FieldValue> = {}
    for (const [k, v] of fieldsOf(e)) a[k] = v
    return a
  }

  /**
   * One trace event with its thread (ThreadAttributor), in order; `keep` false when a filter drops
   * it (it still updates the state).
   */
  event(e: TraceEvent, by: string, keep = true): void {
    const t = e.t
    this.#last_t = t
    const thread = typeof e.thread === "string" ? e.thread : null
    if (e.ev === "workload.setup") this.#pageBytes = num(e.page_bytes) ?? this.#pageBytes
    // the cost of a VMM call is the sleep that follows it on the same thread
    if (e.ev === "sleep" && thread !== null) {
      const c = this.#call.get(thread)
      const until = num(e.until) ?? t
      if (c !== undefined) {
        this.#call.delete(thread)
        if (keep) this.#slice(PID_VMM, thread === "handler" ? TID_HANDLER : TID_TRACKER, c.name, c.t, until, c.args)
      } else if (thread === "handler" && keep) {
        this.#slice(PID_VMM, TID_HANDLER, "waiting for storage", t, until, {})
      }
      if (thread === "tracker" && this.#scan !== null) {
        this.#slice(PID_VMM, TID_PHASES, "scan", this.#scan.t, until, this.#scan.args)
        this.#scan = null
      }
    }
    if ((e.ev === "sleep" || e.ev === "park" || e.ev === "exit") && thread !== null) {
      this.#flushCall(thread, t, keep)
    }
    if (e.ev === "vmm.pread") {
      // a submission, not a call: the handler goes on; the read is on the storage track
      const done = num(e.done)
      if (keep) {
        this.#instant(PID_VMM, TID_HANDLER, "storage read submitted", e.t, this.#args(e))
        if (done !== undefined) this.#slice(PID_STORAGE, 1, "pread", e.t, done, this.#args(e))
      }
    } else if (e.ev.startsWith("vmm.")) this.#vmmCall(e, by, keep)
    else if (keep) this.#other(e, by)
  }

  #flushCall(thread: string, t: number, keep: boolean): void {
    const c = this.#call.get(thread)
    if (c === undefined) return
    this.#call.delete(thread)
    if (keep) this.#slice(PID_VMM, thread === "handler" ? TID_HANDLER : TID_TRACKER, c.name, c.t, t, c.args)
  }

  #vmmCall(e: TraceEvent, thread: string, keep: boolean): void {
    const t = e.t
    this.#flushCall(thread, t, keep)
    const args = this.#args(e)
    this.#call.set(thread, { name: e.ev.slice(4), t, args })
    if (e.ev === "vmm.pwrite") {
      const done = num(e.done)
      if (done !== undefined && keep) this.#slice(PID_STORAGE, 1, e.ev.slice(4), t, done, args)
    }
    if (e.ev === "vmm.copy") this.#resident += Math.max(1, Math.round((num(e.len) ?? 0) / this.#pageBytes))
    if (e.ev === "vmm.punch_hole") this.#resident -= Math.round((num(e.len) ?? 0) / this.#pageBytes)
    if (e.ev === "vmm.copy" || e.ev === "vmm.punch_hole")
      this.#counter("resident pages", t, { resident: this.#resident })
    if (thread !== "tracker") return
    // the tracker's phases, from its calls
    const mode = num(e.mode) ?? 0
    if ((e.ev === "vmm.rwprotect" || e.ev === "vmm.writeprotect") && mode !== 0) this.#setPhase("detect", t)
    else if (e.ev === "vmm.set_mode" && ((num(e.disable) ?? 0) & RWP_ASYNC) !== 0) this.#setPhase("sync-evict", t)
    else if (e.ev === "vmm.set_mode" && ((num(e.enable) ?? 0) & RWP_ASYNC) !== 0) this.#setPhase("resume", t)
    else if (e.ev === "vmm.pagemap_scan") {
      if (this.#phase?.name === "detect") this.#setPhase(null, t)
      this.#scan ??= { name: "scan", t, args }
    } else if (
      (e.ev === "vmm.pwrite" || e.ev === "vmm.madvise_pageout" || e.ev === "vmm.punch_hole") &&
      this.#phase?.name !== "sync-evict"
    )
      this.#setPhase("sync-evict", t)
  }

  #other(e: TraceEvent, by: string): void {
    const t = e.t
    switch (e.ev) {
      case "vcpu.block": {
        const v = num(e.vcpu)
        if (v === undefined) return
        this.#vcpu(v)
        if (!this.#blocked.has(v)) this.#blocked.set(v, { name: blockReason(e.on), t, args: this.#args(e) })
        return
      }
      case "vcpu.done": {
        const v = num(e.vcpu)
        if (v === undefined) return
        const b = this.#blocked.get(v)
        this.#blocked.delete(v)
        const stalled = num(e.stalled_ns)
        const t0 = b?.t ?? (stalled === undefined ? t : t - stalled)
        this.#slice(PID_GUEST, this.#vcpu(v), b?.name ?? "blocked", t0, t, { ...(b?.args ?? {}), stalled_ns: t - t0 })
        return
      }
      case "vcpus.resume": {
        const paused = num(e.paused_ns) ?? 0
        const held = Array.isArray(e.vcpus) ? e.vcpus : []
        for (const v of held)
          if (typeof v === "number") this.#slice(PID_GUEST, this.#vcpu(v), "paused", t - paused, t, {})
        this.#slice(PID_VMM, TID_PHASES, "vCPUs paused (evict)", t - paused, t, { paused_ns: paused })
        return
      }
      case "access": {
        // a script's access: blocked until the same vCPU's access completes
        const v = num(e.task)
        if (v === undefined) return
        const tid = this.#vcpu(v)
        if (e.result === "blocked" && !this.#blocked.has(v))
          this.#blocked.set(v, { name: "blocked", t, args: this.#args(e) })
        else if (e.result !== "blocked") {
          const b = this.#blocked.get(v)
          if (b !== undefined) {
            this.#blocked.delete(v)
            this.#slice(PID_GUEST, tid, b.name, b.t, t, b.args)
          }
          this.#instant(PID_GUEST, tid, e.write === true ? "write" : "read", t, this.#args(e))
        }
        return
      }
      case "k.userfault": {
        const v = num(e.task)
        if (v === undefined) return
        const b = this.#blocked.get(v)
        if (b !== undefined && b.name === "blocked")
          this.#blocked.set(v, { ...b, name: `blocked: ${String(e.reason).toUpperCase()} fault` })
        else if (b === undefined)
          this.#blocked.set(v, { name: `blocked: ${String(e.reason).toUpperCase()} fault`, t, args: this.#args(e) })
        this.#instant(PID_GUEST, this.#vcpu(v), `userfault ${String(e.reason)}`, t, this.#args(e))
        return
      }
      case "k.rwp_async":
      case "k.swapin": {
        const v = num(e.task)
        if (v !== undefined) this.#instant(PID_GUEST, this.#vcpu(v), e.ev.slice(2), t, this.#args(e))
        return
      }
      case "vcpu.block_again":
      case "guest.untrapped_write": {
        const v = num(e.vcpu)
        if (v !== undefined) this.#instant(PID_GUEST, this.#vcpu(v), e.ev, t, this.#args(e))
        return
      }
      case "step": {
        this.#closeStep(t)
        this.#step = { name: `${String(e.i)} ${String(e.op)}`, t, args: this.#args(e) }
        if (this.#scriptIo !== null) {
          this.#slice(PID_STORAGE, 1, this.#scriptIo.name, this.#scriptIo.t, t, this.#scriptIo.args)
          this.#scriptIo = null
        }
        return
      }
      case "pwrite":
      case "pread":
        this.#scriptIo = { name: e.ev, t, args: this.#args(e) }
        return
      case "k.uffd_copy":
        if (by === "script") {
          this.#resident += Math.max(1, Math.round((num(e.len) ?? 0) / this.#pageBytes))
          this.#counter("resident pages", t, { resident: this.#resident })
        }
        return
      case "k.punch_hole":
        if (by === "script") {
          this.#resident -= Math.round((num(e.len) ?? 0) / this.#pageBytes)
          this.#counter("resident pages", t, { resident: this.#resident })
        }
        return
      case "workload.cycle": {
        const a: Record<string, number> = {}
        const tr = num(e.true_pages)
        const es = num(e.estimated_pages)
        if (tr !== undefined) a.true = tr
        if (es !== undefined) a.estimated = es
        this.#counter("WSS (pages)", t, a)
        const r = num(e.resident)
        if (r !== undefined) this.#counter("resident pages (VMM)", t, { resident: r })
        return
      }
      case "violation":
      case "error":
      case "fail":
      case "checker.stale_eviction":
      case "checker.stale_fault_back":
        this.#instant(
          PID_VMM,
          TID_SIM,
          e.ev === "violation" ? `violation: ${String(e.invariant)}` : e.ev,
          t,
          this.#args(e),
          "g"
        )
        return
      case "choice":
        this.#instant(PID_VMM, TID_SIM, `choice ${String(e.kind)}`, t, this.#args(e))
        return
      case "end":
        this.#instant(PID_VMM, TID_SIM, "end", t, this.#args(e), "g")
        return
    }
  }

  #closeStep(t: number): void {
    if (this.#step === null) return
    this.#slice(PID_VMM, TID_SCRIPT, this.#step.name, this.#step.t, t, this.#step.args)
    this.#step = null
  }

  /** Closes what is still open at the last event and ends the JSON; returns what was written. */
  finish(): PerfettoSummary {
    const t = this.#last_t
    this.#closeStep(t)
    for (const thread of [...this.#call.keys()]) this.#flushCall(thread, t, true)
    if (this.#scan !== null) this.#slice(PID_VMM, TID_PHASES, "scan", this.#scan.t, t, this.#scan.args)
    this.#setPhase(null, t)
    for (const [v, b] of this.#blocked) this.#slice(PID_GUEST, v + 1, b.name, b.t, t, { ...b.args, still: true })
    this.#sink("\n]}\n")
    return { events: this.#count, tracks: 7 + this.#vcpus.size }
  }
}
