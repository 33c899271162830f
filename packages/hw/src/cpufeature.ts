/**
 * What a machine can do for userfaultfd tracking: the Kconfig facts of each architecture
 * (ARCH_HAS_PTE_PROTNONE, HAVE_ARCH_USERFAULTFD_WP, page and huge page sizes), the runtime ISA
 * check riscv adds (Svrsw60t59b), and the kernel-version gates of the UAPI. The scenario layer
 * validates a machine table with these facts; the kernel reads the resulting CpuFeatures.
 */

export type Arch = "x86_64" | "arm64" | "riscv64" | "ppc64le" | "s390x" | "loongarch64" | "i386" | "armv7"

/** Every simulated architecture, in the spec's order. */
export const ARCHES: readonly Arch[] = [
  "x86_64",
  "arm64",
  "riscv64",
  "ppc64le",
  "s390x",
  "loongarch64",
  "i386",
  "armv7"
]

/** The CONFIG_* options a scenario may set (without the CONFIG_ prefix, as in the spec). */
export interface KernelConfig {
  USERFAULTFD_RWP: boolean
  IDLE_PAGE_TRACKING: boolean
  TRANSPARENT_HUGEPAGE: boolean
  HUGETLBFS: boolean
  SWAP: boolean
}

export interface MachineSpec {
  arch: Arch
  isa_extensions: readonly string[]
  page_size: number
  /** config is already defaulted (default_kernel_config() merged with the scenario's choices). */
  kernel: { major: number; minor: number; config: KernelConfig }
}

export interface CpuFeatures {
  arch: Arch
  is_64bit: boolean
  page_size: number
  page_shift: number
  /** CONFIG_ARCH_HAS_PTE_PROTNONE */
  arch_has_pte_protnone: boolean
  /** CONFIG_HAVE_ARCH_USERFAULTFD_WP: the kernel was built with a uffd PTE bit. */
  have_arch_userfaultfd_wp: boolean
  /** pgtable_supports_uffd(): the uffd bit is usable at runtime (riscv: the hart has Svrsw60t59b). */
  pgtable_supports_uffd: boolean
  /** CONFIG_USERFAULTFD_RWP as built: 64BIT && ARCH_HAS_PTE_PROTNONE && HAVE_ARCH_USERFAULTFD_WP && on. */
  config_userfaultfd_rwp: boolean
  /** The kernel version as major * 100 + minor (7.2 is 702): gates UAPI that appeared over time. */
  kernel_version: number
  /** Kernel >= 7.2: UFFDIO_RWPROTECT, UFFDIO_SET_MODE, UFFD_FEATURE_RWP{,_ASYNC}, PAGE_IS_ACCESSED exist. */
  kernel_has_rwp: boolean
  /** Kernel >= 6.7: PAGEMAP_SCAN and UFFD_FEATURE_WP_ASYNC exist. */
  kernel_has_pagemap_scan: boolean
  /** riscv_has_extension_unlikely(RISCV_ISA_EXT_SVRSW60T59B) */
  has_svrsw60t59b: boolean
  transparent_hugepage: boolean
  hugetlbfs: boolean
  swap: boolean
  idle_page_tracking: boolean
  /** hugetlbfs page sizes in bytes, ascending (arch_hugetlb_valid_size()). */
  hugepage_sizes: readonly number[]
  /** PMD_SIZE: the THP size. */
  pmd_size: number
}

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

/** arch/riscv/include/asm/hwcap.h: the ISA string name of RISCV_ISA_EXT_SVRSW60T59B. */
export const RISCV_ISA_EXT_SVRSW60T59B = "svrsw60t59b"

interface ArchFacts {
  is_64bit: boolean
  page_sizes: readonly number[]
  arch_has_pte_protnone: boolean
  /** First kernel (major*100+minor) whose build selects HAVE_ARCH_USERFAULTFD_WP; 0 if never. */
  uffd_wp_since: number
  /** The uffd bit also needs an ISA extension at runtime (riscv). */
  uffd_needs_ext: string | null
  has_thp: boolean
  /** ISA extension names (lowercase, as /proc/cpuinfo or the devicetree spells them) we know of. */
  isa_extensions: readonly string[]
}

