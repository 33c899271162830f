import { describe, expect, it } from "vitest"
import {
  ARCHES,
  type Arch,
  arch_can_have,
  arch_page_sizes,
  default_kernel_config,
  detect_cpu_features,
  type KernelConfig,
  type MachineSpec,
  validate_machine
} from "../src/index.ts"

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

function machine(arch: Arch, over: Partial<MachineSpec> = {}, config: Partial<KernelConfig> = {}): MachineSpec {
  return {
    arch,
    isa_extensions: [],
    page_size: 4 * KiB,
    kernel: { major: 7, minor: 2, config: { ...default_kernel_config(arch), ...config } },
    ...over
  }
}

describe("detect_cpu_features: gating matrix (rwp-semantics §2.3)", () => {
  // [arch, extensions, is_64bit, protnone, uffd bit built, uffd bit usable, CONFIG_USERFAULTFD_RWP]
  const table: [Arch, string[], boolean, boolean, boolean, boolean, boolean][] = [
    ["x86_64", [], true, true, true, true, true],
    ["arm64", [], true, true, true, true, true],
    ["riscv64", ["svrsw60t59b"], true, true, true, true, true],
    ["riscv64", [], true, true, true, false, true],
    ["ppc64le", [], true, true, false, false, false],
    ["s390x", [], true, true, false, false, false],
    ["loongarch64", [], true, true, false, false, false],
    ["i386", [], false, false, false, false, false],
    ["armv7", [], false, false, false, false, false]
  ]
  it.each(table)("%s %j on 7.2", (arch, exts, is64, protnone, built, usable, rwp) => {
    const f = detect_cpu_features(machine(arch, { isa_extensions: exts }))
    expect(f.arch).toBe(arch)
    expect(f.is_64bit).toBe(is64)
    expect(f.arch_has_pte_protnone).toBe(protnone)
    expect(f.have_arch_userfaultfd_wp).toBe(built)
    expect(f.pgtable_supports_uffd).toBe(usable)
    expect(f.config_userfaultfd_rwp).toBe(rwp)
    expect(f.kernel_has_rwp).toBe(true)
    expect(f.kernel_has_pagemap_scan).toBe(true)
    expect(f.has_svrsw60t59b).toBe(exts.includes("svrsw60t59b"))
    expect(f.page_size).toBe(4 * KiB)
    expect(f.page_shift).toBe(12)
  })

  it("RWP is usable exactly where config and the runtime uffd bit both hold", () => {
    const usable = ARCHES.filter((a) => {
      const f = detect_cpu_features(machine(a))
      return f.config_userfaultfd_rwp && f.pgtable_supports_uffd
    })
    expect(usable).toEqual(["x86_64", "arm64"])
  })
})

describe("detect_cpu_features: kernel versions and config", () => {
  it("kernel older than 7.2 has no RWP UAPI and no CONFIG_USERFAULTFD_RWP", () => {
    const f = detect_cpu_features({
      ...machine("x86_64"),
      kernel: { major: 7, minor: 1, config: default_kernel_config("x86_64") }
    })
    expect(f.kernel_has_rwp).toBe(false)
    expect(f.config_userfaultfd_rwp).toBe(false)
    expect(f.kernel_has_pagemap_scan).toBe(true)
    expect(f.pgtable_supports_uffd).toBe(true)
  })

  it("PAGEMAP_SCAN and WP_ASYNC from 6.7, not 6.6", () => {
    const at = (major: number, minor: number) =>
      detect_cpu_features({ ...machine("x86_64"), kernel: { major, minor, config: default_kernel_config("x86_64") } })
    expect(at(6, 6).kernel_has_pagemap_scan).toBe(false)
    expect(at(6, 7).kernel_has_pagemap_scan).toBe(true)
    expect(at(6, 7).kernel_has_rwp).toBe(false)
    expect(at(8, 0).kernel_has_rwp).toBe(true)
    expect(at(8, 0).kernel_has_pagemap_scan).toBe(true)
  })

  it("arm64 got its uffd bit in 6.10", () => {
    const at = (minor: number) =>
      detect_cpu_features({ ...machine("arm64"), kernel: { major: 6, minor, config: default_kernel_config("arm64") } })
    expect(at(9).have_arch_userfaultfd_wp).toBe(false)
    expect(at(10).have_arch_userfaultfd_wp).toBe(true)
  })

  it("CONFIG_USERFAULTFD_RWP off leaves the uffd-wp bit usable", () => {
    const f = detect_cpu_features(machine("x86_64", {}, { USERFAULTFD_RWP: false }))
    expect(f.config_userfaultfd_rwp).toBe(false)
    expect(f.pgtable_supports_uffd).toBe(true)
  })

  it("the other config options pass through", () => {
    const f = detect_cpu_features(
      machine("arm64", {}, { TRANSPARENT_HUGEPAGE: false, HUGETLBFS: false, SWAP: false, IDLE_PAGE_TRACKING: false })
    )
    expect([f.transparent_hugepage, f.hugetlbfs, f.swap, f.idle_page_tracking]).toEqual([false, false, false, false])
    const g = detect_cpu_features(machine("arm64"))
    expect([g.transparent_hugepage, g.hugetlbfs, g.swap, g.idle_page_tracking]).toEqual([true, true, true, true])
  })

  it("asserts on a page size the arch cannot have", () => {
    expect(() => detect_cpu_features(machine("x86_64", { page_size: 64 * KiB }))).toThrow()
  })
})

