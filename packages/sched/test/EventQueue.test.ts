import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { EventQueue } from "../src/EventQueue.ts"

function drain<T>(q: EventQueue<T>): T[] {
  const out: T[] = []
  while (q.size > 0) out.push(q.pop())
  return out
}

describe("EventQueue", () => {
  it("pops in time order, and events at the same time in push order (seq)", () => {
    const q = new EventQueue<string>(2)
    q.push(30, "c")
    q.push(10, "a1")
    q.push(20, "b")
    q.push(10, "a2")
    q.push(10, "a3")
    q.push(0, "z")
    expect(q.size).toBe(6)
    expect(q.peekTime()).toBe(0)
    expect(q.peek()).toBe("z")
    expect(drain(q)).toEqual(["z", "a1", "a2", "a3", "b", "c"])
    expect(q.peekTime()).toBeUndefined()
  })

  it("cancel removes exactly the pending event, once", () => {
    const q = new EventQueue<number>()
    const handles = [5, 1, 4, 1, 3].map((t, i) => q.push(t, i))
    expect(q.cancel(handles[1]!)).toBe(true)
    expect(q.cancel(handles[1]!)).toBe(false)
    expect(q.size).toBe(4)
    expect(drain(q)).toEqual([3, 4, 2, 0])
    expect(q.cancel(handles[0]!)).toBe(false)
  })

  it("seq keeps counting across pops, so a later push at an earlier-seen time still sorts after", () => {
    const q = new EventQueue<string>()
    q.push(7, "first")
    expect(q.pop()).toBe("first")
    q.push(7, "second")
    q.push(7, "third")
    expect(drain(q)).toEqual(["second", "third"])
  })

  it("rejects times that are not integer ns below 2^53", () => {
    const q = new EventQueue<number>()
    expect(() => q.push(1.5, 0)).toThrow(/virtual time/)
    expect(() => q.push(-1, 0)).toThrow(/virtual time/)
    expect(() => q.push(2 ** 53, 0)).toThrow(/virtual time/)
    expect(() => q.pop()).toThrow(/empty/)
  })

  test.prop([fc.array(fc.record({ t: fc.integer({ min: 0, max: 20 }), cancel: fc.boolean() }), { maxLength: 200 })])(
    "matches a stable sort by time, with cancels",
    (items) => {
      const q = new EventQueue<number>(1)
      const handles = items.map((item, i) => q.push(item.t, i))
      items.forEach((item, i) => {
        if (item.cancel) expect(q.cancel(handles[i]!)).toBe(true)
      })
      const expected = items
        .map((item, i) => ({ ...item, i }))
        .filter((item) => !item.cancel)
        .sort((a, b) => a.t - b.t || a.i - b.i)
        .map((item) => item.i)
      expect(q.size).toBe(expected.length)
      expect(drain(q)).toEqual(expected)
    }
  )
})
