// RunOptions.interrupted (Ctrl-C in `rwpsim run`): true ends a run early with RunResult.interrupted,
// between steps or every so many workload events; a run it never stops is the same as without it.
import { describe, expect, it } from "vitest"
import { events, run, workload } from "./support.ts"

/** An `interrupted` that says true from its nth call on, counting its calls. */
function after(n: number): { readonly interrupted: () => boolean; readonly calls: () => number } {
  let calls = 0
  return { interrupted: () => ++calls >= n, calls: () => calls }
}

const SCRIPT = `name: script
steps:
  - mmap: { as: m, length: 4KiB }
  - write: { vcpu: 0, addr: m, value: 7 }
  - read: { vcpu: 0, addr: m, expect: { value: 7 } }
`

describe("interrupted", () => {
  it("ends a workload run early: not ok, the time reached, the workload's end; the trace stops there", () => {
    const flag = after(3)
    const r = run(workload({ duration: "2s" }), { interrupted: flag.interrupted })
    expect(flag.calls()).toBe(3)
    expect(r.ok).toBe(false)
    expect(r.interrupted).toBeDefined()
    const { t_ns, end_ns } = r.interrupted!
    expect(end_ns).toBe(2_000_000_000)
    expect(t_ns).toBeGreaterThan(0)
    expect(t_ns).toBeLessThan(end_ns!)
    expect(r.failures).toEqual([{ step: null, op: null, invariant: null, message: `interrupted at t=${t_ns}ns` }])
    expect(r.metrics.simulated_ns).toBe(t_ns)
    // the trace up to there (after 3 x 1024 events, far from the end), and no end line
    const evs = events(r.lines)
    expect(evs.length).toBeGreaterThan(100)
    expect(evs.some((e) => e.ev === "end")).toBe(false)
    expect(evs.at(-1)!.t).toBeLessThan(end_ns! / 10)
  })

  it("stops a script between steps", () => {
    const r = run(SCRIPT, { interrupted: after(2).interrupted })
    expect(r.interrupted).toEqual({ t_ns: r.metrics.simulated_ns, end_ns: null })
    expect(events(r.lines).filter((e) => e.ev === "step")).toHaveLength(1)
  })

  it("stops a workload's steps before the workload starts", () => {
    const steps = "steps:\n  - write: { vcpu: 0, addr: guest_mem, value: 1 }\n  - read: { vcpu: 0, addr: guest_mem }\n"
    const r = run(workload({ extra: steps }), { interrupted: after(2).interrupted })
    expect(r.interrupted?.end_ns).toBe(null)
    expect(events(r.lines).filter((e) => e.ev === "step")).toHaveLength(1)
  })

  it("never true: the run, its trace and its result are those of a run without it", () => {
    for (const text of [SCRIPT, workload({})]) {
      const plain = run(text)
      const asked = after(Number.POSITIVE_INFINITY)
      const r = run(text, { interrupted: asked.interrupted })
      expect(asked.calls()).toBeGreaterThan(0)
      expect(r).toEqual(plain)
      expect(r.interrupted).toBeUndefined()
    }
  })
})
