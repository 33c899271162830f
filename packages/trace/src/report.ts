// The model of `rwpsim report`: what the HTML report draws, gathered in one streaming pass over a
// trace in memory bounded by the cycles and the page rows (never by the number of events).
//   heatmap: per tracker cycle and row of guest pages, the pages accessed (ground truth, from
//            `workload.cycle`), judged accessed by the tracker, evicted, and faulted back;
//            a script (no cycles) gets columns of equal event counts and its accesses and faults;
//   wss:     true and estimated working set per cycle, and resident pages;
//   stalls:  every blocked or paused episode, in power-of-two buckets;
//   checks:  the six invariants (violations by name), errors, the run's end and metrics.
import type { FieldValue, TraceEvent, TraceHeader } from "./record.ts"
import type { AddressSpace } from "./space.ts"

export const INVARIANT_NAMES = [
  "no_data_loss",
  "no_lost_wakeup",
  "protection",
  "scan_soundness",
  "mode",
  "accounting"
] as const

const num = (v: FieldValue | undefined): number | undefined => (typeof v === "number" ? v : undefined)
const nums = (v: FieldValue | undefined): number[] =>
  Array.isArray(v) ? v.map((x) => (typeof x === "number" ? x : 0)) : []

/** Script traces: this many event-count columns and page rows at most. */
const SCRIPT_COLUMNS = 48
const MAX_ROWS = 128

export interface HeatColumn {
  /** Virtual time of the column's end (the cycle's scan), ns. */
  readonly t: number
  readonly accessed: number[]
  readonly hot: number[]
  readonly evicted: number[]
  readonly refaulted: number[]
}

export interface Violation {
  readonly invariant: string
  readonly t: number
  readonly page: number
  readonly message: string
}

export interface InvariantResult {
  readonly name: string
  readonly violations: number
  readonly first: Violation | null
}

export interface ReportData {
  readonly header: TraceHeader
  readonly kind: "workload" | "script"
  readonly tracker: string | null
  readonly pages: number
  readonly pagesPerRow: number
  readonly rows: number
  readonly columns: HeatColumn[]
  readonly wss: {
    readonly t: number[]
    readonly truth: number[]
    readonly estimated: number[]
    readonly resident: number[]
  }
  /** stalls.counts[i]: episodes of [2^i, 2^(i+1)) ns (bucket 0 also holds 0 ns). */
  readonly stalls: { readonly counts: number[]; readonly total: number; readonly max: number }
  readonly invariants: InvariantResult[]
  readonly violations: Violation[]
  readonly errors: { readonly t: number; readonly message: string }[]
  readonly end: { readonly t: number; readonly ok: boolean | null; readonly metrics: Record<string, FieldValue> }
  readonly events: number
}

const emptyColumn = (rows: number, t: number): HeatColumn => ({
  t,
  accessed: new Array<number>(rows).fill(0),
  hot: new Array<number>(rows).fill(0),
  evicted: new Array<number>(rows).fill(0),
  refaulted: new Array<number>(rows).fill(0)
})

export class ReportBuilder {
  readonly #header: TraceHeader
  #pages = 0
  #perRow = 1
  #rows = 0
  #tracker: string | null = null
  readonly #columns: HeatColumn[] = []
  #evictedNow: Uint8Array = new Uint8Array(0)
  readonly #wss = { t: [] as number[], truth: [] as number[], estimated: [] as number[], resident: [] as number[] }
  #resident = 0
  readonly #stallCounts = new Array<number>(48).fill(0)
  #stallTotal = 0
  #stallMax = 0
  readonly #blockedSince = new Map<number, number>()
  readonly #violations: Violation[] = []
  readonly #counts = new Map<string, number>()
  readonly #errors: { t: number; message: string }[] = []
  #end: ReportData["end"] = { t: 0, ok: null, metrics: {} }
  #events = 0
  #cycles = false
  /** Script traces: every access/fault, as (seq, page) pairs in a compact reservoir of columns. */
  readonly #script: { seq: number; page: number; kind: "access" | "hot" | "evict" | "refault" }[] = []

