import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse as parseYaml } from "yaml"
import {
  DEFAULT_COSTS,
  DEFAULT_WORKLOAD,
  formatScenarioError,
  INVARIANTS,
  OP_NAMES,
  parseScenario,
  type Scenario,
  type Step
} from "../src/index.ts"

const EXAMPLES = join(import.meta.dirname, "fixtures", "spec-examples")

function ok(text: string, file = "t.yaml"): Scenario {
  const r = parseScenario(text, file)
  if (!r.ok) throw new Error(r.errors.map(formatScenarioError).join("\n"))
  return r.scenario
}

function fails(text: string, file = "t.yaml"): string[] {
  const r = parseScenario(text, file)
  if (r.ok) throw new Error("parsed but should not have")
  return r.errors.map(formatScenarioError)
}

const y = (...lines: string[]) => `${lines.join("\n")}\n`

function stepOf<K extends Step["op"]>(s: Scenario, i: number, op: K): Extract<Step, { op: K }> {
  const step = s.steps[i]
  expect(step.op).toBe(op)
  return step as Extract<Step, { op: K }>
}

describe("the spec's examples", () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"))

  it("are all here", () => {
    expect(files.sort()).toEqual(["errors.yaml", "protect-and-scan.yaml", "sync-fault.yaml", "workload-hot-scan.yaml"])
  })

  it.each(files)("spec examples/%s parses as YAML and, converted, as JSON to the same scenario", (f) => {
    const text = readFileSync(join(EXAMPLES, f), "utf8")
    const fromYaml = ok(text, f)
    const fromJson = ok(JSON.stringify(parseYaml(text), null, 2), f.replace(/\.yaml$/, ".json"))
    expect(fromJson).toEqual(fromYaml)
  })

  it("protect-and-scan.yaml has the canonical values", () => {
    const s = ok(readFileSync(join(EXAMPLES, "protect-and-scan.yaml"), "utf8"))
    expect(s.seed).toBe(1)
    expect(s.machine.arch).toBe("arm64")
    const scan = stepOf(s, 9, "PAGEMAP_SCAN")
    expect(scan.args.end).toEqual({ base: "buf", offset: 8192 })
    expect(scan.args.category_mask).toEqual({ names: ["PAGE_IS_ACCESSED", "PAGE_IS_PRESENT"] })
    expect(scan.expect?.regions).toEqual([
      {
        start: { base: "buf", offset: 0 },
        end: { base: "buf", offset: 4096 },
        categories: { names: ["PAGE_IS_PRESENT"] }
      }
    ])
    expect(stepOf(s, 5, "UFFDIO_REGISTER").args.mode).toEqual({ names: ["UFFDIO_REGISTER_MODE_RWP"] })
  })

  it("workload-hot-scan.yaml fills the workload's defaults and keeps its values", () => {
    const s = ok(readFileSync(join(EXAMPLES, "workload-hot-scan.yaml"), "utf8"))
    const w = s.workload!
    expect(w.duration).toBe(10e9)
    expect(w.memory).toEqual({ backing: "shmem", size: 128 << 20, hugepage_size: 2 << 20, thp: false })
    expect(w.guest.phases[0]).toMatchObject({
      pattern: "hot_cold",
      hot_shift: { every: 3e9, by: 0.1 },
      access_ns: 2000,
      skew: 0.99,
      span: { start: 0, len: 1 }
    })
    expect(w.guest.phases[0].hot_set).toBeCloseTo(0.15)
    expect(w.vmm).toEqual({
      tracker: "rwp",
      fallback: ["uffd-wp", "idle-page", "none"],
      strategy: "hot-scan",
      interval: 5e8,
      cold_age: 2
    })
    expect(w.storage).toEqual({ latency: 200_000, bandwidth: 500 << 20, queue_depth: 8 })
    expect(s.expect).toEqual({
      hung_vcpus: 0,
      invariants: [...INVARIANTS],
      max_stall: 50e6,
      tracker: "rwp",
      metrics: { data_loss: { min: 0, max: 0 }, hung_vcpus: { min: 0, max: 0 }, pages_evicted: { min: 1 } }
    })
  })
})

