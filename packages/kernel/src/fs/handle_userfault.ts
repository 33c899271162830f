// fs/userfaultfd.c: handle_userfault() — a fault in a registered VMA queues a message and the task
// sleeps until a wake (UFFDIO_WAKE, an unprotect, a copy, SET_MODE async, close) covers its address.
import type { Mm } from "../mm/mm.ts"
import type { Vma } from "../mm/vma.ts"
import { VM_UFFD_MINOR, VM_UFFD_MISSING, VM_UFFD_RWP, VM_UFFD_WP } from "../mm/vma.ts"
import {
  ACCESS_BLOCKED,
  ACCESS_SIGBUS,
  UFFD_EVENT_PAGEFAULT,
  UFFD_FEATURE_EXACT_ADDRESS,
  UFFD_FEATURE_SIGBUS,
  UFFD_FEATURE_THREAD_ID,
  UFFD_PAGEFAULT_FLAG_MINOR,
  UFFD_PAGEFAULT_FLAG_RWP,
  UFFD_PAGEFAULT_FLAG_WP,
  UFFD_PAGEFAULT_FLAG_WRITE
} from "../uapi.ts"
import { UffdWaiter } from "./userfaultfd_ctx.ts"

/** VM_FAULT_RETRY/NOPAGE: the fault was dealt with, walk again. */
export const FAULT_RETRY = -1

/** userfaultfd_msg flags of a fault (fs/userfaultfd.c: userfault_msg()). */
function msgFlags(reason: number, write: boolean): number {
  let f = 0
  if (write) f |= UFFD_PAGEFAULT_FLAG_WRITE
  if (reason === VM_UFFD_WP) f |= UFFD_PAGEFAULT_FLAG_WP
  else if (reason === VM_UFFD_MINOR) f |= UFFD_PAGEFAULT_FLAG_MINOR
  else if (reason === VM_UFFD_RWP) f |= UFFD_PAGEFAULT_FLAG_RWP
  return f
}

/** Returns ACCESS_BLOCKED (the task sleeps), ACCESS_SIGBUS, or FAULT_RETRY. */
export function handle_userfault(
  mm: Mm,
  task: number,
  vma: Vma,
  addr: number,
  reason: number,
  write: boolean,
  user: boolean
): number {
  const ctx = vma.uffd
  if (ctx === null) return FAULT_RETRY
  // UFFD_FEATURE_SIGBUS: no message, the access gets SIGBUS (userfaultfd.2).
  if (ctx.features & UFFD_FEATURE_SIGBUS) return ACCESS_SIGBUS
  // UFFD_USER_MODE_ONLY: a kernel-mode fault is refused (a syscall touching the page gets EFAULT).
  if (!user && ctx.user_mode_only) return ACCESS_SIGBUS
  if (ctx.released) return FAULT_RETRY
  const page = addr - (addr % mm.page_size)
  const msg = {
    event: UFFD_EVENT_PAGEFAULT,
    flags: msgFlags(reason, write),
    address: ctx.features & UFFD_FEATURE_EXACT_ADDRESS ? addr : page,
    ...(ctx.features & UFFD_FEATURE_THREAD_ID ? { ptid: task } : {})
  }
  const w = new UffdWaiter(task, ctx, page, msg)
  ctx.fault_pending_wqh.push(w)
  mm.blocked.set(task, w)
  mm.last_blocked = task
  mm.stats.messages_queued++
  if (mm.trace !== undefined)
    mm.emit("k.userfault", { task, addr: page, reason: reasonName(reason), write, fd: ctx.fd })
  return ACCESS_BLOCKED
}

function reasonName(reason: number): string {
  if (reason === VM_UFFD_MISSING) return "missing"
  if (reason === VM_UFFD_WP) return "wp"
  if (reason === VM_UFFD_MINOR) return "minor"
  return "rwp"
}

/** userfaultfd_wake / __wake_userfault(): wakes the ctx's waiters in [start, start + len) (len 0: all). */
export function wake_userfault(
  mm: Mm,
  ctx: { takeWaiters(s: number, l: number): UffdWaiter[] },
  start: number,
  len: number
): void {
  for (const w of ctx.takeWaiters(start, len)) {
    if (mm.blocked.get(w.task) === w) mm.wakeTask(w.task)
  }
}