  constructor(header: TraceHeader) {
    this.#header = header
  }

  #stall(ns: number): void {
    const b = ns <= 1 ? 0 : Math.min(this.#stallCounts.length - 1, Math.floor(Math.log2(ns)))
    this.#stallCounts[b]!++
    this.#stallTotal++
    if (ns > this.#stallMax) this.#stallMax = ns
  }

  /** One event, in order (after space.learn(e)). */
  event(e: TraceEvent, space: AddressSpace): void {
    this.#events++
    switch (e.ev) {
      case "workload.setup":
        this.#pages = num(e.pages) ?? 0
        this.#tracker = typeof e.tracker === "string" ? e.tracker : null
        this.#evictedNow = new Uint8Array(this.#pages)
        return
      case "workload.cycle": {
        this.#cycles = true
        const accessed = nums(e.accessed)
        this.#perRow = num(e.pages_per_row) ?? 1
        this.#rows = accessed.length
        const col = emptyColumn(this.#rows, e.t)
        col.accessed.splice(0, this.#rows, ...accessed)
        col.hot.splice(0, this.#rows, ...nums(e.hot).slice(0, this.#rows))
        this.#columns.push(col)
        this.#wss.t.push(e.t)
        this.#wss.truth.push(num(e.true_pages) ?? 0)
        this.#wss.estimated.push(num(e.estimated_pages) ?? 0)
        this.#wss.resident.push(this.#resident)
        return
      }
      case "vmm.pwrite":
      case "vmm.madvise_pageout": {
        const g = space.guest
        const first =
          e.ev === "vmm.pwrite"
            ? num(e.first)
            : g === null
              ? undefined
              : ((num(e.start) ?? 0) - g.guest_mem) / g.page_bytes
        const count = e.ev === "vmm.pwrite" ? (num(e.pages) ?? 0) : g === null ? 0 : (num(e.len) ?? 0) / g.page_bytes
        if (first === undefined) return
        const col = this.#columns[this.#columns.length - 1]
        for (let p = first; p < first + count; p++) {
          if (p >= 0 && p < this.#evictedNow.length) this.#evictedNow[p] = 1
          if (col !== undefined) col.evicted[Math.floor(p / this.#perRow)]!++
        }
        if (this.#cycles === false) this.#script.push({ seq: e.seq, page: first, kind: "evict" })
        return
      }
      case "vmm.copy": {
        const g = space.guest
        const dst = num(e.dst)
        if (g === null || dst === undefined) return
        const p = Math.floor((dst - g.guest_mem) / g.page_bytes)
        this.#resident++
        if (p >= 0 && p < this.#evictedNow.length && this.#evictedNow[p] === 1) {
          this.#evictedNow[p] = 0
          const col = this.#columns[this.#columns.length - 1]
          if (col !== undefined) col.refaulted[Math.floor(p / this.#perRow)]!++
        }
        return
      }
      case "vmm.punch_hole":
        this.#resident -= Math.round((num(e.len) ?? 0) / (space.guest?.page_bytes ?? space.page_bytes))
        return
      case "vcpu.done":
        this.#stall(num(e.stalled_ns) ?? 0)
        return
      case "vcpus.resume": {
        const paused = num(e.paused_ns) ?? 0
        const held = Array.isArray(e.vcpus) ? e.vcpus.length : 1
        for (let i = 0; i < held; i++) this.#stall(paused)
        return
      }
      case "access": {
        const v = num(e.task)
        if (v !== undefined) {
          if (e.result === "blocked") {
            if (!this.#blockedSince.has(v)) this.#blockedSince.set(v, e.t)
          } else {
            const since = this.#blockedSince.get(v)
            if (since !== undefined) this.#stall(e.t - since)
            this.#blockedSince.delete(v)
          }
        }
        this.#scriptPage(e, num(e.addr), "access", space)
        return
      }
      case "k.rwp_async":
      case "k.userfault":
        this.#scriptPage(e, num(e.addr), "access", space)
        return
      case "pwrite":
        this.#scriptPage(e, num(e.from), "evict", space, num(e.len))
        return
      case "k.uffd_copy":
        this.#scriptPage(e, num(e.dst), "refault", space, num(e.len))
        return
      case "violation": {
        const name = String(e.invariant)
        this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1)
        if (this.#violations.length < 200)
          this.#violations.push({ invariant: name, t: e.t, page: num(e.page) ?? -1, message: String(e.message ?? "") })
        return
      }
      case "error":
        if (this.#errors.length < 200) this.#errors.push({ t: e.t, message: String(e.message ?? "") })
        return
      case "fail":
        if (this.#errors.length < 200)
          this.#errors.push({ t: e.t, message: `step ${String(e.step)}: ${String(e.message ?? "")}` })
        return
      case "end": {
        const metrics: Record<string, FieldValue> = {}
        for (const k of Object.keys(e)) if (k !== "t" && k !== "seq" && k !== "ev" && k !== "ok") metrics[k] = e[k]!
        this.#end = { t: e.t, ok: typeof e.ok === "boolean" ? e.ok : null, metrics }
        return
      }
    }
  }

  /** Script traces: the page an access or VMM copy concerns, in the first named mapping's rows. */
  #scriptPage(
    e: TraceEvent,
    addr: number | undefined,
    kind: "access" | "evict" | "refault",
    space: AddressSpace,
    len?: number
  ): void {
    if (this.#cycles || addr === undefined || this.#script.length > 200_000) return
    const m = space.mappings.find((x) => x.name !== null && addr >= x.start && addr < x.start + x.len)
    if (m === undefined || m !== space.mappings.find((x) => x.name !== null)) return
    const first = Math.floor((addr - m.start) / space.page_bytes)
    const n = Math.max(1, Math.ceil((len ?? 1) / space.page_bytes))
    if (this.#pages === 0 || this.#pages < m.len / space.page_bytes) this.#pages = m.len / space.page_bytes
    for (let p = first; p < first + n; p++) this.#script.push({ seq: e.seq, page: p, kind })
  }

  finish(): ReportData {
    let columns = this.#columns
    let rows = this.#rows
    let perRow = this.#perRow
    const kind = this.#cycles ? "workload" : "script"
    if (!this.#cycles && this.#pages > 0) {
      rows = Math.min(MAX_ROWS, this.#pages)
      perRow = Math.ceil(this.#pages / rows)
      const n = Math.max(1, this.#events)
      const cols = Math.min(SCRIPT_COLUMNS, n)
      columns = Array.from({ length: cols }, (_, i) => emptyColumn(rows, Math.ceil(((i + 1) * n) / cols)))
      for (const s of this.#script) {
        const c = columns[Math.min(cols - 1, Math.floor((s.seq * cols) / n))]!
        const r = Math.min(rows - 1, Math.floor(s.page / perRow))
        if (s.kind === "access") c.accessed[r]!++
        else if (s.kind === "evict") c.evicted[r]!++
        else c.refaulted[r]!++
      }
    }
    const invariants: InvariantResult[] = INVARIANT_NAMES.map((name) => ({
      name,
      violations: this.#counts.get(name) ?? 0,
      first: this.#violations.find((v) => v.invariant === name) ?? null
    }))
    for (const [name, n] of this.#counts)
      if (!INVARIANT_NAMES.includes(name as (typeof INVARIANT_NAMES)[number]))
        invariants.push({ name, violations: n, first: this.#violations.find((v) => v.invariant === name) ?? null })
    let last = this.#stallCounts.length
    while (last > 1 && this.#stallCounts[last - 1] === 0) last--
    return {
      header: this.#header,
      kind,
      tracker: this.#tracker,
      pages: this.#pages,
      pagesPerRow: perRow,
      rows,
      columns,
      wss: this.#wss,
      stalls: { counts: this.#stallCounts.slice(0, last), total: this.#stallTotal, max: this.#stallMax },
      invariants,
      violations: this.#violations,
      errors: this.#errors,
      end: this.#end,
      events: this.#events
    }
  }
}
