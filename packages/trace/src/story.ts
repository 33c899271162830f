// The story of one page (`rwpsim why --page ADDR`): every event that concerns it, told as what
// happened and why (which step or ioctl, which thread, which tracker cycle and phase), with the
// tracker's mode switches and scans around it as context, and repeats folded.
import type { FieldValue, TraceEvent } from "./record.ts"
import type { AddressSpace, PageTarget } from "./space.ts"
import { StateSketch } from "./state.ts"
import { formatTime, hex, showSize } from "./units.ts"
import { showBits } from "./view.ts"

const RWP_ASYNC = 1 << 18
const num = (v: FieldValue | undefined): number | undefined => (typeof v === "number" ? v : undefined)

export type StoryKind =
  | "map"
  | "register"
  | "protect"
  | "unprotect"
  | "access"
  | "fault"
  | "block"
  | "resume"
  | "evict"
  | "punch"
  | "populate"
  | "wake"
  | "storage"
  | "loss"
  | "context"
  | "other"

export interface StoryLine {
  readonly t: number
  readonly seq: number
  readonly thread: string
  readonly kind: StoryKind
  readonly text: string
  /** Why it happened: the step, or the tracker's cycle and phase. */
  readonly why: string
  /** Folded repeats of the same line after this one. */
  repeats: number
  lastT: number
}

export interface StorySummary {
  readonly populated: number
  readonly protected: number
  readonly accessedBy: readonly string[]
  readonly evicted: number
  readonly faultedBack: number
  readonly losses: number
}

/** Counts cycles and phases of the tracker, and the script's steps, for the "why" of each line. */
class Cause {
  step: string | null = null
  cycle = -1
  phase: string | null = null
  mode: "async" | "sync" | null = null

  learn(e: TraceEvent, thread: string): void {
    if (e.ev === "step") this.step = `step ${String(e.i)} (${String(e.op)})`
    if (e.ev === "k.set_mode" || e.ev === "vmm.set_mode") {
      if (((num(e.disable) ?? 0) & RWP_ASYNC) !== 0) this.mode = "sync"
      if (((num(e.enable) ?? 0) & RWP_ASYNC) !== 0) this.mode = "async"
    }
    if (thread !== "tracker") return
    if ((e.ev === "vmm.rwprotect" || e.ev === "vmm.writeprotect") && (num(e.mode) ?? 0) !== 0) {
      this.cycle++
      this.phase = "detect"
    } else if (e.ev === "vmm.pagemap_scan") this.phase = "scan"
    else if (e.ev === "vmm.set_mode" && ((num(e.disable) ?? 0) & RWP_ASYNC) !== 0) this.phase = "sync-evict"
    else if (e.ev === "vmm.set_mode" && ((num(e.enable) ?? 0) & RWP_ASYNC) !== 0) this.phase = "resume"
  }

  why(thread: string): string {
    if (this.cycle < 0) {
      const mode = this.mode === null ? "" : `${this.mode} mode`
      if (this.step !== null) return mode === "" || thread === "script" ? this.step : `${this.step}, ${mode}`
      return mode
    }
    const phase = this.phase === null ? "" : `, ${this.phase}`
    const mode = this.mode === null ? "" : `, ${this.mode} mode`
    return `tracker cycle ${this.cycle}${phase}${mode}`
  }
}

export class PageStory {
  readonly lines: StoryLine[] = []
  readonly #cause = new Cause()
  readonly #state = new StateSketch()
  #pendingContext: StoryLine[] = []
  #populated = 0
  #protected = 0
  readonly #accessedBy = new Set<string>()
  #evicted = 0
  #faultedBack = 0
  #losses = 0
  #gone = false
  #everPopulated = false
  readonly #workload: () => boolean

  constructor(workload: () => boolean) {
    this.#workload = workload
  }

