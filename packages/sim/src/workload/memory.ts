// The guest's memory as the vCPUs see it: every access goes to the kernel, and this thin layer adds
// the two things the run needs per access, without allocating and without Effect:
// - the access's cost in virtual time, from the kernel's access_flags (a TLB miss, a fault, a
//   swap-in through the storage device), handed to the burst loop as its AccessCharge;
// - one byte of checker state per guest page (PF_*): a page armed by UFFDIO_RWPROTECT(RWP) must
//   fault on its next access (`protection`); a page protected and not accessed since must be what
//   the tracker's scan may call cold (`scan_soundness`); and a write to a page between its pwrite
//   and its punch is a write the storage copy does not have (the cold-scan race). Only a page with
//   a PF_COLD_PATH flag set costs more than one byte load, and each protection puts a page there
//   once, for its first completed access.
import * as K from "@rwpsim/kernel"
import type { AccessCharge, GuestMemory } from "@rwpsim/guest"

/** Protected by the last UFFDIO_RWPROTECT(RWP) and not accessed since: its next access must fault. */
export const PF_ARMED = 1
/** Read by the eviction's pwrite and not yet punched: a write now is missing from storage. */
export const PF_WATCHED = 2
/** In the range of the last UFFDIO_RWPROTECT(RWP) of the page, and no access completed since. */
export const PF_UNTOUCHED = 4
/** Some UFFDIO_RWPROTECT(RWP) covered the page (the checker's "protected at" is its log's). */
export const PF_PROTECTED = 8
/** At the last PAGEMAP_SCAN(PAGE_IS_ACCESSED), the page was protected and touched since: never cold. */
export const PF_TOUCHED_AT_SCAN = 16
/** The flags an access must look at (the others are the checker's bookkeeping). */
export const PF_COLD_PATH = PF_ARMED | PF_WATCHED | PF_UNTOUCHED

/** Bit 0 of each byte of a word: a flag times this is the flag in all four pages of the word. */
const BYTES_1 = 0x01010101
const PROTECTED_BIT = 31 - Math.clz32(PF_PROTECTED)
const UNTOUCHED_BIT = 31 - Math.clz32(PF_UNTOUCHED)
const TOUCHED_BIT = 31 - Math.clz32(PF_TOUCHED_AT_SCAN)

/** The access costs of machine.costs that the guest pays (ns). */
export interface AccessCosts {
  readonly tlb_miss: number
  readonly page_fault: number
}

/** What the checker hears from the per-access path (cold path only: a flagged page). */
export interface FlaggedAccessListener {
  /** The first access to an armed page since its protection; `faulted` as the kernel reported it. */
  armedAccess(task: number, page: number, faulted: boolean): void
  /** A write that completed on a watched page (its time is the vCPU's now_ns, inside its burst). */
  watchedWrite(task: number, page: number, value: number): void
}

/** GuestMemory over the kernel, with the costs and the per-page checker flags. */
export class CheckedMemory implements GuestMemory, AccessCharge {
  /** PF_* per guest page (tracking page: the huge page for hugetlb). */
  readonly flags: Uint8Array
  /** The same bytes four at a time (the tail past `pages` stays 0). */
  readonly #words: Uint32Array
  /** Pages with PF_ARMED set (kept so that arming and disarming stay cheap to reason about). */
  armed = 0
  #extra = 0
  readonly #kernel: K.Kernel
  readonly #base: number
  /** Guest page 0 as a window page of the kernel, and window pages per guest page (-1: not in it). */
  readonly #rel0: number
  readonly #stride: number
  readonly #inv_page_bytes: number
  readonly #page_bytes: number
  readonly #pages: number
  readonly #tlb_miss: number
  readonly #page_fault: number
  readonly #swapin_ns: () => number
  readonly #listener: FlaggedAccessListener

  constructor(
    kernel: K.Kernel,
    base: number,
    page_bytes: number,
    pages: number,
    costs: AccessCosts,
    /** Virtual time of one swap-in of a page (the storage device's read), charged to the access. */
    swapin_ns: () => number,
    listener: FlaggedAccessListener
  ) {
    this.#kernel = kernel
    this.#base = base
    // page_bytes is a power of two, so its inverse is exact and a multiply replaces a divide
    this.#inv_page_bytes = 1 / page_bytes
    this.#page_bytes = page_bytes
    this.#pages = pages
    // the kernel takes the page as an int32 when guest memory sits in its page tables' window
    const rel0 = kernel.window_page(base)
    const stride = page_bytes / kernel.page_size
    const int32 = rel0 >= 0 && rel0 + pages * stride < 2 ** 31 && base % kernel.page_size === 0
    this.#rel0 = int32 ? rel0 : -1
    this.#stride = stride
    // the per-cycle passes go four pages at a time through a Uint32 view of the same bytes
    const buffer = new ArrayBuffer(Math.ceil(pages / 4) * 4)
    this.flags = new Uint8Array(buffer, 0, pages)
    this.#words = new Uint32Array(buffer)
    this.#tlb_miss = costs.tlb_miss
    this.#page_fault = costs.page_fault
    this.#swapin_ns = swapin_ns
    this.#listener = listener
  }

