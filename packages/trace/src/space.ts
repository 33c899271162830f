// The address space a trace describes, learnt line by line: mappings from `k.mmap` (named by the
// step that made them, `step {op: mmap, as}`, or by `workload.setup` for guest_mem and io_mem), the
// files behind them, and the guest's page numbering. With it, an event's fields (addresses, guest
// page numbers, file offsets) can be tested against one page, for `--page` and `why`.
import type { FieldValue, TraceEvent } from "./record.ts"
import { hex } from "./units.ts"

export interface Mapping {
  readonly name: string | null
  readonly start: number
  readonly len: number
  /** The file behind it (its `as` name, or "guest" for the workload's memfd), or null for anon. */
  readonly file: string | null
  readonly off: number
}

/** The guest's page numbering (workload runs): page p is at guest_mem + p * page_bytes. */
export interface GuestLayout {
  readonly guest_mem: number
  readonly io_mem: number
  readonly pages: number
  readonly page_bytes: number
}

/** One page to follow: its start address and what else names it. */
export interface PageTarget {
  readonly addr: number
  readonly bytes: number
  /** Its guest page number (when inside guest_mem), for `page` and `first`/`pages` fields. */
  readonly guestPage: number | null
  /** Its place in the file behind its mapping, for `k.punch_hole` and the like. */
  readonly file: { readonly name: string; readonly off: number } | null
  /** Every address where the page is mapped (guest_mem and io_mem map the same file page). */
  readonly aliases: readonly number[]
  readonly label: string
}

const num = (v: FieldValue | undefined): number | undefined => (typeof v === "number" ? v : undefined)
const str = (v: FieldValue | undefined): string | undefined => (typeof v === "string" ? v : undefined)

/** Fields holding a start address; with `len` beside them they are a range. */
const ADDRESS_KEYS = ["addr", "dst", "from", "to", "start", "address", "src_addr"] as const

export class AddressSpace {
  readonly mappings: Mapping[] = []
  guest: GuestLayout | null = null
  /** Bytes per page where the trace does not say (scripts: the machine's default 4 KiB). */
  page_bytes = 4096
  #pendingName: string | null = null
  #pendingFile: string | null = null

  /** Learns from one event (call it for every event, in order). */
  learn(e: TraceEvent): void {
    switch (e.ev) {
      case "step":
        this.#pendingName = e.op === "mmap" ? (str(e.as) ?? null) : null
        this.#pendingFile = e.op === "mmap" ? (str(e.fd) ?? null) : null
        return
      case "k.mmap": {
        const start = num(e.addr)
        const len = num(e.len)
        if (start === undefined || len === undefined) return
        const name = str(e.as) ?? this.#pendingName
        const file = str(e.file) ?? this.#pendingFile
        this.#add({ name, start, len, file, off: num(e.off) ?? 0 })
        this.#pendingName = null
        this.#pendingFile = null
        return
      }
      case "workload.setup": {
        const guest_mem = num(e.guest_mem)
        const pages = num(e.pages)
        const page_bytes = num(e.page_bytes)
        if (guest_mem === undefined || pages === undefined || page_bytes === undefined) return
        const io_mem = num(e.io_mem) ?? -1
        this.guest = { guest_mem, io_mem, pages, page_bytes }
        this.page_bytes = page_bytes
        const len = pages * page_bytes
        const file = e.backing === "anon" ? null : "guest"
        this.#name(guest_mem, len, "guest_mem", file)
        if (io_mem >= 0) this.#name(io_mem, len, "io_mem", file)
        return
      }
    }
  }

