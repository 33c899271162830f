import { describe, expect, it } from "vitest"
import { AssertionError, createVcpus, GroundTruth } from "../src/index.ts"
import { FakeMemory } from "./support/fake_memory.ts"
import { TestRng } from "./support/rng.ts"

const BASE = 0x7f0000000000

describe("createVcpus", () => {
  it("makes one vCPU per index with its own phases, stream and distinct write values", () => {
    const gt = new GroundTruth(64)
    const streams: number[] = []
    const vcpus = createVcpus({
      guest: {
        phases: [{ pattern: "uniform", writes: 1, access_ns: 10 }],
        per_vcpu: [
          [{ pattern: "sequential", writes: 1, access_ns: 10 }],
          [{ pattern: "zipf", writes: 1, access_ns: 10 }]
        ]
      },
      vcpus: 2,
      guest_pages: 64,
      base_addr: BASE,
      page_bytes: 4096,
      rng: (i) => {
        streams.push(i)
        return new TestRng(100 + i)
      },
      ground_truth: gt
    })
    expect(vcpus.map((v) => [v.index, v.phases[0].pattern])).toEqual([
      [0, "sequential"],
      [1, "zipf"]
    ])
    expect(streams).toEqual([0, 1])
    const mem = new FakeMemory(BASE, 4096, 64)
    for (const v of vcpus) v.run_burst(mem, 0, 1000, 1000)
    const values = mem.log.map((e) => e.value)
    expect(new Set(values).size).toBe(200)
    expect(mem.log.slice(0, 3).map((e) => [e.task, e.page])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2]
    ])
  })

  it("per_vcpu must list every vCPU", () => {
    const o = {
      guest: { phases: [{}], per_vcpu: [[{}]] },
      vcpus: 2,
      guest_pages: 8,
      base_addr: BASE,
      page_bytes: 4096,
      rng: (i: number) => new TestRng(i),
      ground_truth: new GroundTruth(8)
    }
    expect(() => createVcpus(o)).toThrow(AssertionError)
  })
})
