/**
 * The `machine` table (spec "machine"): architecture, page size, kernel version and config, vCPUs,
 * TLB and the virtual-time costs. Kernel config keys are kept only as the user gave them, so the
 * sim can tell "turned on" (invalid on an arch that cannot have it) from the arch's default.
 */
import * as z from "zod"
import { expected } from "./messages.ts"
import { ONLY_VALID, strict } from "./strict.ts"
import { duration, size } from "./values.ts"

export const ARCHES = ["x86_64", "arm64", "riscv64", "ppc64le", "s390x", "loongarch64", "i386", "armv7"] as const
export type Arch = (typeof ARCHES)[number]

/** Page sizes each arch can run with (spec: arm64 also 16KiB and 64KiB; ppc64le also 64KiB). */
export const PAGE_SIZES: Readonly<Record<Arch, readonly number[]>> = {
  x86_64: [4096],
  arm64: [4096, 16384, 65536],
  riscv64: [4096],
  ppc64le: [4096, 65536],
  s390x: [4096],
  loongarch64: [4096],
  i386: [4096],
  armv7: [4096]
}

export const KERNEL_CONFIG_KEYS = [
  "USERFAULTFD_RWP",
  "IDLE_PAGE_TRACKING",
  "TRANSPARENT_HUGEPAGE",
  "HUGETLBFS",
  "SWAP"
] as const
export type KernelConfigKey = (typeof KERNEL_CONFIG_KEYS)[number]

/**
 * Default virtual-time costs in ns. Anchors: a userfault round trip costs about 5.6 µs against
 * 1.2 µs for the kernel's own fault (PageFlex, ATC'25); a 2-D page walk about 100 ns; a TLB
 * shootdown IPI a few µs; PAGEMAP_SCAN a few ns per page of page-table walk.
 */
export const DEFAULT_COSTS = {
  /** a page-table walk after a TLB miss */
  tlb_miss: 100,
  /** the kernel's handling of a page fault (entry, walk, fix-up, return) */
  page_fault: 1_000,
  /** a userfault: message queued, handler woken, resolved, faulting thread woken */
  uffd_round_trip: 5_000,
  /** one ioctl or system call by the VMM */
  ioctl: 1_000,
  /** one TLB shootdown (IPIs to the other vCPUs and their acknowledgements) */
  tlb_shootdown: 2_000,
  /** PAGEMAP_SCAN or a protect/unprotect walk, per page */
  scan_per_page: 10
} as const satisfies Record<string, number>
export type CostName = keyof typeof DEFAULT_COSTS

const costs = strict(
  {
    tlb_miss: duration.prefault(DEFAULT_COSTS.tlb_miss).meta({
      description: `A page-table walk after a TLB miss. Default: ${DEFAULT_COSTS.tlb_miss} (ns).`
    }),
    page_fault: duration.prefault(DEFAULT_COSTS.page_fault).meta({
      description: `The kernel's handling of one page fault. Default: ${DEFAULT_COSTS.page_fault} (ns).`
    }),
    uffd_round_trip: duration.prefault(DEFAULT_COSTS.uffd_round_trip).meta({
      description: `A userfault from message to wake-up, on top of the fault itself. Default: ${DEFAULT_COSTS.uffd_round_trip} (ns).`
    }),
    ioctl: duration.prefault(DEFAULT_COSTS.ioctl).meta({
      description: `One ioctl or system call by the VMM. Default: ${DEFAULT_COSTS.ioctl} (ns).`
    }),
    tlb_shootdown: duration.prefault(DEFAULT_COSTS.tlb_shootdown).meta({
      description: `One TLB shootdown across the vCPUs. Default: ${DEFAULT_COSTS.tlb_shootdown} (ns).`
    }),
    scan_per_page: duration.prefault(DEFAULT_COSTS.scan_per_page).meta({
      description: `A page-table walk (PAGEMAP_SCAN, protect, unprotect), per page. Default: ${DEFAULT_COSTS.scan_per_page} (ns).`
    })
  },
  "a mapping of costs like { page_fault: 1us }"
)

const configFlag = z.boolean({ error: expected("true or false") })

const kernelConfig = strict(
  {
    USERFAULTFD_RWP: configFlag.optional().meta({
      description:
        "CONFIG_USERFAULTFD_RWP. Default: on where the arch can have it (x86_64, arm64, riscv64 with svrsw60t59b)."
    }),
    IDLE_PAGE_TRACKING: configFlag.optional().meta({ description: "CONFIG_IDLE_PAGE_TRACKING. Default: true." }),
    TRANSPARENT_HUGEPAGE: configFlag.optional().meta({ description: "CONFIG_TRANSPARENT_HUGEPAGE. Default: true." }),
    HUGETLBFS: configFlag.optional().meta({ description: "CONFIG_HUGETLBFS. Default: true." }),
    SWAP: configFlag.optional().meta({ description: "CONFIG_SWAP. Default: true." })
  },
  "a mapping of kernel config options like { SWAP: false }"
)