  access(task: number, addr: number, write: boolean, value: number, user: boolean): number {
    const k = this.#kernel
    const page = ((addr - this.#base) * this.#inv_page_bytes) | 0
    const inside = page >= 0 && page < this.#pages
    const code =
      inside && this.#rel0 >= 0 && addr === this.#base + page * this.#page_bytes
        ? k.access_window(task, this.#rel0 + page * this.#stride, write, value, user)
        : k.access(task, addr, write, value, user)
    return this.#charged(task, inside ? page : -1, write, value, code)
  }

  access_page(task: number, page: number, write: boolean, value: number): number {
    const k = this.#kernel
    const inside = page >= 0 && page < this.#pages
    const code =
      inside && this.#rel0 >= 0
        ? k.access_window(task, this.#rel0 + page * this.#stride, write, value, true)
        : k.access(task, this.#base + page * this.#page_bytes, write, value, true)
    return this.#charged(task, inside ? page : -1, write, value, code)
  }

  /** After the kernel's access of guest page `page` (-1: outside guest memory): its cost and flags. */
  #charged(task: number, page: number, write: boolean, value: number, code: number): number {
    const f = this.#kernel.access_flags
    let extra = 0
    if (f !== 0) {
      if ((f & K.ACCESS_F_TLB_MISS) !== 0) extra += this.#tlb_miss
      if ((f & (K.ACCESS_F_FAULT | K.ACCESS_F_RWP_ASYNC)) !== 0) extra += this.#page_fault
      if ((f & K.ACCESS_F_SWAPIN) !== 0) extra += this.#swapin_ns()
    }
    this.#extra = extra
    if (page >= 0 && (this.flags[page] & PF_COLD_PATH) !== 0) this.#flagged(task, page, write, value, code, f)
    return code
  }

  get access_value(): number {
    return this.#kernel.access_value
  }

  /** The cost of the access that just completed, on top of access_ns (the burst loop adds it). */
  extra_ns(_task: number): number {
    return this.#extra
  }

  /** Sets PF_ARMED on pages [first, end) (in guest memory). */
  armRange(first: number, end: number): void {
    this.armed += this.#orRange(first, end, PF_ARMED)
  }

  /** Clears PF_ARMED on pages [first, first + count). */
  disarm(first: number, count: number): void {
    if (this.armed === 0) return
    const end = Math.min(this.#pages, first + count)
    for (let p = Math.max(0, first); p < end; p++) {
      if ((this.flags[p] & PF_ARMED) !== 0) {
        this.flags[p] &= ~PF_ARMED
        this.armed--
      }
    }
  }

  /** Marks pages [first, first + count) protected and untouched (UFFDIO_RWPROTECT(RWP) took effect). */
  protect(first: number, count: number): void {
    this.#orRange(first, first + count, PF_PROTECTED | PF_UNTOUCHED)
  }

  /**
   * Sets `flag` (one bit, or several) on pages [first, end) of guest memory, four pages a word
   * between the unaligned ends; returns how many pages did not have its lowest bit before.
   */
  #orRange(first: number, end: number, flag: number): number {
    const flags = this.flags
    const words = this.#words
    const low = flag & -flag
    const shift = 31 - Math.clz32(low)
    const last = Math.min(this.#pages, end)
    let p = Math.max(0, first)
    let n = 0
    for (; p < last && (p & 3) !== 0; p++) {
      if ((flags[p]! & low) === 0) n++
      flags[p]! |= flag
    }
    for (; p + 4 <= last; p += 4) {
      const x = words[p >>> 2]!
      // the pages of the word without the bit, a 0/1 byte each, summed into the top byte
      n += Math.imul((~x >>> shift) & BYTES_1, BYTES_1) >>> 24
      words[p >>> 2] = x | (flag * BYTES_1)
    }
    for (; p < last; p++) {
      if ((flags[p]! & low) === 0) n++
      flags[p]! |= flag
    }
    return n
  }

  /**
   * The snapshot of a PAGEMAP_SCAN(PAGE_IS_ACCESSED): PF_TOUCHED_AT_SCAN on exactly the pages
   * protected and accessed since. Returns how many.
   */
  snapshotTouched(): number {
    // four pages a word, without a branch: a byte's touched bit = protected and not untouched
    const words = this.#words
    let n = 0
    for (let i = 0; i < words.length; i++) {
      const x = words[i]!
      const t = (x >>> PROTECTED_BIT) & ~(x >>> UNTOUCHED_BIT) & BYTES_1
      words[i] = (x & ~(PF_TOUCHED_AT_SCAN * BYTES_1)) | (t << TOUCHED_BIT)
      // the four 0/1 bytes of t, summed into the top byte
      n += Math.imul(t, BYTES_1) >>> 24
    }
    return n
  }

  watch(p: number, on: boolean): void {
    if (on) this.flags[p] |= PF_WATCHED
    else this.flags[p] &= ~PF_WATCHED
  }

  #flagged(task: number, page: number, write: boolean, value: number, code: number, f: number): void {
    let flags = this.flags[page]
    // the ground truth records exactly the accesses that completed: touched since the protection
    if ((flags & PF_UNTOUCHED) !== 0 && code === K.ACCESS_DONE) {
      flags &= ~PF_UNTOUCHED
      this.flags[page] = flags
    }
    if ((flags & PF_ARMED) !== 0) {
      this.flags[page] = flags & ~PF_ARMED
      this.armed--
      // a sync fault blocks; an async one is resolved by the kernel and says so in access_flags
      const faulted = code !== K.ACCESS_DONE || (f & K.ACCESS_F_RWP_ASYNC) !== 0
      this.#listener.armedAccess(task, page, faulted)
    }
    if ((flags & PF_WATCHED) !== 0 && write && code === K.ACCESS_DONE) this.#listener.watchedWrite(task, page, value)
  }
}
