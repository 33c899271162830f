// The storage tier the VMM evicts to (or, for anonymous memory, the swap device): a device with a
// latency per I/O, a shared transfer rate and at most queue_depth I/Os in flight (FIFO beyond), all
// in virtual time; and one storage object holding one word per page offset.
import { assert } from "./assert.ts"

/** The device's parameters, as the scenario's `workload.storage` gives them (ns, bytes/s). */
export interface StorageParams {
  readonly latency: number
  readonly bandwidth: number
  readonly queue_depth: number
}

/**
 * The device's timing. An I/O submitted at t waits for a free slot (queue_depth of them, taken in
 * submission order), pays the latency, then transfers its bytes through the one shared pipe at
 * `bandwidth`; it completes when its last byte is through. Latencies overlap, transfers do not.
 */
export class StorageDevice {
  readonly params: StorageParams
  /** When each slot is free again. */
  readonly #slot_free: Float64Array
  /** When the transfer pipe is free again. */
  #pipe_free = 0
  /** Totals over the run. */
  ios = 0
  bytes = 0
  /** The longest an I/O waited for a slot. */
  queue_wait_max_ns = 0

  constructor(params: StorageParams) {
    assert(Number.isSafeInteger(params.latency) && params.latency >= 0, `storage latency ${params.latency}`)
    assert(params.bandwidth > 0 && Number.isFinite(params.bandwidth), `storage bandwidth ${params.bandwidth}`)
    assert(Number.isInteger(params.queue_depth) && params.queue_depth >= 1, `queue_depth ${params.queue_depth}`)
    this.params = params
    this.#slot_free = new Float64Array(params.queue_depth)
  }

  /** Virtual time to move `bytes` through the pipe (rounded up to whole ns). */
  transfer_ns(bytes: number): number {
    return Math.ceil((bytes * 1e9) / this.params.bandwidth)
  }

  /** Submits an I/O of `bytes` at `t_ns`; returns its completion time. */
  submit(t_ns: number, bytes: number): number {
    assert(Number.isSafeInteger(t_ns) && t_ns >= 0, `storage submit at ${t_ns}`)
    assert(Number.isSafeInteger(bytes) && bytes > 0, `storage I/O of ${bytes} bytes`)
    const slots = this.#slot_free
    let slot = 0
    for (let i = 1; i < slots.length; i++) if (slots[i] < slots[slot]) slot = i
    const start = Math.max(t_ns, slots[slot])
    if (start - t_ns > this.queue_wait_max_ns) this.queue_wait_max_ns = start - t_ns
    const begin = Math.max(start + this.params.latency, this.#pipe_free)
    const done = begin + this.transfer_ns(bytes)
    this.#pipe_free = done
    slots[slot] = done
    this.ios++
    this.bytes += bytes
    return done
  }
}

/** One storage object: a word per page offset, and a bit per offset: was it ever written. */
export class StorageObject {
  readonly pages: number
  readonly words: Uint32Array
  /** Bit p % 32 of written[p >> 5]: offset p was written (a bit, not a byte: 1/8 B per page). */
  readonly written: Uint32Array
  /** Pages written (an overwrite counts again). */
  page_writes = 0

  constructor(pages: number) {
    assert(Number.isInteger(pages) && pages >= 1, `storage object of ${pages} pages`)
    this.pages = pages
    this.words = new Uint32Array(pages)
    this.written = new Uint32Array(Math.ceil(pages / 32))
  }

  /** Stores page `page`'s word. */
  write(page: number, word: number): void {
    assert(page >= 0 && page < this.pages, `storage page ${page} outside 0..${this.pages - 1}`)
    this.words[page] = word >>> 0
    this.written[page >>> 5] |= 1 << (page & 31)
    this.page_writes++
  }

  /** The stored word; what was never written reads as 0. */
  read(page: number): number {
    assert(page >= 0 && page < this.pages, `storage page ${page} outside 0..${this.pages - 1}`)
    return this.words[page]
  }

  has(page: number): boolean {
    return (this.written[page >>> 5] & (1 << (page & 31))) !== 0
  }
}