describe("defaults", () => {
  const minimal = ok(y("name: m", "steps: []"))

  it("spec machine: x86_64, 4KiB pages, kernel 7.2, 1 vCPU, TLB 64/4, documented costs", () => {
    expect(minimal.machine).toEqual({
      arch: "x86_64",
      isa_extensions: [],
      page_size: 4096,
      kernel: { version: "7.2", config: {} },
      vcpus: 1,
      tlb: { entries: 64, ways: 4 },
      costs: DEFAULT_COSTS
    })
  })

  it("spec top level: seed 0, no schedule, scripts expect no hung vCPUs and check no invariants", () => {
    expect(minimal.seed).toBe(0)
    expect(minimal.schedule).toEqual([])
    expect(minimal.steps).toEqual([])
    expect(minimal.workload).toBeUndefined()
    expect(minimal.expect).toEqual({ hung_vcpus: 0, invariants: [], metrics: {} })
  })

  it("spec workload: every default but duration and memory.size", () => {
    const s = ok(y("name: w", "workload: { duration: 1s, memory: { size: 1GiB } }"))
    const w = s.workload!
    expect(w.memory).toEqual({ size: 1 << 30, ...DEFAULT_WORKLOAD.memory })
    expect(w.guest).toEqual({ phases: [{ ...DEFAULT_WORKLOAD.phase }] })
    expect(w.vmm).toEqual(DEFAULT_WORKLOAD.vmm)
    expect(w.storage).toEqual(DEFAULT_WORKLOAD.storage)
    expect(s.expect.invariants).toEqual([...INVARIANTS])
  })

  it("DEFAULT_WORKLOAD has the spec's values in canonical units", () => {
    expect(DEFAULT_WORKLOAD.phase).toEqual({
      pattern: "uniform",
      hot_set: 0.1,
      hot_share: 0.9,
      hot_shift: null,
      skew: 0.99,
      writes: 0.3,
      // an rwpsim extension; 0 keeps the spec's patterns as they are
      locality: 0,
      access_ns: 1000,
      span: { start: 0, len: 1 }
    })
    expect(DEFAULT_WORKLOAD.vmm.interval).toBe(1e9)
    expect(DEFAULT_WORKLOAD.storage).toEqual({ latency: 50_000, bandwidth: 2 * 2 ** 30, queue_depth: 16 })
  })

  it("costs accept durations and keep the other defaults", () => {
    const s = ok(y("name: c", "machine: { costs: { page_fault: 2us, tlb_miss: 50 } }", "steps: []"))
    expect(s.machine.costs).toEqual({ ...DEFAULT_COSTS, page_fault: 2000, tlb_miss: 50 })
  })

  it("kernel.config keeps only the options given", () => {
    const s = ok(y("name: k", "machine: { kernel: { config: { SWAP: false, USERFAULTFD_RWP: true } } }", "steps: []"))
    expect(s.machine.kernel).toEqual({ version: "7.2", config: { SWAP: false, USERFAULTFD_RWP: true } })
  })

  it("spec mmap: prot defaults to read and write, offset to 0, flags left to the runner", () => {
    const s = ok(y("name: m", "steps:", "  - mmap: { as: m, length: 4KiB }"))
    expect(s.steps[0]).toEqual({
      op: "mmap",
      args: { as: "m", length: 4096, offset: 0, prot: { names: ["PROT_READ", "PROT_WRITE"] } },
      expect: undefined
    })
  })

  it("PAGEMAP_SCAN: empty masks, unlimited vec_len, no max_pages", () => {
    const s = ok(y("name: p", "steps:", "  - PAGEMAP_SCAN: { start: 0, end: 4096, return_mask: [PAGE_IS_PRESENT] }"))
    expect(stepOf(s, 0, "PAGEMAP_SCAN").args).toEqual({
      start: { base: null, offset: 0 },
      end: { base: null, offset: 4096 },
      category_mask: { names: [] },
      category_inverted: { names: [] },
      category_anyof_mask: { names: [] },
      return_mask: { names: ["PAGE_IS_PRESENT"] },
      flags: { names: [] },
      vec_len: null,
      max_pages: 0
    })
  })

  it("PAGEMAP_SCAN: vec_len 0 is kept (no buffer, as in the kernel)", () => {
    const s = ok(y("name: p", "steps:", "  - PAGEMAP_SCAN: { start: 0, end: 4096, return_mask: 0, vec_len: 0 }"))
    expect(stepOf(s, 0, "PAGEMAP_SCAN").args.vec_len).toBe(0)
  })
})

