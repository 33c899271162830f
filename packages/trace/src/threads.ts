// Which simulated thread an event belongs to, as ftrace's task column: a vCPU (`vcpu`, `task` or
// `vcpus` fields), a VMM thread (`thread` field, or the fiber last resumed and not yet asleep for
// the kernel and VMM calls it makes), the script (step events and what a step's ioctl does), or
// the simulator itself (choices, the end).
import type { FieldValue, TraceEvent } from "./record.ts"

const SCRIPT_EVENTS = new Set(["step", "scan", "pwrite", "pread", "fail"])
const SIM_EVENTS = new Set(["choice", "end", "workload.setup", "spawn", "violation", "error"])

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

export class ThreadTracker {
  /** The VMM fiber running now (between its `resume` and its `sleep`/`park`/`exit`). */
  current: string | null = null
  #script = false

  /** The thread of `e` (call for every event, in order): `vcpu0`, `tracker`, `script`, `sim`. */
  threadOf(e: TraceEvent): string {
    const thread = typeof e.thread === "string" ? e.thread : undefined
    if (thread !== undefined) {
      if (e.ev === "resume") this.current = thread
      else if (e.ev === "sleep" || e.ev === "park" || e.ev === "exit") {
        if (this.current === thread) this.current = null
      }
      return thread
    }
    if (e.ev === "step") this.#script = true
    if (e.ev === "vcpu.wake" || e.ev === "vcpus.pause" || e.ev === "vcpus.resume") return this.current ?? "sim"
    const v = vcpuOf(e)
    if (v !== undefined) return `vcpu${v}`
    if (SCRIPT_EVENTS.has(e.ev)) return "script"
    if (SIM_EVENTS.has(e.ev)) return "sim"
    if (this.current !== null) return this.current
    return this.#script ? "script" : "sim"
  }
}
