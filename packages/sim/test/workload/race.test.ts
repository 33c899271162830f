// The seed-001 race, found by the simulator: cold-scan loses a write made between the eviction's
// pwrite and its punch by a vCPU that touched the page between the scan and the switch to sync;
// hot-scan, over the same workload, loses nothing. The trace shows each step of the race.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { events, run } from "./support.ts"

const root = join(import.meta.dirname, "..", "..", "..", "..")
const cold = readFileSync(join(root, "scenarios", "race", "seed-001-cold-scan.yaml"), "utf8")
const hot = readFileSync(join(root, "scenarios", "race", "seed-001-hot-scan.yaml"), "utf8")
const refault = readFileSync(join(root, "scenarios", "race", "refault-during-punch.yaml"), "utf8")

/** Phase 3 (the vCPU turns to the cold page) starts `start_us` after 9 ms + phase 2. */
function shifted(text: string, phase2_us: number): string {
  return text.replace("duration: 11090us", `duration: ${phase2_us}us`)
}

describe("the seed-001 race", () => {
  it("cold-scan loses the racing write, and the trace shows scan, untrapped write, punch, stale fault-back", () => {
    const r = run(cold)
    expect(r.ok).toBe(true) // the scenario expects the loss
    expect(r.metrics.data_loss).toBeGreaterThan(0)
    const evs = events(r.lines)
    const at = (pred: (e: (typeof evs)[number]) => boolean) => evs.findIndex(pred)
    const scan = at((e) => e.ev === "vmm.pagemap_scan" && e.t > 20_000_000)
    const write = at((e) => e.ev === "guest.untrapped_write" && e.page === 48)
    const punch = at((e) => e.ev === "vmm.punch_hole" && e.t > 20_000_000)
    const stale = at((e) => e.ev === "checker.stale_eviction" && e.page === 48)
    const back = at((e) => e.ev === "checker.stale_fault_back" && e.page === 48)
    const loss = at((e) => e.ev === "violation" && e.invariant === "no_data_loss")
    expect([scan, write, punch, stale, back, loss].every((i) => i >= 0)).toBe(true)
    expect(scan).toBeLessThan(write)
    expect(write).toBeLessThan(punch)
    expect(punch).toBeLessThan(stale)
    expect(stale).toBeLessThan(back)
    expect(back).toBeLessThan(loss)
    // the untrapped write came after the pwrite of page 48's range, in sync mode
    const pwrite = evs.find((e) => e.ev === "vmm.pwrite" && e.t > 20_000_000)!
    expect(evs[write].t).toBeGreaterThan(pwrite.t)
  })

  it("hot-scan over the same workload loses nothing; the vCPU that touched the page under eviction gets its value", () => {
    const r = run(hot)
    expect(r.failures).toEqual([])
    expect(r.metrics.data_loss).toBe(0)
    const evs = events(r.lines)
    const block = evs.find((e) => e.ev === "vcpu.block" && e.page === 48 && String(e.on).includes("RWP fault"))
    expect(block).toBeDefined()
    const done = evs.find((e) => e.ev === "vcpu.done" && e.page === 48 && e.t > block!.t)!
    const punch = evs.find((e) => e.ev === "vmm.punch_hole" && e.t > block!.t)!
    expect(done.t).toBeGreaterThan(punch.t) // released by the wake after the punch, refaulted from storage
    expect(r.metrics.refaults).toBeGreaterThan(0)
  })

  it("sweeping when the vCPU turns to the cold page: cold-scan loses exactly inside the scan-to-sync window, hot-scan never", () => {
    // cycle 2 scans at 20.067 ms and switches to sync at 20.132 ms (see the scenario)
    const lossy: number[] = []
    for (let us = 11_040; us <= 11_160; us += 20) {
      const c = run(shifted(cold, us))
      const h = run(shifted(hot, us))
      expect(h.metrics.data_loss, `hot-scan, phase 3 at ${9_000 + us}us`).toBe(0)
      if ((c.metrics.data_loss as number) > 0) lossy.push(9_000 + us)
    }
    expect(lossy.length).toBeGreaterThan(0)
    for (const t of lossy) {
      expect(t).toBeGreaterThan(20_067)
      expect(t).toBeLessThan(20_132)
    }
  }, 60_000)
})

describe("a refault that lands while the punch's call runs", () => {
  // scenarios/race/refault-during-punch.yaml: every ioctl costs 20 us, a storage read 1 us
  const IOCTL_NS = 20_000
  const PAGE = 4096

  it("the handler's copy inside the punch's call stands: no accounting violation, no write said to escape, nothing lost", () => {
    const r = run(refault)
    expect(r.failures).toEqual([])
    expect(r.metrics.data_loss).toBe(0)
    const evs = events(r.lines)
    const guest_mem = evs.find((e) => e.ev === "workload.setup")!.guest_mem as number
    // the race happened: UFFDIO_COPY of a page of a punched range before that punch returned
    const punches = evs.filter((e) => e.ev === "vmm.punch_hole")
    const copies = evs.filter((e) => e.ev === "vmm.copy")
    const raced = copies.filter((c) => {
      const page = ((c.dst as number) - guest_mem) / PAGE
      return punches.some((p) => {
        const first = (p.offset as number) / PAGE
        return p.t < c.t && c.t < p.t + IOCTL_NS && first <= page && page < first + (p.len as number) / PAGE
      })
    })
    expect(raced.length).toBeGreaterThan(0)
    // hot-scan traps every write during eviction: none escapes it, no copy is stale
    for (const ev of ["guest.untrapped_write", "checker.stale_eviction", "checker.stale_fault_back"])
      expect(evs.filter((e) => e.ev === ev).length, ev).toBe(0)
  })
})
