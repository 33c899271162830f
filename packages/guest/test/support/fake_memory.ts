// A tiny stand-in for the kernel: one u32 per page, with knobs to block, signal or lose writes.
import { ACCESS_BLOCKED, ACCESS_DONE, ACCESS_SIGBUS, type GuestMemory } from "../../src/index.ts"

export interface AccessLogEntry {
  task: number
  page: number
  write: boolean
  value: number
  code: number
  /** What `clock` read during the access (-1 without a clock). */
  t_ns: number
}

export class FakeMemory implements GuestMemory {
  access_value = 0
  readonly content: Uint32Array
  readonly log: AccessLogEntry[] = []
  /** Pages whose accesses block until removed from the set. */
  readonly blocking = new Set<number>()
  /** Pages whose accesses raise SIGBUS. */
  readonly sigbus = new Set<number>()
  /** Pages whose next write is silently dropped (then the page behaves again). */
  readonly lose_next_write = new Set<number>()
  /** Read during each access, e.g. the vCPU's now_ns (which a burst keeps at the access in progress). */
  clock: (() => number) | null = null

  constructor(
    readonly base_addr: number,
    readonly page_bytes: number,
    pages: number
  ) {
    this.content = new Uint32Array(pages)
  }

  access(task: number, addr: number, write: boolean, value: number, _user: boolean): number {
    const page = (addr - this.base_addr) / this.page_bytes
    let code = ACCESS_DONE
    if (this.blocking.has(page)) code = ACCESS_BLOCKED
    else if (this.sigbus.has(page)) code = ACCESS_SIGBUS
    this.log.push({ task, page, write, value, code, t_ns: this.clock === null ? -1 : this.clock() })
    if (code !== ACCESS_DONE) return code
    if (write) {
      if (this.lose_next_write.has(page)) this.lose_next_write.delete(page)
      else this.content[page] = value
    } else {
      this.access_value = this.content[page]
    }
    return ACCESS_DONE
  }

  access_page(task: number, page: number, write: boolean, value: number): number {
    return this.access(task, this.base_addr + page * this.page_bytes, write, value, true)
  }

  /** Page indexes of completed accesses, in order. */
  donePages(): number[] {
    return this.log.filter((e) => e.code === ACCESS_DONE).map((e) => e.page)
  }
}
