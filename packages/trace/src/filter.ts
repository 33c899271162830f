// The filters of `rwpsim trace`: a page (resolved once the trace names its mapping), a vCPU, a
// time window and event names (`k.userfault`, or a prefix glob `k.*`, comma-separated).
import type { TraceEvent } from "./record.ts"
import type { AddressSpace, PageTarget } from "./space.ts"
import { concernsVcpu } from "./threads.ts"

export interface FilterSpec {
  readonly page?: { readonly base: string | null; readonly offset: number; readonly text: string }
  readonly vcpu?: number
  readonly from?: number
  readonly to?: number
  readonly ev?: readonly string[]
}

/** `k.*` matches every name starting with `k.`; anything else matches exactly. */
export function eventMatcher(patterns: readonly string[]): (ev: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith("*")))
  const prefixes = patterns.filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1))
  return (ev) => exact.has(ev) || prefixes.some((p) => ev.startsWith(p))
}

export class TraceFilter {
  readonly spec: FilterSpec
  readonly #ev: ((ev: string) => boolean) | undefined
  /** The page, once resolved (a name resolves when its mapping appears in the trace). */
  page: PageTarget | undefined
  /** Why the page did not resolve (so far). */
  pageProblem: string | undefined

  constructor(spec: FilterSpec) {
    this.spec = spec
    this.#ev = spec.ev === undefined ? undefined : eventMatcher(spec.ev)
  }

  /** True once every later event is past `--to` (the reader may stop). */
  done(e: TraceEvent): boolean {
    return this.spec.to !== undefined && e.t > this.spec.to
  }

  /** Whether `e` passes (call after space.learn(e)). */
  accepts(e: TraceEvent, space: AddressSpace): boolean {
    const s = this.spec
    if (s.from !== undefined && e.t < s.from) return false
    if (s.to !== undefined && e.t > s.to) return false
    if (this.#ev !== undefined && !this.#ev(e.ev)) return false
    if (s.vcpu !== undefined && !concernsVcpu(e, s.vcpu)) return false
    if (s.page !== undefined) {
      if (this.page === undefined || e.ev === "k.mmap" || e.ev === "workload.setup") {
        const r = space.resolve(s.page.base, s.page.offset)
        if (typeof r === "string") {
          this.pageProblem = r
          return false
        }
        this.page = r
        this.pageProblem = undefined
      }
      if (!space.touches(e, this.page)) return false
    }
    return true
  }
}
