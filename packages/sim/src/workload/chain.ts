// The wait-for chain of a blocked vCPU: what it waits on, what the page is, where its userfaultfd
// message went, and what each VMM thread is doing, so a hang reads as a chain of who waits for whom.
import type { Kernel } from "@rwpsim/kernel"
import type { SimEngine } from "@rwpsim/sched"
import type { GuestLayout, HandlerState, TrackerState, VmmPages } from "@rwpsim/vmm"
import { type BlockedAccess, waitsOn } from "./driver.ts"
import { showDuration, showPage, showTime } from "./format.ts"

export interface ChainContext {
  readonly engine: SimEngine<unknown>
  readonly kernel: Kernel
  readonly layout: GuestLayout
  readonly pages: VmmPages
  readonly handler: HandlerState
  readonly tracker: TrackerState
}

/** The chain of vCPU `vcpu` blocked in `b`, one link per line. */
export function waitForChain(c: ChainContext, vcpu: number, b: BlockedAccess): string[] {
  const now = c.engine.now_ns
  const { layout, pages, kernel } = c
  const p = b.page
  const again = b.retries > 0 ? `; woken ${b.retries} time(s) and blocked again` : ""
  const links = [
    `vCPU ${vcpu}: its ${b.write ? "write" : "read"} of ${showPage(p, layout.page_bytes)} has been blocked since ${showTime(b.since_ns)}, for ${showDuration(now - b.since_ns)}${again}`,
    `it waits on ${waitsOn(b)}`
  ]
  const e = kernel.pagemap_read(layout.guest_mem + p * layout.page_bytes)
  const vmm = pages.evicted.get(p)
    ? "the VMM has it in storage"
    : pages.populated.get(p)
      ? "the VMM populated it (UFFDIO_COPY)"
      : "the VMM has not populated it"
  links.push(
    `page ${p}: ${e.present ? "present" : "not present"}${e.uffd ? ", RWP-protected (pagemap bit 57)" : ""}${e.swapped ? ", in swap" : ""}; ` +
      `${vmm}${pages.evicting.get(p) ? ", under eviction" : ""}`
  )
  if (layout.uffd >= 0) {
    const h = c.handler.last.get(p)
    const queued = kernel.uffd_has_messages(layout.uffd)
    links.push(
      h !== undefined && h.t_ns >= b.since_ns
        ? `its userfaultfd message (${h.kind}) was read by the fault handler at ${showTime(h.t_ns)}, which ${h.action}`
        : queued
          ? "its userfaultfd message is still queued: the fault handler has not read it"
          : c.handler.last.kept_since_ns > b.since_ns
            ? `none is queued, and the fault handler's notes of its last ${c.handler.last.kept} actions start at ${showTime(c.handler.last.kept_since_ns)}, after the block`
            : "no userfaultfd message for it was read by the fault handler, and none is queued"
    )
  }
  for (const t of c.engine.threads()) {
    const doing = t.name === "handler" ? c.handler.doing : t.name === "tracker" ? c.tracker.doing : ""
    const state = t.state === "parked" ? `parked on ${t.on}` : t.state
    const what = t.state === "done" ? `exited (last: ${doing})` : doing === "" ? state : doing
    links.push(`${t.name === "handler" ? "fault handler" : t.name} thread: ${what}`)
  }
  return links
}

/** The chain as one message: the links joined by arrows. */
export function showChain(links: readonly string[]): string {
  return links.join(" -> ")
}