describe("detect_cpu_features: page and huge page sizes", () => {
  const table: [Arch, number, number, number, number[]][] = [
    ["x86_64", 4 * KiB, 12, 2 * MiB, [2 * MiB, 1 * GiB]],
    ["riscv64", 4 * KiB, 12, 2 * MiB, [2 * MiB, 1 * GiB]],
    ["arm64", 4 * KiB, 12, 2 * MiB, [64 * KiB, 2 * MiB, 32 * MiB, 1 * GiB]],
    ["arm64", 16 * KiB, 14, 32 * MiB, [2 * MiB, 32 * MiB, 1 * GiB]],
    ["arm64", 64 * KiB, 16, 512 * MiB, [2 * MiB, 512 * MiB, 16 * GiB]],
    ["ppc64le", 64 * KiB, 16, 2 * MiB, [2 * MiB, 1 * GiB]],
    ["s390x", 4 * KiB, 12, 1 * MiB, [1 * MiB, 2 * GiB]],
    ["loongarch64", 4 * KiB, 12, 2 * MiB, [2 * MiB]]
  ]
  it.each(table)("%s with %d-byte pages", (arch, page_size, shift, pmd, huge) => {
    const f = detect_cpu_features(machine(arch, { page_size }))
    expect(f.page_shift).toBe(shift)
    expect(f.pmd_size).toBe(pmd)
    expect(f.hugepage_sizes).toEqual(huge)
  })

  it("the PMD size is a hugetlbfs size on every arch and page size", () => {
    for (const arch of ARCHES) {
      for (const page_size of arch_page_sizes(arch)) {
        const f = detect_cpu_features(machine(arch, { page_size }))
        expect(f.hugepage_sizes).toContain(f.pmd_size)
      }
    }
  })
})

describe("arch facts", () => {
  it("arch_page_sizes: arm64 4K/16K/64K, ppc64le 4K/64K, others 4K (spec machine.page_size)", () => {
    expect(arch_page_sizes("arm64")).toEqual([4 * KiB, 16 * KiB, 64 * KiB])
    expect(arch_page_sizes("ppc64le")).toEqual([4 * KiB, 64 * KiB])
    for (const a of ["x86_64", "riscv64", "s390x", "loongarch64", "i386", "armv7"] as const) {
      expect(arch_page_sizes(a)).toEqual([4 * KiB])
    }
  })

  it("arch_can_have USERFAULTFD_RWP: x86_64, arm64, riscv64 only", () => {
    expect(ARCHES.filter((a) => arch_can_have(a, "USERFAULTFD_RWP"))).toEqual(["x86_64", "arm64", "riscv64"])
  })

  it("default_kernel_config: spec kernel.config defaults", () => {
    expect(default_kernel_config("x86_64")).toEqual({
      USERFAULTFD_RWP: true,
      IDLE_PAGE_TRACKING: true,
      TRANSPARENT_HUGEPAGE: true,
      HUGETLBFS: true,
      SWAP: true
    })
    expect(default_kernel_config("ppc64le").USERFAULTFD_RWP).toBe(false)
    expect(default_kernel_config("riscv64").USERFAULTFD_RWP).toBe(true)
    for (const a of ARCHES) {
      const c = default_kernel_config(a)
      for (const k of Object.keys(c) as (keyof KernelConfig)[]) expect(c[k]).toBe(arch_can_have(a, k))
    }
  })
})

describe("validate_machine (spec: invalid scenario exits 2)", () => {
  const ok = { isa_extensions: [] as string[], page_size: 4 * KiB, config_explicit: {} }
  it("accepts the defaults on every arch", () => {
    for (const arch of ARCHES) expect(validate_machine({ arch, ...ok })).toBeNull()
  })
  it("accepts arm64 16KiB and 64KiB, ppc64le 64KiB", () => {
    expect(validate_machine({ ...ok, arch: "arm64", page_size: 16 * KiB })).toBeNull()
    expect(validate_machine({ ...ok, arch: "arm64", page_size: 64 * KiB })).toBeNull()
    expect(validate_machine({ ...ok, arch: "ppc64le", page_size: 64 * KiB })).toBeNull()
  })
  it("rejects a page size the arch cannot have", () => {
    expect(validate_machine({ ...ok, arch: "x86_64", page_size: 16 * KiB })).toMatch(/page_size 16KiB/)
    expect(validate_machine({ ...ok, arch: "ppc64le", page_size: 16 * KiB })).toMatch(/ppc64le/)
  })
  it("rejects USERFAULTFD_RWP turned on where the arch cannot have it (RWP on ppc64le)", () => {
    for (const arch of ["ppc64le", "s390x", "loongarch64", "i386", "armv7"] as const) {
      expect(validate_machine({ ...ok, arch, config_explicit: { USERFAULTFD_RWP: true } })).toMatch(/USERFAULTFD_RWP/)
      expect(validate_machine({ ...ok, arch, config_explicit: { USERFAULTFD_RWP: false } })).toBeNull()
    }
    expect(validate_machine({ ...ok, arch: "riscv64", config_explicit: { USERFAULTFD_RWP: true } })).toBeNull()
  })
  it("accepts svrsw60t59b on riscv64 and rejects it elsewhere", () => {
    expect(validate_machine({ ...ok, arch: "riscv64", isa_extensions: ["svrsw60t59b"] })).toBeNull()
    expect(validate_machine({ ...ok, arch: "x86_64", isa_extensions: ["svrsw60t59b"] })).toMatch(/only on riscv64/)
  })
  it("rejects an unknown extension", () => {
    expect(validate_machine({ ...ok, arch: "riscv64", isa_extensions: ["svfoo"] })).toMatch(
      /unknown ISA extension svfoo/
    )
  })
})
