// What a workload run reports: the spec's metrics (and their definitions on runs whose answer is
// known), the tracker after the probe and its fallbacks, expect for workloads, and steps with a
// workload (the workload's memory and userfaultfd first, then the steps, then the run).
import { METRICS } from "@rwpsim/scenario"
import { describe, expect, it } from "vitest"
import { events, run, workload } from "./support.ts"

const SPEC_METRICS = [...METRICS, "tracker"]

describe("workload metrics", () => {
  it("report every metric of the spec, integers but tracker", () => {
    const r = run(workload({}))
    for (const k of SPEC_METRICS) expect(Object.keys(r.metrics)).toContain(k)
    for (const k of METRICS) expect(Number.isSafeInteger(r.metrics[k])).toBe(true)
    expect(r.metrics.tracker).toBe("rwp")
    expect(r.metrics.simulated_ns).toBe(120_000_000)
  })

  it("a guest that touches a fixed set of pages every cycle: wss_true_pages is that set, and RWP sees all of it", () => {
    // 64 KiB of a 4 MiB guest, touched uniformly and far more often than once per page per cycle
    const text = workload({}).replace(
      "- { pattern: hot_cold, hot_set: 20%, hot_share: 98%, writes: 40%, access_ns: 2000 }",
      "- { pattern: uniform, span: { start: 0%, len: 1.5625% }, writes: 40%, access_ns: 2000 }"
    )
    const r = run(text)
    expect(r.failures).toEqual([])
    expect(r.metrics.wss_true_pages).toBe(16)
    expect(r.metrics.wss_estimated_pages).toBe(16)
    // nothing else was ever populated, so hot-scan has nothing to evict
    expect(r.metrics.pages_evicted).toBe(0)
    expect(r.metrics.stall_ns_max).toBeGreaterThan(0) // the first touches (MISSING)
  })

  it("without a tracker nothing is evicted and the estimate is 0, while the true working set is measured", () => {
    // riscv64 without Svrsw60t59b and without idle page tracking: the fallbacks end at none
    const arch = "riscv64, kernel: { config: { IDLE_PAGE_TRACKING: false } }"
    const r = run(workload({ arch, expect: "  tracker: none" }))
    expect(r.failures).toEqual([])
    expect(r.metrics.tracker).toBe("none")
    expect(r.metrics.wss_estimated_pages).toBe(0)
    expect(r.metrics.wss_true_pages).toBeGreaterThan(0)
    expect(r.metrics.pages_evicted).toBe(0)
    const setup = events(r.lines).find((e) => e.ev === "workload.setup")!
    expect(setup.tracker).toBe("none")
    expect(String(setup.skipped)).toContain("rwp: the probe lacks features")
  })

  it("spec fallback: without RWP and uffd-wp, idle-page tracking is used; it evicts with the vCPUs paused", () => {
    const r = run(workload({ arch: "riscv64", expect: "  tracker: idle-page" }))
    expect(r.failures).toEqual([])
    expect(r.metrics.tracker).toBe("idle-page")
    expect(r.metrics.wss_estimated_pages).toBeGreaterThan(0)
    expect(r.metrics.pages_evicted).toBeGreaterThan(0)
    expect(r.metrics.data_loss).toBe(0)
    // the pause for eviction counts as stall (there is no synchronous trap to wait on)
    expect(r.metrics.stall_ns_max).toBeGreaterThan(0)
    expect(events(r.lines).some((e) => e.ev === "vmm.page_idle_read")).toBe(true)
  })

  it("stall percentiles are nearest-rank over the episodes: p50 <= p99 <= max", () => {
    const r = run(workload({}))
    const [p50, p99, max] = [r.metrics.stall_ns_p50, r.metrics.stall_ns_p99, r.metrics.stall_ns_max] as number[]
    expect(p50).toBeGreaterThan(0)
    expect(p50).toBeLessThanOrEqual(p99)
    expect(p99).toBeLessThanOrEqual(max)
  })

  it("anonymous memory evicts to swap, and refaults are swap-ins", () => {
    const r = run(workload({ backing: "anon" }))
    expect(r.failures).toEqual([])
    expect(r.metrics.pages_evicted).toBeGreaterThan(0)
    expect(r.metrics.refaults).toBeGreaterThan(0)
    expect(r.metrics.missing_faults).toBe(0) // no MISSING registration without io_mem
  })
})