describe("steps", () => {
  it("normalise { OP: ARGS } to { op, args, expect } for every op", () => {
    const s = ok(
      y(
        "name: all",
        "machine: { vcpus: 2 }",
        "steps:",
        "  - memfd_create: { as: f, size: 2MiB, hugetlb: 2MiB }",
        "  - mmap: { as: m, length: 2MiB, fd: f, prot: PROT_NONE, flags: [MAP_SHARED, MAP_FIXED], addr: 0x7f0000000000 }",
        "  - mprotect: { addr: m, length: 4KiB, prot: [PROT_READ] }",
        "  - madvise: { addr: m, length: 4KiB, advice: MADV_PAGEOUT }",
        "  - fallocate: { fd: f, mode: [FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE], offset: 0, len: 4KiB }",
        "  - ftruncate: { fd: f, length: 4MiB }",
        "  - migrate: { addr: m, length: 4KiB }",
        "  - munmap: { addr: m+1MiB, length: 1MiB }",
        "  - pagemap: { addr: m, expect: { present: true, swapped: false, uffd: true, file_or_shared: true } }",
        "  - read: { vcpu: 1, addr: m, expect: { value: 4294967295, blocked: true } }",
        "  - write: { vcpu: 0, addr: m+4KiB, value: 0, expect: { signal: SIGBUS } }",
        "  - vcpu: { vcpu: 1, expect: { state: blocked, blocked_on: m } }",
        "  - sleep: { duration: 1ms }",
        "  - wait: { vcpu: 1, expect: { value: 3 } }",
        "  - pwrite: { storage: disk, offset: 0, from: m, len: 4KiB }",
        "  - pread: { storage: disk, offset: 4KiB, to: m, len: 4KiB }",
        "  - userfaultfd: { as: u, flags: [O_CLOEXEC, O_NONBLOCK] }",
        "  - UFFDIO_API: { fd: u, features: [UFFD_FEATURE_RWP], expect: { features_include: [UFFD_FEATURE_RWP], ioctls_include: [UFFDIO_SET_MODE] } }",
        "  - UFFDIO_REGISTER: { fd: u, range: { start: m, len: 2MiB }, mode: [UFFDIO_REGISTER_MODE_RWP], expect: { ioctls_include: [_UFFDIO_RWPROTECT] } }",
        "  - UFFDIO_UNREGISTER: { fd: u, range: { start: m, len: 2MiB } }",
        "  - UFFDIO_WAKE: { fd: u, range: { start: m, len: 2MiB }, expect: { errno: EINVAL } }",
        "  - UFFDIO_RWPROTECT: { fd: u, range: { start: m, len: 2MiB }, mode: UFFDIO_RWPROTECT_MODE_DONTWAKE }",
        "  - UFFDIO_WRITEPROTECT: { fd: u, range: { start: m, len: 2MiB }, mode: [] }",
        "  - UFFDIO_SET_MODE: { fd: u, enable: [UFFD_FEATURE_RWP_ASYNC] }",
        "  - UFFDIO_COPY: { fd: u, dst: m, len: 4KiB, src: { storage: disk, offset: 0 } }",
        "  - UFFDIO_COPY: { fd: u, dst: m, len: 4KiB, src: { value: 9 }, mode: [UFFDIO_COPY_MODE_DONTWAKE] }",
        "  - read_msg: { fd: u, expect: { event: UFFD_EVENT_PAGEFAULT, flags_include: [UFFD_PAGEFAULT_FLAG_RWP], address: m } }",
        "  - read_msg: { fd: u, expect: { blocked: true } }",
        "  - PAGEMAP_SCAN: { start: m, end: m+2MiB, return_mask: [PAGE_IS_PRESENT], expect: { count: 0, regions: [], walk_end: m+2MiB } }",
        "  - close: { fd: u }"
      )
    )
    expect(new Set(s.steps.map((st) => st.op))).toEqual(new Set(OP_NAMES))
    for (const st of s.steps) {
      expect(Object.keys(st).sort()).toEqual(["args", "expect", "op"])
      expect(st.args).not.toHaveProperty("expect")
    }
    expect(stepOf(s, 0, "memfd_create").args.hugetlb).toBe(2 << 20)
    expect(stepOf(s, 1, "mmap").args).toMatchObject({
      prot: { names: ["PROT_NONE"] },
      addr: { base: null, offset: 0x7f0000000000 }
    })
    expect(stepOf(s, 9, "read").expect).toEqual({ value: 0xffffffff, blocked: true })
    expect(stepOf(s, 17, "UFFDIO_API").expect?.ioctls_include).toEqual({ names: ["_UFFDIO_SET_MODE"] })
    expect(stepOf(s, 21, "UFFDIO_RWPROTECT").args.mode).toEqual({ names: ["UFFDIO_RWPROTECT_MODE_DONTWAKE"] })
    expect(stepOf(s, 23, "UFFDIO_SET_MODE").args).toEqual({
      fd: "u",
      enable: { names: ["UFFD_FEATURE_RWP_ASYNC"] },
      disable: { names: [] }
    })
    expect(stepOf(s, 24, "UFFDIO_COPY").args.src).toEqual({ storage: "disk", offset: 0 })
    expect(stepOf(s, 25, "UFFDIO_COPY").args.src).toEqual({ value: 9 })
  })

  it.each([
    ["write without value", "  - write: { vcpu: 0, addr: 0 }", "steps[0].write.value: required"],
    [
      "a page word above 32 bits",
      "  - write: { vcpu: 0, addr: 0, value: 4294967296 }",
      "steps[0].write.value: expected an unsigned 32-bit"
    ],
    [
      "an unknown errno",
      "  - munmap: { addr: 0, length: 0, expect: { errno: EWHAT } }",
      "steps[0].munmap.expect.errno: expected an errno name"
    ],
    [
      "an unknown signal",
      "  - read: { vcpu: 0, addr: 0, expect: { signal: SIGKILL } }",
      "steps[0].read.expect.signal: expected a signal"
    ],
    ["vcpu without expect", "  - vcpu: { vcpu: 0 }", "steps[0].vcpu.expect: required"],
    [
      "an unknown vCPU state",
      "  - vcpu: { vcpu: 0, expect: { state: asleep } }",
      "steps[0].vcpu.expect.state: expected a vCPU state"
    ],
    [
      "a field of another op",
      "  - munmap: { addr: 0, length: 0, prot: PROT_NONE }",
      'steps[0].munmap.prot: unknown key "prot"'
    ],
    [
      "a hugetlb size other than 2MiB or 1GiB",
      "  - memfd_create: { as: f, size: 4KiB, hugetlb: 4KiB }",
      'steps[0].memfd_create.hugetlb: expected "2MiB" or "1GiB"'
    ],
    [
      "a copy source with both forms",
      "  - UFFDIO_COPY: { fd: u, dst: 0, len: 0, src: { value: 1, storage: d, offset: 0 } }",
      "steps[0].UFFDIO_COPY.src: expected either"
    ],
    [
      "a copy source without offset",
      "  - UFFDIO_COPY: { fd: u, dst: 0, len: 0, src: { storage: d } }",
      "steps[0].UFFDIO_COPY.src: required: offset"
    ],
    [
      "an unknown advice",
      "  - madvise: { addr: 0, length: 0, advice: MADV_FREEZE }",
      "steps[0].madvise.advice: expected an advice"
    ],
    ["a negative vCPU", "  - read: { vcpu: -1, addr: 0 }", "steps[0].read.vcpu: expected a vCPU number"]
  ])("rejects %s", (_what, line, message) => {
    expect(fails(y("name: x", "steps:", line))[0]).toContain(message)
  })

  it("spec: any op accepts expect: { errno }", () => {
    for (const op of ["munmap: { addr: 0, length: 0", "sleep: { duration: 1", "close: { fd: f"]) {
      const s = ok(
        y("name: x", "steps:", "  - memfd_create: { as: f, size: 0 }", `  - ${op}, expect: { errno: EINVAL } }`)
      )
      expect(s.steps[1].expect).toEqual({ errno: "EINVAL" })
    }
  })
})