  #add(m: Mapping): void {
    // a new mapping over an old one replaces it (MAP_FIXED)
    for (let i = this.mappings.length - 1; i >= 0; i--) {
      const o = this.mappings[i]!
      if (o.start < m.start + m.len && m.start < o.start + o.len) this.mappings.splice(i, 1)
    }
    this.mappings.push(m)
  }

  #name(start: number, len: number, name: string, file: string | null): void {
    const i = this.mappings.findIndex((m) => m.start === start)
    const old = this.mappings[i]
    if (old === undefined) this.#add({ name, start, len, file, off: 0 })
    else this.mappings[i] = { ...old, name, file: old.file ?? file }
  }

  mappingAt(addr: number): Mapping | undefined {
    return this.mappings.find((m) => addr >= m.start && addr < m.start + m.len)
  }

  byName(name: string): Mapping | undefined {
    return this.mappings.find((m) => m.name === name)
  }

  /** `guest_mem+0x3000` for an address inside a named mapping, else hex. */
  show(addr: number): string {
    const m = this.mappingAt(addr) ?? this.mappings.find((x) => x.start + x.len === addr)
    if (m === undefined || m.name === null) return hex(addr)
    return addr === m.start ? m.name : `${m.name}+${hex(addr - m.start)}`
  }

  /** The page at `base+offset` (base a mapping's name or null for an absolute address), or why not. */
  resolve(base: string | null, offset: number): PageTarget | string {
    let addr = offset
    if (base !== null) {
      const m = this.byName(base)
      if (m === undefined) {
        const known = this.mappings.flatMap((x) => (x.name === null ? [] : [x.name]))
        return `no mapping named "${base}" in the trace (known: ${known.length > 0 ? known.join(", ") : "none"})`
      }
      if (offset >= m.len) return `${base}+${hex(offset)} is past the end of ${base} (${hex(m.len)} bytes)`
      addr = m.start + offset
    }
    return this.target(addr)
  }

  /** The page holding `addr`. */
  target(addr: number): PageTarget {
    const bytes = this.page_bytes
    const page = addr - (addr % bytes)
    const g = this.guest
    const m = this.mappingAt(page)
    const inGuest = g !== null && page >= g.guest_mem && page < g.guest_mem + g.pages * g.page_bytes
    const inIo = g !== null && g.io_mem >= 0 && page >= g.io_mem && page < g.io_mem + g.pages * g.page_bytes
    const guestPage = inGuest ? (page - g.guest_mem) / g.page_bytes : inIo ? (page - g.io_mem) / g.page_bytes : null
    const file = m?.file == null ? null : { name: m.file, off: m.off + (page - m.start) }
    const aliases = [page]
    if (file !== null) {
      for (const o of this.mappings) {
        if (o === m || o.file !== file.name) continue
        if (file.off >= o.off && file.off < o.off + o.len) aliases.push(o.start + (file.off - o.off))
      }
    } else if (inIo && g !== null) aliases.push(g.guest_mem + (page - g.io_mem))
    const label = guestPage === null ? this.show(page) : `${this.show(page)} (guest page ${guestPage})`
    return { addr: page, bytes, guestPage, file, aliases, label }
  }

  /** Whether event `e` concerns page `p`: an address range over it, its guest page number, its file offset. */
  touches(e: TraceEvent, p: PageTarget): boolean {
    const len = num(e.len)
    for (const k of ADDRESS_KEYS) {
      const a = num(e[k])
      if (a === undefined) continue
      const n = len ?? 1
      for (const at of p.aliases) if (a < at + p.bytes && at < a + n) return true
    }
    if (p.guestPage !== null) {
      const page = num(e.page)
      if (page === p.guestPage) return true
      const first = num(e.first)
      const pages = num(e.pages)
      if (first !== undefined && pages !== undefined && p.guestPage >= first && p.guestPage < first + pages) return true
    }
    if (p.file !== null) {
      const file = str(e.file) ?? (e.ev === "vmm.punch_hole" ? "guest" : undefined)
      const off = num(e.off) ?? (e.ev === "vmm.punch_hole" ? num(e.offset) : undefined)
      if (file === p.file.name && off !== undefined && len !== undefined)
        if (p.file.off < off + len && off < p.file.off + p.bytes) return true
    }
    return false
  }
}
