// An independent reference model of userfaultfd RWP on a few pages: per-page protection and
// content, the ctx's mode, the sleeping threads and the message queue. It knows nothing of page
// tables or frames; the rules are the man pages' (seed 002) and rwp-semantics.md §5-§10.

export type Backing = "anon" | "shmem"

export interface PageModel {
  /** What the PTE is: nothing, a present page (zero page included), an anon swap entry. */
  pte: "none" | "present" | "swap"
  /** The anon PTE maps the shared zero page (MADV_PAGEOUT leaves it alone). */
  zero: boolean
  /** shmem: the file still holds the page (in the page cache or its swap). anon: pte !== "none". */
  data: boolean
  value: number
  /** The uffd bit: RWP-protected. */
  prot: boolean
}

export interface Waiter {
  readonly task: number
  readonly page: number
  readonly write: boolean
  readonly value: number
  /** The message this sleep queued. */
  readonly msg: Msg
  /** The message has been read. */
  read: boolean
}

export interface Msg {
  readonly page: number
  readonly flags: number
}

export const FLAG_WRITE = 0x1
export const FLAG_RWP = 0x8

export class Model {
  readonly pages: PageModel[]
  registered = false
  missing = false
  /** close(2) of the userfaultfd ran: no more ioctls or reads. */
  closed = false
  async: boolean
  readonly pending: Waiter[] = []
  readonly reading: Waiter[] = []
  /** The value each task's last completed read returned (checked against the kernel). */
  readonly lastRead = new Map<number, number>()
  /** The value of each task's last completed access (what a script's `wait` checks). */
  readonly lastValue = new Map<number, number>()

  constructor(
    readonly backing: Backing,
    n: number,
    async: boolean
  ) {
    this.async = async
    this.pages = []
    for (let i = 0; i < n; i++) this.pages.push({ pte: "none", zero: false, data: false, value: 0, prot: false })
  }

  blocked(task: number): boolean {
    return this.pending.some((w) => w.task === task) || this.reading.some((w) => w.task === task)
  }

  /** One access; returns "done" or "blocked". */
  access(task: number, page: number, write: boolean, value: number): "done" | "blocked" {
    const p = this.pages[page]!
    if (p.pte === "swap") p.pte = "present" // do_swap_page keeps the uffd bit
    if (p.pte === "none") {
      if (this.backing === "shmem" && p.data) {
        p.pte = "present" // mapped from the page cache, unprotected
      } else if (this.registered && this.missing) {
        return this.sleep(task, page, write, value, 0)
      } else {
        p.pte = "present"
        p.data = true
        p.value = 0
        p.zero = this.backing === "anon" && !write
      }
      p.prot = false
    }
    if (p.prot && this.registered) {
      if (!this.async) return this.sleep(task, page, write, value, FLAG_RWP)
      p.prot = false
    }
    if (write) {
      p.value = value >>> 0
      p.zero = false
    } else this.lastRead.set(task, p.value)
    this.lastValue.set(task, p.value)
    return "done"
  }

  private sleep(task: number, page: number, write: boolean, value: number, reason: number): "blocked" {
    this.pending.push({
      task,
      page,
      write,
      value,
      msg: { page, flags: reason | (write ? FLAG_WRITE : 0) },
      read: false
    })
    return "blocked"
  }

  /** Wakes the waiters on [first, first + n) (n 0: all) and retries their accesses in wake order. */
  wake(first: number, n: number): void {
    const hit = (w: Waiter) => n === 0 || (w.page >= first && w.page < first + n)
    const woken = [...this.pending.filter(hit), ...this.reading.filter(hit)]
    for (const q of [this.pending, this.reading]) {
      const keep = q.filter((w) => !hit(w))
      q.length = 0
      q.push(...keep)
    }
    // a woken waiter's unread message goes with it (userfaultfd_wake_function)
    for (const w of woken) this.access(w.task, w.page, w.write, w.value)
  }

  /** read(2): the oldest unread message; its waiter moves to the read queue. */
  readMsg(): Msg | null {
    const w = this.pending.shift()
    if (w === undefined) return null
    w.read = true
    this.reading.push(w)
    return w.msg
  }

  /**
   * close(2), userfaultfd_release(): every registered range is cleared as by UFFDIO_UNREGISTER
   * (protection gone), then every waiter, read or not, is woken and retries as plain memory.
   */
  close(): void {
    for (const p of this.pages) p.prot = false
    this.registered = false
    this.missing = false
    this.closed = true
    this.wake(0, 0)
  }

  protect(first: number, n: number): void {
    for (let i = first; i < first + n; i++) {
      const p = this.pages[i]!
      if (p.pte !== "none") p.prot = true
    }
  }

  resolve(first: number, n: number, dontwake: boolean): void {
    for (let i = first; i < first + n; i++) this.pages[i]!.prot = false
    if (!dontwake) this.wake(first, n)
  }

  pageout(first: number, n: number): void {
    for (let i = first; i < first + n; i++) {
      const p = this.pages[i]!
      if (p.pte !== "present") continue
      if (this.backing === "anon") {
        if (!p.zero) p.pte = "swap"
      } else {
        p.pte = "none" // shmem reclaim zaps the PTE: protection lost
        p.prot = false
      }
    }
  }

  dontneed(first: number, n: number): void {
    for (let i = first; i < first + n; i++) {
      const p = this.pages[i]!
      p.pte = "none"
      p.prot = false
      p.zero = false
      if (this.backing === "anon") {
        p.data = false
        p.value = 0
      }
    }
  }

  punch(first: number, n: number): void {
    for (let i = first; i < first + n; i++) {
      const p = this.pages[i]!
      p.pte = "none"
      p.prot = false
      p.data = false
      p.value = 0
    }
  }

  /** Pages PAGEMAP_SCAN reports PAGE_IS_ACCESSED: in the RWP VMA, populated, uffd bit clear. */
  accessed(): number[] {
    if (!this.registered) return []
    const out: number[] = []
    this.pages.forEach((p, i) => {
      if (p.pte !== "none" && !p.prot) out.push(i)
    })
    return out
  }
}
