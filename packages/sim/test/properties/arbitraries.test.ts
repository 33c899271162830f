// The arbitraries of @rwpsim/scenario/testing are valid by construction: every scenario they make
// parses, passes the simulator's own checks (`rwpsim check`: arch facts, constant names), and sets
// up (the workload's memory and userfaultfd); and together they cover every arch, page size,
// backing, tracker, strategy, pattern and spelling they claim to.
import { parseScenario, type Scenario, type ScenarioInput } from "@rwpsim/scenario"
import { arbMachine, arbStepScript, arbWorkloadScenario } from "@rwpsim/scenario/testing"
import { runScenario, validateScenario } from "@rwpsim/sim"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { toYaml } from "./harness.ts"

function valid(input: ScenarioInput): Scenario {
  const text = toYaml(input)
  const r = parseScenario(text, "generated.yaml")
  if (!r.ok) throw new Error(`does not parse: ${JSON.stringify(r.errors)}\n${text}`)
  const errors = validateScenario(r.scenario, "generated.yaml")
  if (errors.length > 0) throw new Error(`does not validate: ${JSON.stringify(errors)}\n${text}`)
  return r.scenario
}

const sample = <T>(arb: fc.Arbitrary<T>, n: number) => fc.sample(arb, { numRuns: n, seed: 20261203 })

describe("arbitraries are valid by construction", () => {
  it("every workload scenario parses and validates", () => {
    fc.assert(
      fc.property(arbWorkloadScenario(), (input) => {
        const s = valid(input)
        expect(s.workload).toBeDefined()
        expect(s.expect.invariants).toHaveLength(6)
        // whole pages of the machine (of the huge page, for hugetlb)
        const w = s.workload!
        const unit = w.memory.backing === "hugetlb" ? w.memory.hugepage_size : s.machine.page_size
        expect(w.memory.size % unit).toBe(0)
        if (w.guest.per_vcpu !== undefined) expect(w.guest.per_vcpu).toHaveLength(s.machine.vcpus)
      }),
      { numRuns: 150 }
    )
  })

  it("every step script parses and validates", () => {
    fc.assert(
      fc.property(arbStepScript(), (input) => {
        const s = valid(input)
        for (const st of s.steps) if ("vcpu" in st.args) expect(st.args.vcpu).toBeLessThan(s.machine.vcpus)
      }),
      { numRuns: 150 }
    )
  })

  it("every machine of any arch validates", () => {
    fc.assert(
      fc.property(arbMachine(), (machine) => {
        valid({ name: "m", machine, steps: [] })
      }),
      { numRuns: 150 }
    )
  })

  it("every workload sets up: memory, userfaultfd and tracker are accepted by the simulated kernel", () => {
    // a run cut to its first microsecond: what fails here is the setup, not the workload
    for (const input of sample(arbWorkloadScenario(), 100)) {
      const s = valid(input)
      const r = runScenario({ ...s, workload: { ...s.workload!, duration: 1000 } })
      expect(
        r.failures.filter((f) => f.message.startsWith("workload setup")),
        toYaml(input)
      ).toEqual([])
    }
  })

  it("together they cover every arch, page size, backing, tracker, strategy, pattern, cost and spelling", () => {
    const machines = sample(arbMachine(), 400).map((m) => valid({ name: "m", machine: m, steps: [] }).machine)
    expect(new Set(machines.map((m) => m.arch))).toEqual(
      new Set(["x86_64", "arm64", "riscv64", "ppc64le", "s390x", "loongarch64", "i386", "armv7"])
    )
    expect(new Set(machines.filter((m) => m.arch === "arm64").map((m) => m.page_size))).toEqual(
      new Set([4096, 16384, 65536])
    )
    const inputs = sample(arbWorkloadScenario(), 400)
    const workloads = inputs.map((i) => valid(i))
    const seen = (f: (s: Scenario) => string | number | boolean) => new Set(workloads.map(f))
    expect(seen((s) => s.machine.arch)).toEqual(new Set(["x86_64", "arm64", "riscv64"]))
    expect(seen((s) => s.workload!.memory.backing)).toEqual(new Set(["anon", "shmem", "hugetlb"]))
    expect(seen((s) => s.workload!.vmm.tracker)).toEqual(new Set(["rwp", "uffd-wp", "idle-page", "none"]))
    expect(seen((s) => s.workload!.vmm.strategy)).toEqual(new Set(["hot-scan", "cold-scan"]))
    expect(seen((s) => s.workload!.memory.thp)).toEqual(new Set([true, false]))
    expect(seen((s) => s.workload!.guest.per_vcpu !== undefined)).toEqual(new Set([true, false]))
    expect(seen((s) => s.machine.vcpus)).toEqual(new Set([1, 2, 3, 4]))
    const patterns = new Set(
      workloads.flatMap((s) =>
        [s.workload!.guest.phases, ...(s.workload!.guest.per_vcpu ?? [])].flat().map((p) => p.pattern)
      )
    )
    expect(patterns).toEqual(new Set(["sequential", "uniform", "zipf", "hot_cold"]))
    expect(workloads.some((s) => s.workload!.guest.phases.some((p) => p.hot_shift !== null))).toBe(true)
    // sizes and durations in numbers and in every unit
    const texts = inputs.map((i) => toYaml(i)).join("\n")
    for (const spelled of [
      /size: \d+\n/,
      /size: \d+B\n/,
      /size: \d+KiB\n/,
      /size: [\d.]+MiB\n/,
      /duration: \d+ms\n/,
      /duration: \d+us\n/,
      /duration: \d+\n/
    ])
      expect(texts).toMatch(spelled)
    // every cost is drawn away from its default, and some draws let the fault handler act while a
    // tracker call is still running: an ioctl slower than a round trip plus a storage read
    for (const k of ["tlb_miss", "page_fault", "uffd_round_trip", "ioctl", "tlb_shootdown", "scan_per_page"] as const)
      expect(seen((s) => s.machine.costs[k]).size, k).toBeGreaterThan(10)
    expect(
      workloads.some((s) => s.machine.costs.ioctl > s.machine.costs.uffd_round_trip + s.workload!.storage.latency)
    ).toBe(true)
    // seeds spread over their range
    expect(new Set(workloads.map((s) => s.seed)).size).toBeGreaterThan(300)
  })
})