describe("names and references", () => {
  it("spec Values: as names share one namespace (file vs mapping vs userfaultfd)", () => {
    expect(
      fails(y("name: x", "steps:", "  - memfd_create: { as: a, size: 0 }", "  - userfaultfd: { as: a }"))[0]
    ).toContain('steps[1].userfaultfd.as: the name "a" is already given by steps[0].memfd_create.as')
  })

  it("spec Values: a storage object's name is in the namespace too", () => {
    const text = y(
      "name: x",
      "steps:",
      "  - mmap: { as: m, length: 4KiB }",
      "  - pwrite: { storage: m, offset: 0, from: m, len: 4KiB }"
    )
    expect(fails(text)[0]).toContain(
      'steps[1].pwrite.storage: "m" is a mapping (steps[0].mmap.as), expected a storage object'
    )
  })

  it("spec Top level: with a workload, guest, guest_mem, io_mem and uffd are taken", () => {
    const text = y(
      "name: x",
      "workload: { duration: 1s, memory: { size: 1MiB } }",
      "steps:",
      "  - mmap: { as: io_mem, length: 4KiB }"
    )
    expect(fails(text)[0]).toContain('steps[0].mmap.as: the name "io_mem" is already given by the workload')
  })

  it("steps with a workload may use its names", () => {
    const s = ok(
      y(
        "name: x",
        "workload: { duration: 1s, memory: { size: 1MiB } }",
        "steps:",
        "  - UFFDIO_RWPROTECT: { fd: uffd, range: { start: guest_mem, len: 4KiB }, mode: [UFFDIO_RWPROTECT_MODE_RWP] }",
        "  - pwrite: { storage: disk, offset: 0, from: io_mem, len: 4KiB }",
        "  - fallocate: { fd: guest, mode: [FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE], offset: 0, len: 4KiB }"
      )
    )
    expect(s.steps).toHaveLength(3)
  })

  it("an anon workload has no io_mem", () => {
    const text = y(
      "name: x",
      "workload: { duration: 1s, memory: { backing: anon, size: 1MiB } }",
      "steps:",
      "  - read: { vcpu: 0, addr: io_mem }"
    )
    expect(fails(text)[0]).toContain('steps[0].read.addr: no mapping named "io_mem"; mappings: guest_mem')
  })

  it("an fd must be a file or userfaultfd, and mmap's fd a file", () => {
    const text = y(
      "name: x",
      "steps:",
      "  - userfaultfd: { as: u }",
      "  - mmap: { as: m, length: 4KiB, fd: u }",
      "  - close: { fd: m }"
    )
    const lines = fails(text)
    expect(lines[0]).toContain('steps[1].mmap.fd: "u" is a userfaultfd (steps[0].userfaultfd.as), expected a file')
    expect(lines[1]).toContain('steps[2].close.fd: "m" is a mapping (steps[1].mmap.as), expected a file or userfaultfd')
  })

  it("addresses in expectations are checked too", () => {
    const text = y(
      "name: x",
      "steps:",
      "  - userfaultfd: { as: u }",
      "  - read_msg: { fd: u, expect: { address: nowhere } }"
    )
    expect(fails(text)[0]).toContain('steps[1].read_msg.expect.address: no mapping named "nowhere"')
  })

  it("reading a storage object never written is allowed (it reads as zeros)", () => {
    expect(
      ok(
        y(
          "name: x",
          "steps:",
          "  - mmap: { as: m, length: 4KiB }",
          "  - pread: { storage: d, offset: 0, to: m, len: 4KiB }"
        )
      ).steps
    ).toHaveLength(2)
  })
})