// Sources: rwp-semantics.md §2.2-§2.4; arch/*/Kconfig (HAVE_ARCH_TRANSPARENT_HUGEPAGE,
// ARCH_HAS_PTE_PROTNONE, HAVE_ARCH_USERFAULTFD_WP). uffd-wp landed on x86_64 in 5.7, arm64 in 6.10,
// riscv64 (with RISCV_ISA_SVRSW60T59B) in 6.19.
const ARCH_FACTS: Record<Arch, ArchFacts> = {
  x86_64: {
    is_64bit: true,
    page_sizes: [4 * KiB],
    arch_has_pte_protnone: true,
    uffd_wp_since: 507,
    uffd_needs_ext: null,
    has_thp: true,
    isa_extensions: ["pse", "pae", "pdpe1gb", "la57", "pku", "nx", "pcid", "invpcid", "smep", "smap"]
  },
  arm64: {
    is_64bit: true,
    page_sizes: [4 * KiB, 16 * KiB, 64 * KiB],
    arch_has_pte_protnone: true,
    uffd_wp_since: 610,
    uffd_needs_ext: null,
    has_thp: true,
    isa_extensions: ["lpa2", "hafdbs", "bbml2", "tlbirange", "mte", "bti", "pan"]
  },
  riscv64: {
    is_64bit: true,
    page_sizes: [4 * KiB],
    arch_has_pte_protnone: true,
    uffd_wp_since: 619,
    uffd_needs_ext: RISCV_ISA_EXT_SVRSW60T59B,
    has_thp: true,
    isa_extensions: [RISCV_ISA_EXT_SVRSW60T59B, "svnapot", "svpbmt", "svinval", "svadu", "svade", "sstc", "zicbom"]
  },
  ppc64le: {
    is_64bit: true,
    page_sizes: [4 * KiB, 64 * KiB],
    arch_has_pte_protnone: true,
    uffd_wp_since: 0,
    uffd_needs_ext: null,
    has_thp: true,
    isa_extensions: ["radix", "altivec", "vsx"]
  },
  s390x: {
    is_64bit: true,
    page_sizes: [4 * KiB],
    arch_has_pte_protnone: true,
    uffd_wp_since: 0,
    uffd_needs_ext: null,
    has_thp: true,
    isa_extensions: ["edat1", "edat2", "esop", "vx"]
  },
  loongarch64: {
    is_64bit: true,
    page_sizes: [4 * KiB],
    arch_has_pte_protnone: true,
    uffd_wp_since: 0,
    uffd_needs_ext: null,
    has_thp: true,
    isa_extensions: ["lsx", "lasx", "ptw"]
  },
  i386: {
    is_64bit: false,
    page_sizes: [4 * KiB],
    arch_has_pte_protnone: false,
    uffd_wp_since: 0,
    uffd_needs_ext: null,
    has_thp: true,
    isa_extensions: ["pse", "pae", "nx", "smep", "smap"]
  },
  armv7: {
    is_64bit: false,
    page_sizes: [4 * KiB],
    arch_has_pte_protnone: false,
    uffd_wp_since: 0,
    uffd_needs_ext: null,
    has_thp: true,
    isa_extensions: ["lpae", "neon", "vfpv4"]
  }
}

/** include/linux/pgtable.h: PMD_SIZE for this arch and base page size. */
function pmd_size_of(arch: Arch, page_size: number): number {
  if (arch === "s390x") return 1 * MiB // segment table entry
  if (arch === "ppc64le") return 2 * MiB // radix MMU: 2 MiB with 4K and 64K pages
  if (arch === "arm64") {
    // A table page holds page_size/8 entries: 4K -> 2 MiB, 16K -> 32 MiB, 64K -> 512 MiB.
    return page_size * (page_size / 8)
  }
  return 2 * MiB // x86_64, riscv64 Sv39+, loongarch64 (4K), i386 PAE, armv7 LPAE
}

/** arch/<arch>/mm/hugetlbpage.c: arch_hugetlb_valid_size(), the sizes hugetlbfs accepts. */
function hugepage_sizes_of(arch: Arch, page_size: number): readonly number[] {
  switch (arch) {
    case "x86_64":
    case "riscv64":
      return [2 * MiB, 1 * GiB]
    case "arm64":
      // CONT_PTE, PMD, CONT_PMD and (4K only) PUD sizes.
      if (page_size === 4 * KiB) return [64 * KiB, 2 * MiB, 32 * MiB, 1 * GiB]
      if (page_size === 16 * KiB) return [2 * MiB, 32 * MiB, 1 * GiB]
      return [2 * MiB, 512 * MiB, 16 * GiB]
    case "ppc64le":
      return [2 * MiB, 1 * GiB] // radix
    case "s390x":
      return [1 * MiB, 2 * GiB] // segment and region-third entries
    case "loongarch64":
    case "i386":
    case "armv7":
      return [2 * MiB] // PMD only (i386 with PAE, armv7 with LPAE)
  }
}

/** Page sizes a kernel of this arch can be built with (spec, machine.page_size). */
export function arch_page_sizes(arch: Arch): readonly number[] {
  return ARCH_FACTS[arch].page_sizes
}

/** Whether any kernel build of this arch can have the option on (mm/Kconfig, arch/<arch>/Kconfig). */
export function arch_can_have(arch: Arch, option: keyof KernelConfig): boolean {
  const f = ARCH_FACTS[arch]
  switch (option) {
    case "USERFAULTFD_RWP":
      // mm/Kconfig: depends on 64BIT && ARCH_HAS_PTE_PROTNONE && HAVE_ARCH_USERFAULTFD_WP
      return f.is_64bit && f.arch_has_pte_protnone && f.uffd_wp_since !== 0
    case "TRANSPARENT_HUGEPAGE":
      return f.has_thp
    case "IDLE_PAGE_TRACKING": // 32-bit selects PAGE_EXTENSION instead of a page flag
    case "HUGETLBFS":
    case "SWAP":
      return true
  }
}

