// fs/userfaultfd.c: non-cooperative events (UFFD_EVENT_REMOVE, UFFD_EVENT_UNMAP). While one is queued
// and unread, mmap_changing is up and the range ioctls return EAGAIN. (The kernel also makes the
// triggering syscall wait until the event is read; a script cannot block, so here it does not wait.)
import type { Mm } from "../mm/mm.ts"
import type { UffdCtx } from "./userfaultfd_ctx.ts"

export function uffd_event(mm: Mm, ctx: UffdCtx, event: number, start: number, end: number): void {
  if (ctx.released) return
  ctx.events.push({ event, flags: 0, address: start, end })
  mm.stats.messages_queued++
  if (mm.trace !== undefined) mm.emit("k.uffd_event", { fd: ctx.fd, event, start, end })
}
