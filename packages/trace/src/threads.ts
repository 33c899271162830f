// Which simulated thread an event belongs to, as ftrace's task column: a vCPU (`vcpu`, `task` or
// `vcpus` fields), a VMM thread (`thread` field), the script (step events, and in a script every
// kernel call: the script plays the VMM), or the simulator itself (choices, the end).
// A VMM call line (`vmm.*`, `k.*`) names no thread: a VMM thread runs until it sleeps or parks (the
// scheduler is synchronous, each call is followed by a `sleep` for its cost), so such lines belong
// to the thread of the next `sleep`/`park`/`exit` line. ThreadAttributor holds them back until
// then, in a bounded buffer, and hands every event on in order with its thread.
import type { FieldValue, TraceEvent } from "./record.ts"

const SCRIPT_EVENTS = new Set(["step", "scan", "pwrite", "pread", "fail"])
const SIM_EVENTS = new Set(["choice", "end", "workload.setup", "workload.cycle", "spawn", "violation", "error"])
/** Lines a VMM thread writes that name no thread. */
const CALL = /^(vmm\.|k\.)/
const ASLEEP = new Set(["sleep", "park", "exit"])
/** Held-back lines beyond this are handed on with the best guess. */
const HOLD_MAX = 4096

const num = (v: FieldValue | undefined): number | undefined => (typeof v === "number" ? v : undefined)

/** The vCPU an event names (`vcpu`, or `task` for kernel events), or undefined. */
export function vcpuOf(e: TraceEvent): number | undefined {
  return num(e.vcpu) ?? num(e.task)
}

/** Whether an event concerns vCPU `n`: its vcpu/task/by_vcpu field, or a `vcpus` list holding it. */
export function concernsVcpu(e: TraceEvent, n: number): boolean {
  if (e.vcpu === n || e.task === n || e.by_vcpu === n) return true
  const list = e.vcpus
  return Array.isArray(list) && list.includes(n)
}

/** The thread an event names itself, or undefined when it needs the next sleep to tell. */
function ownThread(e: TraceEvent, script: boolean): string | undefined {
  if (typeof e.thread === "string") return e.thread
  const v = vcpuOf(e)
  if (v !== undefined) return `vcpu${v}`
  if (SCRIPT_EVENTS.has(e.ev)) return "script"
  if (SIM_EVENTS.has(e.ev) || e.ev.startsWith("checker.") || e.ev.startsWith("guest.")) return "sim"
  if (script) return "script"
  return undefined
}

export type Attributed = (e: TraceEvent, thread: string) => void

export class ThreadAttributor {
  readonly #out: Attributed
  #held: TraceEvent[] = []
  #script = false
  /** The thread that last ran (a `resume`/`unpark` line, or the last sleeper): the guess on overflow. */
  #last: string | null = null
  /** Before the first `spawn`, the VMM's main thread sets up (mmap, register): "vmm". */
  #spawned = false

  /** `fromStart` false: the events are a window inside a trace (its setup is not in them). */
  constructor(out: Attributed, fromStart = true) {
    this.#out = out
    this.#spawned = !fromStart
  }

  /** The next event of the trace. */
  push(e: TraceEvent): void {
    if (e.ev === "step") this.#script = true
    if (e.ev === "spawn") this.#spawned = true
    const own = ownThread(e, this.#script) ?? (this.#spawned ? undefined : "vmm")
    if (typeof e.thread === "string") {
      if (ASLEEP.has(e.ev)) this.#release(e.thread)
      else if (e.ev === "resume" || e.ev === "unpark") {
        // a resumed fiber runs next: what is held so far is the previous runner's
        this.#release(this.#last ?? "sim")
        this.#last = e.thread
      }
    }
    if (own === undefined && (CALL.test(e.ev) || e.ev === "vcpu.wake" || e.ev.startsWith("vcpus."))) {
      this.#held.push(e)
      if (this.#held.length > HOLD_MAX) this.#release(this.#last ?? "sim")
      return
    }
    if (this.#held.length > 0) {
      this.#held.push(e)
      return
    }
    this.#out(e, own ?? this.#last ?? "sim")
    if (typeof e.thread === "string" && ASLEEP.has(e.ev)) this.#last = e.thread
  }

  /** Hands on what is held: calls go to `owner`, the rest to their own threads. */
  #release(owner: string): void {
    const held = this.#held
    if (held.length === 0) return
    this.#held = []
    for (const h of held) this.#out(h, ownThread(h, this.#script) ?? owner)
  }

  /** The end of the trace: what is still held goes to the last thread seen. */
  end(): void {
    this.#release(this.#last ?? "sim")
  }
}

/** Threads of events one at a time, for a window of lines without the sleeps after it (diff). */
export class ThreadTracker {
  current: string | null = null
  #script = false

  threadOf(e: TraceEvent): string {
    if (e.ev === "step") this.#script = true
    const own = ownThread(e, this.#script)
    if (typeof e.thread === "string") {
      if (e.ev === "resume" || e.ev === "unpark") this.current = e.thread
      return e.thread
    }
    return own ?? this.current ?? "vmm"
  }
}