describe("machine", () => {
  it.each([
    ["arm64", "16KiB", true],
    ["arm64", "64KiB", true],
    ["ppc64le", "64KiB", true],
    ["ppc64le", "16KiB", false],
    ["x86_64", "64KiB", false],
    ["riscv64", "4KiB", true]
  ])("spec machine: %s with %s pages is %s", (arch, page, valid) => {
    const r = parseScenario(y("name: x", `machine: { arch: ${arch}, page_size: ${page} }`, "steps: []"), "t.yaml")
    expect(r.ok).toBe(valid)
    if (!r.ok) expect(formatScenarioError(r.errors[0])).toMatch(/machine\.page_size: expected a page size .* supports/)
  })

  it("an unknown arch lists the arches", () => {
    expect(fails(y("name: x", "machine: { arch: sparc64 }", "steps: []"))[0]).toContain(
      'machine.arch: expected an arch: x86_64, arm64, riscv64, ppc64le, s390x, loongarch64, i386, armv7, got "sparc64"'
    )
  })

  it("kernel.version must be quoted MAJOR.MINOR", () => {
    expect(ok(y("name: x", 'machine: { kernel: { version: "6.10" } }', "steps: []")).machine.kernel.version).toBe(
      "6.10"
    )
    expect(fails(y("name: x", "machine: { kernel: { version: 6.7 } }", "steps: []"))[0]).toContain(
      "got the number 6.7 (quote it"
    )
    expect(fails(y("name: x", 'machine: { kernel: { version: "7" } }', "steps: []"))[0]).toContain(
      "machine.kernel.version: expected a quoted"
    )
  })

  it("an unknown kernel config option", () => {
    expect(fails(y("name: x", "machine: { kernel: { config: { NUMA: true } } }", "steps: []"))[0]).toContain(
      'machine.kernel.config.NUMA: unknown key "NUMA"'
    )
  })

  it("TLB ways must divide entries; vcpus at least 1", () => {
    expect(fails(y("name: x", "machine: { tlb: { entries: 64, ways: 3 } }", "steps: []"))[0]).toContain(
      "machine.tlb.ways: expected ways to divide entries"
    )
    expect(fails(y("name: x", "machine: { vcpus: 0 }", "steps: []"))[0]).toContain(
      "machine.vcpus: expected a number of vCPUs (at least 1), got 0"
    )
  })
})

