// What the simulated system was doing at some point of a trace, from the events before it: each
// vCPU (running, blocked on what since when, paused), the VMM's threads (last call, sleeping or
// parked), the tracker's phase and cycle. `diff` shows it at the divergence, `why` uses the same.
import { type FieldValue, fieldsOf, type TraceEvent } from "./record.ts"
import type { AddressSpace } from "./space.ts"
import { vcpuOf } from "./threads.ts"
import { showTime } from "./units.ts"
import { showValue } from "./view.ts"

const RWP_ASYNC = 1 << 18
const num = (v: FieldValue | undefined): number | undefined => (typeof v === "number" ? v : undefined)

export class StateSketch {
  readonly vcpus = new Map<number, string>()
  readonly threads = new Map<string, string>()
  phase: string | null = null
  cycles = 0
  mode: "async" | "sync" | null = null
  /** Threads whose next sleep is a call's cost (the call stays what they are doing). */
  readonly #called = new Set<string>()

  /** One event and its thread (ThreadAttributor), in order. */
  learn(e: TraceEvent, space: AddressSpace, thread: string): void {
    const at = showTime(e.t)
    switch (e.ev) {
      case "resume":
      case "unpark":
        this.threads.set(thread, `running since ${at}`)
        return
      case "sleep":
        if (!this.#called.has(thread)) this.threads.set(thread, `sleeping until ${showTime(num(e.until) ?? e.t)}`)
        this.#called.delete(thread)
        return
      case "park":
        this.threads.set(thread, `parked on ${String(e.on)} since ${at}`)
        return
      case "exit":
        this.threads.set(thread, `exited at ${at}`)
        return
      case "vcpu.block":
      case "vcpu.block_again":
        this.vcpus.set(num(e.vcpu) ?? -1, `blocked since ${at} on ${String(e.on ?? "?")}`)
        return
      case "vcpu.done":
        this.vcpus.set(num(e.vcpu) ?? -1, `running (last stall ${showTime(num(e.stalled_ns) ?? 0)}, ended ${at})`)
        return
      case "vcpus.pause":
        for (const v of this.vcpus.keys()) this.vcpus.set(v, `paused since ${at}`)
        return
      case "access": {
        const v = num(e.task)
        if (v === undefined) return
        const what = `${e.write === true ? "write" : "read"} of ${space.show(num(e.addr) ?? 0)}`
        this.vcpus.set(v, e.result === "blocked" ? `blocked since ${at} (${what})` : `idle (last ${what} at ${at})`)
        return
      }
      case "workload.cycle":
        this.cycles = (num(e.cycle) ?? this.cycles) + 1
        return
    }
    if (e.ev === "vmm.pread") return // a submission: the thread goes on (its sleep says until when)
    if (e.ev.startsWith("vmm.") && !thread.startsWith("vcpu")) {
      const args = fieldsOf(e)
        .map(([k, v]) => `${k}=${showValue(e.ev, k, v, space)}`)
        .join(" ")
      this.threads.set(thread, `in ${e.ev} ${args} (since ${at})`)
      this.#called.add(thread)
      if (thread === "tracker") {
        if ((e.ev === "vmm.rwprotect" || e.ev === "vmm.writeprotect") && (num(e.mode) ?? 0) !== 0) this.phase = "detect"
        else if (e.ev === "vmm.pagemap_scan") this.phase = "scan"
        else if (e.ev === "vmm.pwrite" || e.ev === "vmm.punch_hole" || e.ev === "vmm.madvise_pageout")
          this.phase = "sync-evict"
        else if (e.ev === "vmm.set_mode" && ((num(e.enable) ?? 0) & RWP_ASYNC) !== 0) this.phase = "resume"
      }
    }
    if (e.ev === "k.set_mode" || e.ev === "vmm.set_mode") {
      if (((num(e.disable) ?? 0) & RWP_ASYNC) !== 0) this.mode = "sync"
      if (((num(e.enable) ?? 0) & RWP_ASYNC) !== 0) this.mode = "async"
    }
    const v = vcpuOf(e)
    if (e.ev === "k.userfault" && v !== undefined)
      this.vcpus.set(v, `faulted (${String(e.reason)}) at ${space.show(num(e.addr) ?? 0)} at ${at}`)
  }

  /** Lines for a reader: `vcpu0: blocked since ...`. */
  lines(): string[] {
    const out: string[] = []
    for (const v of [...this.vcpus.keys()].sort((a, b) => a - b)) out.push(`vcpu${v}: ${this.vcpus.get(v)}`)
    for (const [t, s] of [...this.threads].sort()) out.push(`${t}: ${s}`)
    if (this.phase !== null) out.push(`tracker phase: ${this.phase}`)
    if (this.mode !== null) out.push(`userfaultfd mode: ${this.mode === "async" ? "async (RWP_ASYNC)" : "sync"}`)
    return out
  }
}

/** The fields that differ between two events (`t`, `ev` and each field), as `key: a → b`. */
export function differingFields(a: TraceEvent, b: TraceEvent, space: AddressSpace): string[] {
  const out: string[] = []
  if (a.t !== b.t) out.push(`t: ${showTime(a.t)} → ${showTime(b.t)}`)
  if (a.ev !== b.ev) out.push(`ev: ${a.ev} → ${b.ev}`)
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => k !== "t" && k !== "seq" && k !== "ev"
  )
  for (const k of keys) {
    const x = a[k]
    const y = b[k]
    if (JSON.stringify(x) === JSON.stringify(y)) continue
    const show = (v: FieldValue | undefined, ev: string) => (v === undefined ? "(none)" : showValue(ev, k, v, space))
    out.push(`${k}: ${show(x, a.ev)} → ${show(y, b.ev)}`)
  }
  return out
}