  /** One event of the trace (call for every event, after space.learn and threadOf). */
  event(e: TraceEvent, thread: string, space: AddressSpace, page: PageTarget | undefined): void {
    this.#cause.learn(e, thread)
    this.#state.learn(e, space, thread)
    const echo = this.#kernelEcho(e)
    if (page === undefined) return
    if (
      e.ev === "k.set_mode" ||
      (e.ev === "vmm.set_mode" && !echo) ||
      e.ev === "vmm.pagemap_scan" ||
      e.ev === "scan" ||
      e.ev === "vcpus.pause"
    ) {
      if (this.lines.length > 0) this.#context(e, thread, space)
      return
    }
    if (echo) return
    if (!space.touches(e, page)) return
    const told = this.#tell(e, thread, space, page)
    if (told === null) return
    if (this.#pendingContext.length > 0) {
      for (const c of this.#pendingContext.slice(-3)) this.lines.push(c)
      this.#pendingContext = []
    }
    const prev = this.lines[this.lines.length - 1]
    // repeats fold: the same line again, or another violation of the same invariant
    const key = e.ev === "violation" ? `violation:${String(e.invariant)}` : told.text
    const prevKey =
      prev === undefined
        ? undefined
        : prev.kind === "loss" && prev.text.startsWith("violation of ")
          ? `violation:${prev.text.slice(13).split(":")[0]}`
          : prev.text
    if (prev !== undefined && prev.kind === told.kind && prevKey === key && prev.thread === thread) {
      prev.repeats++
      prev.lastT = e.t
      return
    }
    this.lines.push({
      t: e.t,
      seq: e.seq,
      thread,
      kind: told.kind,
      text: told.text,
      why: this.#cause.why(thread),
      repeats: 0,
      lastT: e.t
    })
  }

  #previous: TraceEvent | undefined

  /** A vmm.* call right after the kernel's own line for it (same time): told once, by the kernel's. */
  #kernelEcho(e: TraceEvent): boolean {
    const p = this.#previous
    this.#previous = e
    return p !== undefined && e.ev.startsWith("vmm.") && p.t === e.t && p.ev === `k.${e.ev.slice(4)}`
  }

  #context(e: TraceEvent, thread: string, space: AddressSpace): void {
    let text: string
    if (e.ev === "k.set_mode" || e.ev === "vmm.set_mode") {
      const on = ((num(e.enable) ?? 0) & RWP_ASYNC) !== 0
      text = on
        ? "UFFDIO_SET_MODE enable RWP_ASYNC: back to async mode (every waiter woken)"
        : "UFFDIO_SET_MODE disable RWP_ASYNC: sync mode (an RWP fault now blocks and queues a message)"
    } else if (e.ev === "vmm.pagemap_scan") {
      const inv = num(e.inverted) ?? 0
      const mask = num(e.mask) ?? 0
      text = `PAGEMAP_SCAN ${inv !== 0 ? "!" : ""}${showBits(mask, [
        [512, "PAGE_IS_ACCESSED"],
        [8, "PAGE_IS_PRESENT"],
        [2, "PAGE_IS_WRITTEN"]
      ])}: ${String(e.regions ?? "?")} regions`
    } else if (e.ev === "scan")
      text = `PAGEMAP_SCAN: ${String(e.count)} regions, walk_end ${space.show(num(e.walk_end) ?? 0)}`
    else text = "vCPUs paused for eviction"
    const line: StoryLine = {
      t: e.t,
      seq: e.seq,
      thread,
      kind: "context",
      text,
      why: this.#cause.why(thread),
      repeats: 0,
      lastT: e.t
    }
    this.#pendingContext.push(line)
    if (this.#pendingContext.length > 8) this.#pendingContext.shift()
  }

