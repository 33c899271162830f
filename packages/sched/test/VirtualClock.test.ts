import { describe, expect, it } from "vitest"
import { VirtualClock } from "../src/VirtualClock.ts"

describe("VirtualClock", () => {
  it("starts at 0 and moves forward (or stays) on advance_to", () => {
    const clock = new VirtualClock()
    expect(clock.now_ns).toBe(0)
    clock.advance_to(1_000)
    clock.advance_to(1_000)
    expect(clock.now_ns).toBe(1_000)
    clock.advance_to(2 ** 53 - 1)
    expect(clock.now_ns).toBe(2 ** 53 - 1)
  })

  it("asserts monotonic integer time below 2^53", () => {
    const clock = new VirtualClock()
    clock.advance_to(50)
    expect(() => clock.advance_to(49)).toThrow(/before now/)
    expect(() => clock.advance_to(50.5)).toThrow(/virtual time/)
    expect(() => clock.advance_to(2 ** 53)).toThrow(/virtual time/)
    expect(clock.now_ns).toBe(50)
  })
})