describe("expect for workloads", () => {
  it("tracker, max_stall, hung_vcpus and metric bounds fail with expected versus actual", () => {
    const r = run(
      workload({
        expect: [
          "  tracker: uffd-wp",
          "  max_stall: 1ns",
          "  hung_vcpus: 1",
          "  metrics: { data_loss: { min: 1 }, pages_evicted: { max: 0 }, guest_accesses: 7 }"
        ].join("\n")
      })
    )
    expect(r.ok).toBe(false)
    const m = r.failures.map((f) => f.message)
    expect(m).toContainEqual("expect.tracker: expected tracker uffd-wp in use, got rwp")
    expect(m.some((x) => x.startsWith("expect.max_stall: expected the longest stall to be at most 1ns"))).toBe(true)
    expect(m).toContainEqual("expect.hung_vcpus: expected 1 hung vCPU(s) at the end of the run, found 0")
    expect(m).toContainEqual("expect.metrics.data_loss: expected at least 1, got 0")
    expect(m.some((x) => /^expect.metrics.pages_evicted: expected at most 0, got \d+$/.test(x))).toBe(true)
    expect(m.some((x) => /^expect.metrics.guest_accesses: expected 7, got \d+$/.test(x))).toBe(true)
    expect(r.failures.every((f) => f.step === null && f.invariant === null)).toBe(true)
  })

  it("the tracker falls back as the probe dictates: kernel 7.1 has WP_ASYNC but no RWP", () => {
    const r = run(
      workload({ extra: "", expect: "  tracker: uffd-wp" }).replace(
        "vcpus: 2 }",
        'vcpus: 2, kernel: { version: "7.1" } }'
      )
    )
    expect(r.failures).toEqual([])
    expect(r.metrics.tracker).toBe("uffd-wp")
    // the fallback evicts with the vCPUs paused, and the pause is stall
    const evs = events(r.lines)
    expect(evs.some((e) => e.ev === "vcpus.pause")).toBe(true)
  })
})

describe("steps with a workload", () => {
  it("the steps run after the workload's memory and userfaultfd exist, under their names, then the workload", () => {
    const text = `${workload({})}steps:
  - pagemap: { addr: guest_mem, expect: { present: false } }
  - UFFDIO_COPY: { fd: uffd, dst: guest_mem, len: 4KiB, src: { value: 42 } }
  - read: { vcpu: 0, addr: guest_mem, expect: { value: 42 } }
  - pagemap: { addr: io_mem, expect: { present: false } }
  - pwrite: { storage: s, offset: 0, from: io_mem, len: 4KiB }
  - pagemap: { addr: io_mem, expect: { present: true } }
`
    const r = run(text)
    expect(r.failures).toEqual([])
    const evs = events(r.lines)
    const lastStep = evs.map((e) => e.ev).lastIndexOf("step")
    const setup = evs.findIndex((e) => e.ev === "workload.setup")
    const firstRound = evs.findIndex((e) => e.ev === "vcpu.block")
    expect(setup).toBeLessThan(lastStep)
    expect(lastStep).toBeLessThan(firstRound)
  })

  it("a failing step stops the run before the workload", () => {
    const text = `${workload({})}steps:
  - pagemap: { addr: guest_mem, expect: { present: true } }
`
    const r = run(text)
    expect(r.ok).toBe(false)
    expect(r.failures[0].step).toBe(0)
    expect(events(r.lines).some((e) => e.ev === "vcpu.block")).toBe(false)
  })

  it("a vCPU left blocked by the steps keeps the workload from starting", () => {
    const text = `${workload({})}steps:
  - read: { vcpu: 0, addr: guest_mem, expect: { value: 0 } }
`
    const r = run(text)
    expect(r.ok).toBe(false)
    expect(r.failures[0].message).toContain("the workload cannot start: 1 vCPU(s) still blocked after the last step")
  })
})