  #tell(
    e: TraceEvent,
    thread: string,
    space: AddressSpace,
    page: PageTarget
  ): { kind: StoryKind; text: string } | null {
    const len = num(e.len)
    const range = (start: number | undefined) =>
      start === undefined
        ? ""
        : len === undefined || len <= page.bytes
          ? space.show(start)
          : `${space.show(start)} (+${showSize(len)})`
    const who = (v: number | undefined) => (v === undefined ? thread : `vcpu${v}`)
    switch (e.ev) {
      case "k.mmap":
        return {
          kind: "map",
          text: `mapped: ${range(num(e.addr))}${typeof e.file === "string" ? ` on file ${e.file} at offset ${hex(num(e.off) ?? 0)}` : " (anonymous)"}`
        }
      case "k.uffd_register":
        return {
          kind: "register",
          text: `registered with userfaultfd ${String(e.fd)} for ${showBits(num(e.mode) ?? 0, [
            [1, "MISSING"],
            [2, "WP"],
            [4, "MINOR"],
            [8, "RWP"]
          ])}`
        }
      case "k.uffd_unregister":
        return { kind: "register", text: `unregistered from userfaultfd ${String(e.fd)} (protection dropped)` }
      case "k.rwprotect":
      case "vmm.rwprotect": {
        const mode = num(e.mode) ?? 0
        if ((mode & 1) !== 0) {
          this.#protected++
          return {
            kind: "protect",
            text: `protected: UFFDIO_RWPROTECT(RWP) over ${range(num(e.start))} — the next access faults`
          }
        }
        return {
          kind: "unprotect",
          text: `unprotected: UFFDIO_RWPROTECT(!RWP)${(mode & 2) !== 0 ? " DONTWAKE" : ""} over ${range(num(e.start))}`
        }
      }
      case "k.writeprotect":
      case "vmm.writeprotect":
        return {
          kind: "protect",
          text: `write-protect ${num(e.mode) === 0 ? "cleared" : "set"} over ${range(num(e.start))}`
        }
      case "access": {
        const v = num(e.task)
        this.#accessedBy.add(who(v))
        const rw = e.write === true ? "write" : "read"
        if (e.result !== "blocked" && this.#gone === false && !this.#everPopulated) {
          this.#everPopulated = true
          this.#populated++
        }
        return {
          kind: "access",
          text: `${rw} by ${who(v)}: ${String(e.result)}${e.result === "blocked" ? " (waits for the VMM)" : ""}`
        }
      }
      case "retry":
        return { kind: "access", text: `${who(num(e.vcpu))} retries its access (woken)` }
      case "k.rwp_async": {
        this.#accessedBy.add(who(num(e.task)))
        return {
          kind: "fault",
          text: `${e.write === true ? "write" : "read"} by ${who(num(e.task))} hit the protection in async mode: the kernel unprotected the page at once (it now counts as accessed, no message)`
        }
      }
      case "k.userfault": {
        this.#accessedBy.add(who(num(e.task)))
        const reason = String(e.reason)
        const why =
          reason === "missing"
            ? "the page is not in memory (evicted, or never populated): a MISSING message is queued"
            : reason === "rwp"
              ? "the page is protected and the userfaultfd is in sync mode: the vCPU sleeps, an RWP message is queued"
              : `a ${reason} message is queued`
        return {
          kind: "fault",
          text: `${reason.toUpperCase()} fault by ${who(num(e.task))} (${e.write === true ? "write" : "read"}): ${why}`
        }
      }
      case "k.swapin":
        this.#faultedBack++
        return {
          kind: "populate",
          text: `swapped in${e.uffd === true ? " (still protected: the swap entry kept the uffd bit)" : ""}`
        }
      case "vcpu.block":
      case "vcpu.block_again": {
        this.#accessedBy.add(who(num(e.vcpu)))
        return {
          kind: "block",
          text: `${who(num(e.vcpu))} ${e.ev === "vcpu.block" ? "blocked" : "blocked again"} on its ${e.write === true ? "write" : "read"}: ${String(e.on)}`
        }
      }
      case "vcpu.done":
        return {
          kind: "resume",
          text: `${who(num(e.vcpu))} completed its access after a ${formatTime(num(e.stalled_ns) ?? 0, 0)} stall`
        }
      case "pwrite":
        return {
          kind: "storage",
          text: `pwrite to storage ${String(e.storage)} at offset ${hex(num(e.offset) ?? 0)} from ${range(num(e.from))}: the VMM's copy of the page`
        }
      case "pread":
        return {
          kind: "storage",
          text: `pread from storage ${String(e.storage)} at offset ${hex(num(e.offset) ?? 0)} into ${range(num(e.to))}`
        }
      case "vmm.pwrite":
        this.#evicted++
        return {
          kind: "evict",
          text: `reported cold and evicted: pwrite of ${String(e.pages)} page(s) from io_mem to storage, done at ${formatTime(num(e.done) ?? e.t, 0)}`
        }
      case "vmm.madvise_pageout":
        this.#evicted++
        return {
          kind: "evict",
          text: `reported cold and evicted: madvise(MADV_PAGEOUT) over ${range(num(e.start))} (to swap)`
        }
      case "k.punch_hole":
      case "vmm.punch_hole":
        this.#gone = true
        if (!this.#workload()) this.#evicted++
        return {
          kind: "punch",
          text: `hole punched (fallocate PUNCH_HOLE) in ${String(e.file ?? "guest")} at ${hex(num(e.off) ?? num(e.offset) ?? 0)} (+${showSize(len ?? 0)}): the page left memory; the next access faults MISSING`
        }
      case "vmm.pread":
        return {
          kind: "storage",
          text: `the fault handler reads it back from storage (done at ${formatTime(num(e.done) ?? e.t, 0)})`
        }
      case "k.uffd_copy":
        if (this.#workload()) return null // vmm.copy tells it, with the word
        return this.#populate(range(num(e.dst)), undefined)
      case "vmm.copy":
        return this.#populate(range(num(e.dst)), num(e.word))
      case "vmm.wake":
        return { kind: "wake", text: `UFFDIO_WAKE over ${range(num(e.start))}: vCPUs waiting on it retry` }
      case "guest.untrapped_write":
        return {
          kind: "loss",
          text: `${who(num(e.vcpu))} wrote ${String(e.value)} without a fault (${String(e.writes ?? 1)} write(s)): ${String(e.note ?? "")}`
        }
      case "checker.stale_eviction":
        this.#losses++
        return {
          kind: "loss",
          text: `LOST WRITE: storage got ${String(e.stored)} but the guest's last write was ${String(e.last_write)} (vcpu${String(e.by_vcpu)}): ${String(e.note ?? "")}`
        }
      case "checker.stale_fault_back":
        return {
          kind: "loss",
          text: `faulted back a stale copy: ${String(e.copied)} instead of ${String(e.last_write)}: ${String(e.note ?? "")}`
        }
      case "violation":
        return { kind: "loss", text: `violation of ${String(e.invariant)}: ${String(e.message)}` }
      case "workload.setup":
        return {
          kind: "map",
          text: `guest memory set up (${String(e.backing)}, ${String(e.pages)} pages, tracker ${String(e.tracker)})`
        }
      default:
        return { kind: "other", text: e.ev }
    }
  }

  #populate(where: string, word: number | undefined): { kind: StoryKind; text: string } {
    const back = this.#gone
    this.#gone = false
    this.#everPopulated = true
    this.#populated++
    if (back) this.#faultedBack++
    const value = word === undefined ? "" : word === 0 && !back ? " with a zero page" : ` with word ${word}`
    return {
      kind: "populate",
      text: `${back ? "faulted back" : "populated"}: UFFDIO_COPY into ${where}${value}${back ? " (answering the MISSING fault)" : ""}`
    }
  }

  /** What is happening at the end of the trace around the page (vCPUs, threads, mode). */
  finalState(): string[] {
    return this.#state.lines()
  }

  summary(): StorySummary {
    return {
      populated: this.#populated,
      protected: this.#protected,
      accessedBy: [...this.#accessedBy].sort(),
      evicted: this.#evicted,
      faultedBack: this.#faultedBack,
      losses: this.#losses
    }
  }
}
