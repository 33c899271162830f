/**
 * The event queue: a binary min-heap ordered by (t_ns, seq), where seq is the queue's insertion
 * counter, so events at the same instant come out in the order they were pushed. Keys live in
 * parallel typed arrays; the payloads in a plain array beside them.
 */
import { assert } from "./internal/assert.ts"
import { assertTime } from "./VirtualClock.ts"

/** Identifies a pushed event (its seq) for cancel(). */
export type EventHandle = number

/** A min-heap of events of type T keyed by (t_ns, seq). */
export class EventQueue<T> {
  #t_ns: Float64Array
  #seq: Float64Array
  #value: (T | undefined)[] = []
  #size = 0
  #next_seq = 0

  constructor(capacity = 64) {
    assert(Number.isInteger(capacity) && capacity > 0, "EventQueue: capacity must be a positive integer")
    this.#t_ns = new Float64Array(capacity)
    this.#seq = new Float64Array(capacity)
  }

  /** How many events are pending. */
  get size(): number {
    return this.#size
  }

  /** Adds an event at `t_ns`; returns its handle (the event's seq). */
  push(t_ns: number, value: T): EventHandle {
    assertTime(t_ns, "EventQueue.push")
    if (this.#size === this.#t_ns.length) this.#grow()
    const seq = this.#next_seq++
    assert(seq < Number.MAX_SAFE_INTEGER, "EventQueue: seq overflow")
    const i = this.#size++
    this.#t_ns[i] = t_ns
    this.#seq[i] = seq
    this.#value[i] = value
    this.#siftUp(i)
    return seq
  }

  /** The time of the next event, or undefined when the queue is empty. */
  peekTime(): number | undefined {
    return this.#size === 0 ? undefined : this.#t_ns[0]
  }

  /** The next event without removing it, or undefined when the queue is empty. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#value[0]
  }

  /** Removes and returns the next event; the queue must not be empty (check size or peekTime). */
  pop(): T {
    assert(this.#size > 0, "EventQueue.pop: queue is empty")
    const value = this.#value[0] as T
    this.#removeAt(0)
    return value
  }

  /** Removes a pending event; returns false if it already ran or was cancelled. O(size): cancels are rare. */
  cancel(handle: EventHandle): boolean {
    for (let i = 0; i < this.#size; i++) {
      if (this.#seq[i] === handle) {
        this.#removeAt(i)
        return true
      }
    }
    return false
  }

  #removeAt(i: number): void {
    const last = --this.#size
    if (i !== last) {
      this.#move(last, i)
      this.#siftDown(i)
      this.#siftUp(i)
    }
    this.#value[last] = undefined
  }

  #less(a: number, b: number): boolean {
    const ta = this.#t_ns[a]
    const tb = this.#t_ns[b]
    return ta < tb || (ta === tb && this.#seq[a] < this.#seq[b])
  }

  #move(from: number, to: number): void {
    this.#t_ns[to] = this.#t_ns[from]
    this.#seq[to] = this.#seq[from]
    this.#value[to] = this.#value[from]
  }

  #swap(a: number, b: number): void {
    const t = this.#t_ns[a]
    const s = this.#seq[a]
    const v = this.#value[a]
    this.#move(b, a)
    this.#t_ns[b] = t
    this.#seq[b] = s
    this.#value[b] = v
  }

  #siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#less(i, parent)) return
      this.#swap(i, parent)
      i = parent
    }
  }

  #siftDown(i: number): void {
    for (;;) {
      const l = 2 * i + 1
      if (l >= this.#size) return
      const r = l + 1
      const child = r < this.#size && this.#less(r, l) ? r : l
      if (!this.#less(child, i)) return
      this.#swap(i, child)
      i = child
    }
  }

  #grow(): void {
    const t_ns = new Float64Array(this.#t_ns.length * 2)
    const seq = new Float64Array(this.#seq.length * 2)
    t_ns.set(this.#t_ns)
    seq.set(this.#seq)
    this.#t_ns = t_ns
    this.#seq = seq
  }
}