/** The spec's defaults: USERFAULTFD_RWP on where the arch can have it, everything else on. */
export function default_kernel_config(arch: Arch): KernelConfig {
  return {
    USERFAULTFD_RWP: arch_can_have(arch, "USERFAULTFD_RWP"),
    IDLE_PAGE_TRACKING: arch_can_have(arch, "IDLE_PAGE_TRACKING"),
    TRANSPARENT_HUGEPAGE: arch_can_have(arch, "TRANSPARENT_HUGEPAGE"),
    HUGETLBFS: arch_can_have(arch, "HUGETLBFS"),
    SWAP: arch_can_have(arch, "SWAP")
  }
}

const CONFIG_KEYS: readonly (keyof KernelConfig)[] = [
  "USERFAULTFD_RWP",
  "IDLE_PAGE_TRACKING",
  "TRANSPARENT_HUGEPAGE",
  "HUGETLBFS",
  "SWAP"
]

/** Which arches know this ISA extension name, in ARCHES order. */
function arches_with_extension(ext: string): Arch[] {
  return ARCHES.filter((a) => ARCH_FACTS[a].isa_extensions.includes(ext))
}

function size_name(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB}MiB` : `${bytes / KiB}KiB`
}

/**
 * Check a scenario's machine table: null if valid, else a one-line reason (the CLI exits 2).
 * config_explicit holds only the options the scenario wrote.
 */
export function validate_machine(m: {
  arch: Arch
  isa_extensions: readonly string[]
  page_size: number
  config_explicit: Partial<KernelConfig>
}): string | null {
  const f = ARCH_FACTS[m.arch]
  if (f === undefined) return `unknown arch ${String(m.arch)}`
  if (!f.page_sizes.includes(m.page_size)) {
    return `page_size ${size_name(m.page_size)} is not available on ${m.arch} (allowed: ${f.page_sizes.map(size_name).join(", ")})`
  }
  for (const ext of m.isa_extensions) {
    if (f.isa_extensions.includes(ext)) continue
    const owners = arches_with_extension(ext)
    return owners.length > 0
      ? `ISA extension ${ext} does not exist on ${m.arch} (only on ${owners.join(", ")})`
      : `unknown ISA extension ${ext} on ${m.arch}`
  }
  for (const key of CONFIG_KEYS) {
    if (m.config_explicit[key] === true && !arch_can_have(m.arch, key)) {
      return `kernel.config.${key} cannot be enabled on ${m.arch}`
    }
  }
  return null
}

/** arch/<arch>/kernel/cpufeature.c and mm/Kconfig: what this machine's kernel and CPU provide. */
export function detect_cpu_features(m: MachineSpec): CpuFeatures {
  const f = ARCH_FACTS[m.arch]
  assert(f !== undefined, "detect_cpu_features: unknown arch")
  assert(f.page_sizes.includes(m.page_size), "detect_cpu_features: page size not valid for arch")
  assert(Number.isInteger(m.kernel.major) && Number.isInteger(m.kernel.minor), "detect_cpu_features: kernel version")
  const version = m.kernel.major * 100 + m.kernel.minor
  const c = m.kernel.config
  const has_svrsw60t59b = m.arch === "riscv64" && m.isa_extensions.includes(RISCV_ISA_EXT_SVRSW60T59B)
  const have_arch_userfaultfd_wp = f.uffd_wp_since !== 0 && version >= f.uffd_wp_since
  const pgtable_supports_uffd =
    have_arch_userfaultfd_wp && (f.uffd_needs_ext === null || m.isa_extensions.includes(f.uffd_needs_ext))
  const kernel_has_rwp = version >= 702
  const page_shift = Math.log2(m.page_size)
  assert(Number.isInteger(page_shift), "detect_cpu_features: page size not a power of two")
  return {
    arch: m.arch,
    is_64bit: f.is_64bit,
    page_size: m.page_size,
    page_shift,
    arch_has_pte_protnone: f.arch_has_pte_protnone,
    have_arch_userfaultfd_wp,
    pgtable_supports_uffd,
    config_userfaultfd_rwp:
      kernel_has_rwp && f.is_64bit && f.arch_has_pte_protnone && have_arch_userfaultfd_wp && c.USERFAULTFD_RWP,
    kernel_version: version,
    kernel_has_rwp,
    kernel_has_pagemap_scan: version >= 607,
    has_svrsw60t59b,
    transparent_hugepage: c.TRANSPARENT_HUGEPAGE && f.has_thp,
    hugetlbfs: c.HUGETLBFS,
    swap: c.SWAP,
    idle_page_tracking: c.IDLE_PAGE_TRACKING,
    hugepage_sizes: hugepage_sizes_of(m.arch, m.page_size),
    pmd_size: pmd_size_of(m.arch, m.page_size)
  }
}

function assert(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${what}`)
}