const VERSION_WHAT = 'a quoted kernel version "MAJOR.MINOR" like "7.2"'
const versionError = (issue: { input?: unknown }): string =>
  typeof issue.input === "number"
    ? `expected ${VERSION_WHAT}, got the number ${issue.input} (quote it: "6.10" is not 6.1)`
    : expected(VERSION_WHAT)(issue)

const kernel = strict(
  {
    version: z
      .string({ error: versionError })
      .regex(/^\d+\.\d+$/, { error: versionError })
      .default("7.2")
      .meta({
        description:
          'Kernel version "MAJOR.MINOR". RWP exists from 7.2, PAGEMAP_SCAN and UFFD_FEATURE_WP_ASYNC from 6.7. Default: "7.2".'
      }),
    config: kernelConfig.prefault({}).meta({
      description:
        "Kernel config options; only the ones given are kept, the others take the arch's default (all on; USERFAULTFD_RWP where the arch can have it). Default: {}."
    })
  },
  'a mapping like { version: "7.2" }'
)

const count = (what: string, min: number) => z.int({ error: expected(what) }).min(min, { error: expected(what) })

const tlb = strict(
  {
    entries: count("a number of TLB entries (at least 1)", 1)
      .default(64)
      .meta({ description: "Entries of each vCPU's TLB. Default: 64." }),
    ways: count("a number of TLB ways (at least 1)", 1)
      .default(4)
      .meta({ description: "Associativity of each vCPU's TLB. Default: 4." })
  },
  "a mapping like { entries: 64, ways: 4 }"
).superRefine((_, ctx) => {
  if (ctx.value.entries % ctx.value.ways !== 0) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      path: ["ways"],
      message: `expected ways to divide entries (${ctx.value.entries}), got ${ctx.value.ways}`
    })
  }
}, ONLY_VALID)

/** The `machine` table with every default filled. */
export const machine = strict(
  {
    arch: z
      .enum(ARCHES, { error: expected(`an arch: ${ARCHES.join(", ")}`) })
      .default("x86_64")
      .meta({ description: `The architecture: ${ARCHES.join(", ")}. Default: x86_64.` }),
    isa_extensions: z
      .array(z.string().regex(/^[a-z][a-z0-9_]*$/, { error: expected('an ISA extension name like "svrsw60t59b"') }), {
        error: expected("a list of ISA extensions like [svrsw60t59b]")
      })
      .default([])
      .meta({ description: "ISA extensions of the CPU, e.g. [svrsw60t59b] on riscv64. Default: []." }),
    page_size: size
      .prefault(4096)
      .meta({ description: "Base page size: 4KiB; arm64 also 16KiB and 64KiB; ppc64le also 64KiB. Default: 4KiB." }),
    kernel: kernel.prefault({}).meta({ description: 'The kernel: version and config. Default: { version: "7.2" }.' }),
    vcpus: count("a number of vCPUs (at least 1)", 1)
      .max(1024, { error: expected("a number of vCPUs (at most 1024)") })
      .default(1)
      .meta({ description: "Number of vCPUs, numbered from 0. Default: 1." }),
    tlb: tlb.prefault({}).meta({ description: "Each vCPU's TLB. Default: { entries: 64, ways: 4 }." }),
    costs: costs.prefault({}).meta({
      description: `Virtual-time costs (durations). Defaults: ${Object.entries(DEFAULT_COSTS)
        .map(([k, v]) => `${k} ${v}ns`)
        .join(", ")}.`
    })
  },
  "a machine mapping like { arch: x86_64, vcpus: 2 }"
).superRefine((_, ctx) => {
  const { arch, page_size } = ctx.value
  if (!PAGE_SIZES[arch].includes(page_size)) {
    ctx.issues.push({
      code: "custom",
      input: page_size,
      path: ["page_size"],
      message: `expected a page size ${arch} supports (${PAGE_SIZES[arch].map((s) => `${s / 1024}KiB`).join(", ")}), got ${page_size}`
    })
  }
}, ONLY_VALID)

export type Machine = z.output<typeof machine>
export type Costs = Machine["costs"]
export type KernelConfig = Machine["kernel"]["config"]
