// The six invariants of a workload run hold for a correct VMM on a correct kernel, and each can
// fail: deliberate VMM bugs (workload.vmm.bug) and kernel mutants (RunOptions.mutants) break them.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { events, run, workload } from "./support.ts"

const root = join(import.meta.dirname, "..", "..", "..", "..")
/** The hot-scan twin of the seed-001 race: one vCPU writes a page while it is being evicted. */
const twin = readFileSync(join(root, "scenarios", "race", "seed-001-hot-scan.yaml"), "utf8")
const withBug = (text: string, bug: string) =>
  text.replace("strategy: hot-scan, interval: 10ms }", `strategy: hot-scan, interval: 10ms, bug: ${bug} }`)

const invariantsOf = (r: { failures: readonly { invariant: string | null }[] }) =>
  r.failures.map((f) => f.invariant).filter((i) => i !== null)

describe("workload invariants", () => {
  it.each(["hot-scan", "cold-scan"])("all six hold for a correct VMM (%s, shmem)", (strategy) => {
    const r = run(workload({ strategy }))
    expect(r.failures).toEqual([])
    expect(r.metrics.pages_evicted).toBeGreaterThan(0)
    expect(r.metrics.refaults).toBeGreaterThan(0)
  })

  it.each(["anon", "hugetlb"])("all six hold for a correct VMM (hot-scan, %s)", (backing) => {
    const r = run(workload({ backing }).replace("size: 4MiB", backing === "hugetlb" ? "size: 32MiB" : "size: 4MiB"))
    expect(r.failures).toEqual([])
  })

  it("no_data_loss: a handler that resolves sync faults on pages under eviction loses writes", () => {
    const r = run(withBug(twin, "handler-resolves-evicting"))
    expect(invariantsOf(r)).toContain("no_data_loss")
    const f = r.failures.find((x) => x.invariant === "no_data_loss")!
    expect(f.message).toMatch(/vCPU \d read \d+ from guest_mem\+0x[0-9a-f]+ \(page \d+\) at t=\d+ns/)
    expect(f.message).toContain("but the guest's last write there was")
    expect(r.metrics.data_loss).toBeGreaterThan(0)
  })

  it("no_lost_wakeup: a handler that never answers MISSING hangs a vCPU, reported with its wait-for chain", () => {
    const r = run(workload({ bug: "handler-ignores-missing" }))
    expect(r.ok).toBe(false)
    const f = r.failures.find((x) => x.invariant === "no_lost_wakeup")!
    expect(f.message).toMatch(/vCPU \d is blocked and nothing can wake it/)
    expect(f.message).toMatch(/its (read|write) of guest_mem\+0x[0-9a-f]+ \(page \d+\)/)
    expect(f.message).toContain("MISSING fault")
    expect(f.message).toContain("never answered")
    expect(f.message).toContain("fault handler thread: parked on the userfaultfd")
    expect(r.metrics.hung_vcpus).toBe(2)
    // the hang is also in the trace, at the time it was found
    expect(events(r.lines).some((e) => e.ev === "violation" && e.invariant === "no_lost_wakeup")).toBe(true)
  })

  it("no_lost_wakeup: a forgotten UFFDIO_WAKE hangs the vCPU when SET_MODE(async) wakes nobody either", () => {
    const r = run(withBug(twin, "tracker-forgets-wake"), { mutants: ["set-mode-no-wake"] })
    const f = r.failures.find((x) => x.invariant === "no_lost_wakeup")!
    expect(f.message).toContain("RWP fault")
    expect(r.metrics.hung_vcpus).toBe(1)
  })

  it("protection: a kernel that skips the TLB shootdown of UFFDIO_RWPROTECT lets an access through", () => {
    const r = run(workload({}), { mutants: ["rwprotect-no-tlb-flush"] })
    const f = r.failures.find((x) => x.invariant === "protection")!
    expect(f.message).toMatch(/vCPU \d accessed guest_mem\+0x[0-9a-f]+ \(page \d+\) .* without a fault/)
    expect(f.message).toContain("stale TLB")
  })

  it("scan_soundness: a tracker that judges a cycle by the previous scan calls touched pages cold", () => {
    const r = run(workload({ bug: "tracker-stale-scan" }))
    const f = r.failures.find((x) => x.invariant === "scan_soundness")!
    expect(f.message).toMatch(/judged \d+ page\(s\) cold that a vCPU touched since their protection/)
  })

  it("mode: a kernel whose async RWP faults also queue a message breaks the mode invariant", () => {
    const r = run(workload({}), { mutants: ["async-queues-message"] })
    const f = r.failures.find((x) => x.invariant === "mode")!
    expect(f.message).toContain("exactly one")
  })

  it("accounting: a tracker that pwrites but never punches keeps a page in memory and in storage", () => {
    const r = run(workload({ bug: "tracker-skips-punch" }))
    const f = r.failures.find((x) => x.invariant === "accounting")!
    expect(f.message).toMatch(/resident .* and in storage/)
  })

  it("no_data_loss: a handler that copies a page back from the wrong storage offset returns another page's data", () => {
    const r = run(workload({ bug: "handler-copy-wrong-offset" }))
    const f = r.failures.find((x) => x.invariant === "no_data_loss")!
    expect(f.message).toContain("but the guest's last write there was")
    // without the bug the same run reads back every value
    expect(run(workload({})).failures).toEqual([])
  })

  it("no_data_loss: a tracker that evicts in async mode loses the write that lands between pwrite and punch", () => {
    const r = run(withBug(twin, "tracker-evicts-async"))
    expect(invariantsOf(r)).toContain("no_data_loss")
    // no SET_MODE(sync) before the eviction: the only mode switches left are the returns to async
    const modes = events(r.lines).filter((e) => e.ev === "vmm.set_mode")
    expect(modes.length).toBeGreaterThan(0)
    expect(modes.every((e) => e.disable === 0)).toBe(true)
    expect(run(twin).failures).toEqual([])
  })

  it("a forgotten UFFDIO_WAKE is healed by the next SET_MODE(async): no invariant fails", () => {
    const r = run(withBug(twin, "tracker-forgets-wake"))
    expect(r.failures).toEqual([])
    expect(r.metrics.data_loss).toBe(0)
  })

  it("only the invariants the scenario lists fail the run", () => {
    const text = withBug(twin, "handler-resolves-evicting").replace(
      "metrics: { data_loss: 0, pages_evicted: { min: 1 }, refaults: { min: 1 } }",
      "invariants: [mode, accounting]\n  metrics: { data_loss: { min: 1 } }"
    )
    const r = run(text)
    expect(r.failures).toEqual([])
    expect(r.ok).toBe(true)
  })
})