describe("workload and expect", () => {
  const w = (memory: string, extra = "") => y("name: w", `workload: { duration: 1s, memory: ${memory}${extra} }`)

  it("spec: a scenario has steps or workload or both", () => {
    expect(fails(y("name: x"))[0]).toBe("t.yaml:1:1: a scenario needs steps, a workload or both")
  })

  it("duration and memory.size are required", () => {
    expect(fails(y("name: w", "workload: { memory: { size: 1MiB } }"))[0]).toContain("workload.duration: required")
    expect(fails(y("name: w", "workload: { duration: 1s, memory: {} }"))[0]).toContain("workload.memory.size: required")
  })

  it("hugepage_size is for hugetlb, thp for anon", () => {
    expect(fails(w("{ size: 2MiB, hugepage_size: 1GiB }"))[0]).toContain(
      "workload.memory.hugepage_size: hugepage_size is for backing hugetlb only"
    )
    expect(fails(w("{ size: 2MiB, thp: true }"))[0]).toContain(
      "workload.memory.thp: thp is for backing anon only, not shmem"
    )
    expect(ok(w("{ backing: hugetlb, size: 1GiB, hugepage_size: 1GiB }")).workload!.memory.hugepage_size).toBe(1 << 30)
    expect(ok(w("{ backing: anon, size: 2MiB, thp: true }")).workload!.memory.thp).toBe(true)
  })

  it("memory.size is a multiple of the (huge) page size", () => {
    expect(fails(w("{ size: 6KiB }"))[0]).toContain(
      "workload.memory.size: expected a multiple of the page size (4096), got 6144"
    )
    expect(fails(w("{ backing: hugetlb, size: 3MiB }"))[0]).toContain(
      "expected a multiple of the huge page size (2097152)"
    )
  })

  it("every phase but the last needs a duration", () => {
    const text = w("{ size: 1MiB }", ", guest: { phases: [{ pattern: zipf }, { pattern: uniform }] }")
    expect(fails(text)[0]).toContain(
      "workload.guest.phases[0].duration: required: a duration for every phase but the last"
    )
  })

  it("per_vcpu has one list per vCPU", () => {
    const text = y(
      "name: w",
      "machine: { vcpus: 2 }",
      "workload: { duration: 1s, memory: { size: 1MiB }, guest: { per_vcpu: [[{}]] } }"
    )
    expect(fails(text)[0]).toContain(
      "workload.guest.per_vcpu: expected one phase list per vCPU (machine.vcpus is 2), got 1"
    )
  })

  it("hot_shift is none or { every, by }", () => {
    const s = ok(w("{ size: 1MiB }", ", guest: { phases: [{ pattern: hot_cold, hot_shift: { every: 10s, by: 5% } }] }"))
    expect(s.workload!.guest.phases[0].hot_shift).toEqual({ every: 10e9, by: 0.05 })
    expect(fails(w("{ size: 1MiB }", ", guest: { phases: [{ hot_shift: sometimes }] }"))[0]).toContain(
      "hot_shift: expected none or a shift like { every: 10s, by: 5% }"
    )
  })

  it("a span may not run past the end of memory", () => {
    expect(fails(w("{ size: 1MiB }", ", guest: { phases: [{ span: { start: 50%, len: 60% } }] }"))[0]).toContain(
      "span.len: expected start + len to be at most 100%"
    )
  })

  it("unknown trackers and strategies list the valid ones", () => {
    expect(fails(w("{ size: 1MiB }", ", vmm: { tracker: wp }"))[0]).toContain(
      'workload.vmm.tracker: expected a tracker: rwp, uffd-wp, idle-page, none, got "wp"'
    )
    expect(fails(w("{ size: 1MiB }", ", vmm: { strategy: warm-scan }"))[0]).toContain(
      "expected a strategy: hot-scan, cold-scan"
    )
  })

  it("spec expect: invariants all or a list of the six names", () => {
    const base = "workload: { duration: 1s, memory: { size: 1MiB } }"
    expect(ok(y("name: w", base, "expect: { invariants: all }")).expect.invariants).toEqual([...INVARIANTS])
    expect(ok(y("name: w", base, "expect: { invariants: [mode, protection] }")).expect.invariants).toEqual([
      "mode",
      "protection"
    ])
    expect(ok(y("name: w", base, "expect: { invariants: [] }")).expect.invariants).toEqual([])
    expect(fails(y("name: w", base, "expect: { invariants: [no_dataloss] }"))[0]).toContain(
      "expect.invariants[0]: expected an invariant"
    )
  })

  it("spec expect: scripts may list invariants to check", () => {
    expect(ok(y("name: s", "steps: []", "expect: { invariants: [no_lost_wakeup] }")).expect.invariants).toEqual([
      "no_lost_wakeup"
    ])
  })

  it("spec expect: metric bounds are a number or { min, max }", () => {
    const s = ok(
      y(
        "name: w",
        "workload: { duration: 1s, memory: { size: 1MiB } }",
        "expect: { metrics: { data_loss: 0, refaults: { max: 10 }, stall_ns_max: { max: 5ms }, guest_accesses: { min: 1, max: 2 } } }"
      )
    )
    expect(s.expect.metrics).toEqual({
      data_loss: { min: 0, max: 0 },
      refaults: { max: 10 },
      stall_ns_max: { max: 5e6 },
      guest_accesses: { min: 1, max: 2 }
    })
  })

  it.each([
    [
      "an unknown metric",
      "{ metrics: { pages_evictd: 1 } }",
      'expect.metrics.pages_evictd: unknown key "pages_evictd" (did you mean "pages_evicted"?)'
    ],
    ["min above max", "{ metrics: { refaults: { min: 3, max: 2 } } }", "expect.metrics.refaults: expected min <= max"],
    ["an empty bound", "{ metrics: { refaults: {} } }", "expect.metrics.refaults: expected { min }, { max } or both"],
    ["a string bound", "{ metrics: { refaults: lots } }", "expect.metrics.refaults: expected a bound"],
    ["a bad max_stall", "{ max_stall: 5 minutes }", "expect.max_stall: expected a duration"],
    ["a negative hung_vcpus", "{ hung_vcpus: -1 }", "expect.hung_vcpus: expected a number of vCPUs"]
  ])("expect rejects %s", (_what, expectText, message) => {
    expect(
      fails(y("name: w", "workload: { duration: 1s, memory: { size: 1MiB } }", `expect: ${expectText}`))[0]
    ).toContain(message)
  })

  it("max_stall and tracker are for workload runs", () => {
    expect(fails(y("name: s", "steps: []", "expect: { tracker: rwp }"))[0]).toContain(
      "expect.tracker: expect.tracker is for runs with a workload; this scenario has none"
    )
  })

  it("schedule is a list of choices", () => {
    expect(ok(y("name: s", "steps: []", "schedule: [0, 2, 1]")).schedule).toEqual([0, 2, 1])
    expect(fails(y("name: s", "steps: []", "schedule: [a]"))[0]).toContain("schedule[0]: expected a scheduler choice")
  })
})
