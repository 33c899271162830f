import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  type Arch,
  arm64,
  default_kernel_config,
  detect_cpu_features,
  PTE_NONE_FIELDS,
  type PteFields,
  type PteLayout,
  pte_layout,
  riscv64,
  x86_64
} from "../src/index.ts"

function layout_of(arch: Arch, isa_extensions: string[] = [], page_size = 4096): PteLayout {
  const l = pte_layout(
    detect_cpu_features({
      arch,
      isa_extensions,
      page_size,
      kernel: { major: 7, minor: 2, config: default_kernel_config(arch) }
    })
  )
  if (l === null) throw new Error(`no layout for ${arch}`)
  return l
}

const LAYOUTS: [string, PteLayout][] = [
  ["x86_64", layout_of("x86_64")],
  ["arm64 4K", layout_of("arm64")],
  ["arm64 16K", layout_of("arm64", [], 16384)],
  ["arm64 64K", layout_of("arm64", [], 65536)],
  ["riscv64 +svrsw60t59b", layout_of("riscv64", ["svrsw60t59b"])],
  ["riscv64 no ext", layout_of("riscv64")]
]
const X86 = LAYOUTS[0][1]
const ARM = LAYOUTS[1][1]
const RV = LAYOUTS[4][1]
const RV_NOEXT = LAYOUTS[5][1]
const RWP_LAYOUTS: [string, PteLayout][] = [LAYOUTS[0], LAYOUTS[1], LAYOUTS[4]]

const FLAGS = ["write", "user", "exec", "protnone", "uffd", "young", "dirty", "soft_dirty", "special", "huge"] as const
type Flag = (typeof FLAGS)[number]

function present(over: Partial<PteFields>): PteFields {
  return { ...PTE_NONE_FIELDS, kind: "present", ...over }
}
function swap(over: Partial<PteFields>): PteFields {
  return { ...PTE_NONE_FIELDS, kind: "swap", ...over }
}

/** Whether a flag set is encodable on l: no bit missing, protnone grants no access. */
function canonical_present(l: PteLayout, f: Record<Flag, boolean>): boolean {
  if (f.uffd && !l.has_uffd_bit) return false
  if (f.soft_dirty && !l.has_soft_dirty) return false
  return !(f.protnone && (f.write || f.user || f.exec))
}

function all_present_flag_sets(l: PteLayout): Record<Flag, boolean>[] {
  const out: Record<Flag, boolean>[] = []
  for (let m = 0; m < 1 << FLAGS.length; m++) {
    const f = Object.fromEntries(FLAGS.map((n, i) => [n, (m & (1 << i)) !== 0])) as Record<Flag, boolean>
    if (canonical_present(l, f)) out.push(f)
  }
  return out
}

const arb_flags = fc.record(
  Object.fromEntries(FLAGS.map((n) => [n, fc.boolean()])) as Record<Flag, fc.Arbitrary<boolean>>
)

function arb_present(l: PteLayout): fc.Arbitrary<PteFields> {
  return fc
    .tuple(arb_flags, fc.integer({ min: 0, max: l.max_pfn }))
    .filter(([f]) => canonical_present(l, f))
    .map(([f, pfn]) => present({ ...f, pfn }))
}

function arb_swap(l: PteLayout): fc.Arbitrary<PteFields> {
  return fc
    .record({
      pfn: fc.integer({ min: 1, max: l.max_swap_offset }),
      swap_type: fc.integer({ min: 0, max: 31 }),
      uffd: fc.boolean(),
      soft_dirty: fc.boolean(),
      exclusive: fc.boolean()
    })
    .filter((s) => (l.has_uffd_bit || !s.uffd) && (l.has_soft_dirty || !s.soft_dirty))
    .map((s) => swap(s))
}

function round_trip(l: PteLayout, f: PteFields): void {
  const raw = l.encode(f)
  expect(raw >= 0n && raw < 1n << 64n).toBe(true)
  expect(l.decode(raw, f.huge)).toEqual(f)
  expect(l.encode(l.decode(raw, f.huge))).toBe(raw)
}

describe.each(LAYOUTS)("§15 %s: encode/decode round trip", (_name, l) => {
  it("every present flag combination at pfn 0, 1 and max_pfn", () => {
    const sets = all_present_flag_sets(l)
    expect(sets.length).toBeGreaterThan(0)
    for (const f of sets) for (const pfn of [0, 1, l.max_pfn]) round_trip(l, present({ ...f, pfn }))
  })

  it("every swap flag combination at offsets 1 and max_swap_offset, types 0 and 31", () => {
    for (let m = 0; m < 8; m++) {
      const [uffd, soft_dirty, exclusive] = [m & 1, m & 2, m & 4].map((b) => b !== 0)
      if ((uffd && !l.has_uffd_bit) || (soft_dirty && !l.has_soft_dirty)) continue
      for (const pfn of [1, l.max_swap_offset])
        for (const swap_type of [0, 31]) round_trip(l, swap({ pfn, swap_type, uffd, soft_dirty, exclusive }))
    }
  })

  it("property: random present and swap entries", () => {
    fc.assert(fc.property(fc.oneof(arb_present(l), arb_swap(l)), (f) => round_trip(l, f)))
  })

  it("pte_none is 0 and decodes to PTE_NONE_FIELDS; present and swap entries are never 0", () => {
    expect(l.encode({ ...PTE_NONE_FIELDS })).toBe(0n)
    expect(l.decode(0n)).toEqual(PTE_NONE_FIELDS)
    expect(l.pte_present(0n)).toBe(false)
    fc.assert(fc.property(fc.oneof(arb_present(l), arb_swap(l)), (f) => l.encode(f) !== 0n))
  })

  it("swap entries are not present (§15 swap formats), present ones are", () => {
    fc.assert(fc.property(arb_swap(l), (f) => !l.pte_present(l.encode(f)) && !l.pte_protnone(l.encode(f))))
    fc.assert(fc.property(arb_present(l), (f) => l.pte_present(l.encode(f))))
  })

  it("encode throws on what the layout cannot hold", () => {
    expect(() => l.encode(present({ pfn: l.max_pfn + 1 }))).toThrow(/pfn/)
    expect(() => l.encode(present({ protnone: true, write: true }))).toThrow(/write/)
    expect(() => l.encode(present({ exclusive: true }))).toThrow(/exclusive/)
    expect(() => l.encode(swap({ pfn: 1, young: true }))).toThrow(/young/)
    expect(() => l.encode(swap({ pfn: 1, swap_type: 32 }))).toThrow(/swap_type/)
    expect(() => l.encode({ ...PTE_NONE_FIELDS, dirty: true })).toThrow(/dirty/)
    if (!l.has_soft_dirty) expect(() => l.encode(present({ soft_dirty: true }))).toThrow(/soft-dirty/)
  })
})

describe("§2.2/§8.1: an RWP-protected entry is present and protnone on every RWP arch", () => {
  it.each(RWP_LAYOUTS)("%s", (_name, l) => {
    const rwp = l.encode(present({ pfn: 0x1234, protnone: true, uffd: true, young: true }))
    expect(l.pte_present(rwp)).toBe(true)
    expect(l.pte_protnone(rwp)).toBe(true)
    expect(l.pte_uffd(rwp)).toBe(true)
    const user = l.encode(present({ pfn: 0x1234, write: true, user: true, young: true }))
    expect(l.pte_protnone(user)).toBe(false)
    expect(l.pte_present(l.mk_rwp(user))).toBe(true)
    expect(l.pte_protnone(l.mk_rwp(user))).toBe(true)
    // a NUMA hint is protnone without the uffd bit (§8.6)
    const numa = l.encode(present({ pfn: 0x1234, protnone: true, young: true }))
    expect([l.pte_protnone(numa), l.pte_uffd(numa)]).toEqual([true, false])
  })
})

describe("§15: exact raw value of an RWP-protected entry, pfn 0x1234", () => {
  const writable_young = present({ pfn: 0x1234, write: true, user: true, young: true })

  it("§15.1 x86_64: PFN | PROTNONE (8) | UFFD (10) | ACCESSED (5); P/RW/USER and NX clear", () => {
    const want = 0x1234000n | 0x100n | 0x400n | 0x20n
    expect(X86.encode(present({ pfn: 0x1234, protnone: true, uffd: true, young: true }))).toBe(want)
    expect(X86.mk_rwp(X86.encode(writable_young))).toBe(want)
    expect(want).toBe(x86_64._PAGE_PROTNONE | x86_64._PAGE_UFFD | x86_64._PAGE_ACCESSED | 0x1234000n)
    expect([X86.uffd_bit, X86.swp_uffd_bit]).toEqual([10, 2])
  })

  it("§15.1 x86_64: pte_modify keeps ACCESSED from the old entry (_PAGE_CHG_MASK), so an old entry stays old", () => {
    const old = present({ pfn: 0x1234, write: true, user: true })
    expect(X86.mk_rwp(X86.encode(old))).toBe(0x1234000n | 0x100n | 0x400n)
  })

  it("§15.2 arm64: PAGE_NONE (VALID clear, nG | RDONLY | PXN | UXN, default type/SH/AF) | UFFD (58)", () => {
    // type 0b11 minus VALID = 0x2, SH 0x300, RDONLY 0x80, AF 0x400, nG 0x800, PXN 53, UXN 54, UFFD 58
    const want = 0x1234000n | 0x2n | 0x300n | 0x80n | 0x400n | 0x800n | (1n << 53n) | (1n << 54n) | (1n << 58n)
    expect(want).toBe(0x0460000001234f82n)
    expect(ARM.encode(present({ pfn: 0x1234, protnone: true, uffd: true, young: true }))).toBe(want)
    expect(ARM.mk_rwp(ARM.encode(writable_young))).toBe(want)
    expect(arm64.PAGE_NONE | arm64.PTE_UFFD | 0x1234000n).toBe(want)
    expect([ARM.uffd_bit, ARM.swp_uffd_bit]).toEqual([58, 3])
  })

  it("§15.2 arm64 64K pages: the address is pfn << 16", () => {
    const l = layout_of("arm64", [], 65536)
    const rwp = l.encode(present({ pfn: 0x1234, protnone: true, uffd: true, young: true }))
    expect(rwp & arm64.PTE_ADDR_LOW(16)).toBe(0x1234n << 16n)
  })

  it("§15.3 riscv64 + Svrsw60t59b: PFN << 10 | R | G (PROT_NONE) | bit 60, V = 0", () => {
    const want = (0x1234n << 10n) | 0x2n | 0x20n | (1n << 60n)
    expect(RV.encode(present({ pfn: 0x1234, protnone: true, uffd: true }))).toBe(want)
    // pte_modify keeps A (_PAGE_CHG_MASK), so a young entry stays young
    expect(RV.mk_rwp(RV.encode(writable_young))).toBe(want | riscv64._PAGE_ACCESSED)
    expect(want & riscv64._PAGE_PRESENT).toBe(0n)
  })
})

describe("§2.4 riscv64: the uffd bit exists only with Svrsw60t59b", () => {
  it("without the extension: no uffd or soft-dirty bit, encoding uffd throws", () => {
    expect(RV_NOEXT.has_uffd_bit).toBe(false)
    expect([RV_NOEXT.uffd_bit, RV_NOEXT.swp_uffd_bit]).toEqual([-1, -1])
    expect(RV_NOEXT.has_soft_dirty).toBe(false)
    expect(() => RV_NOEXT.encode(present({ pfn: 1, protnone: true, uffd: true }))).toThrow(/uffd/)
    expect(() => RV_NOEXT.encode(swap({ pfn: 1, uffd: true }))).toThrow(/uffd/)
    expect(() => RV_NOEXT.mk_rwp(RV_NOEXT.encode(present({ pfn: 1, user: true })))).toThrow(/uffd/)
    expect(riscv64._PAGE_UFFD(false)).toBe(0n)
    expect(riscv64._PAGE_SOFT_DIRTY(false)).toBe(0n)
    // bits 59/60 are not read as software bits
    const raw = RV_NOEXT.encode(present({ pfn: 1, user: true })) | (1n << 60n) | (1n << 59n)
    expect(RV_NOEXT.pte_uffd(raw)).toBe(false)
  })

  it("with it: uffd is bit 60, swap uffd bit 4, soft-dirty bit 59, swap soft-dirty bit 3", () => {
    expect(RV.has_uffd_bit).toBe(true)
    expect([RV.uffd_bit, RV.swp_uffd_bit]).toEqual([60, 4])
    expect(RV.encode(present({ pfn: 0, uffd: true })) & (1n << 60n)).toBe(1n << 60n)
    expect(RV.encode(present({ pfn: 0, soft_dirty: true })) & (1n << 59n)).toBe(1n << 59n)
    expect(RV.encode(swap({ pfn: 1, uffd: true })) & 0xfffn).toBe(1n << 4n)
    expect(RV.encode(swap({ pfn: 1, soft_dirty: true })) & 0xfffn).toBe(1n << 3n)
    expect(RV.encode(swap({ pfn: 1, exclusive: true })) & 0xfffn).toBe(riscv64._PAGE_SWP_EXCLUSIVE)
    expect(RV.encode(swap({ pfn: 5, swap_type: 3 }))).toBe((5n << 12n) | (3n << 7n))
  })
})

describe("§15 swap uffd bits: x86 bit 2, arm64 bit 3", () => {
  it("x86_64: _PAGE_SWP_UFFD = _PAGE_USER", () => {
    expect(x86_64._PAGE_SWP_UFFD).toBe(1n << 2n)
    const a = X86.encode(swap({ pfn: 5, swap_type: 3 }))
    const b = X86.encode(swap({ pfn: 5, swap_type: 3, uffd: true }))
    expect(b ^ a).toBe(1n << 2n)
    expect([X86.pte_swp_uffd(a), X86.pte_swp_uffd(b)]).toEqual([false, true])
  })

  it("arm64: PTE_SWP_UFFD bit 3, PTE_SWP_EXCLUSIVE bit 2, type 6-10, offset 12-61", () => {
    expect(ARM.encode(swap({ pfn: 5, swap_type: 3, uffd: true }))).toBe((5n << 12n) | (3n << 6n) | (1n << 3n))
    expect(ARM.encode(swap({ pfn: 5, exclusive: true }))).toBe((5n << 12n) | (1n << 2n))
    expect(ARM.pte_swp_uffd(ARM.encode(swap({ pfn: 5, uffd: true })))).toBe(true)
  })

  it("§15.1 x86_64 swap: ~offset in bits 9-58, type in 59-63, bits 7 and 8 zero", () => {
    const raw = X86.encode(swap({ pfn: 5, swap_type: 3 }))
    const inverted = ~5n & ((1n << 50n) - 1n)
    expect(raw).toBe((inverted << 9n) | (3n << 59n))
    expect(raw & (x86_64._PAGE_PSE | x86_64._PAGE_PROTNONE | x86_64._PAGE_PRESENT)).toBe(0n)
    expect(X86.pte_present(raw)).toBe(false)
  })
})

describe("§8.1/§8.6 mk_rwp and resolve_rwp", () => {
  describe.each(RWP_LAYOUTS)("%s", (_name, l) => {
    it("mk_rwp then resolve_rwp restores a writable accessible young entry without uffd", () => {
      const before = present({ pfn: 0x42, write: true, user: true, young: true, dirty: true })
      const rwp = l.mk_rwp(l.encode(before))
      const after = l.decode(l.resolve_rwp(rwp, { write: true, exec: false }))
      expect(after).toEqual(before)
      expect(l.resolve_rwp(rwp, { write: true, exec: false })).toBe(l.encode(before))
      const not_young = l.resolve_rwp(l.mk_rwp(l.encode({ ...before, young: false })), { write: true, exec: false })
      expect(l.decode(not_young)).toEqual(before)
    })

    it("property: resolve_rwp(mk_rwp(pte)) is pte for young user entries without uffd", () => {
      const arb = arb_present(l).filter((f) => f.user && f.young && !f.uffd && !f.protnone)
      fc.assert(
        fc.property(arb, (f) => {
          const raw = l.encode(f)
          expect(l.resolve_rwp(l.mk_rwp(raw), { write: f.write, exec: f.exec })).toBe(raw)
        })
      )
    })

    it("property: mk_rwp is pte_modify(PAGE_NONE) | uffd, keeping pfn, dirty, soft-dirty, young, special, huge", () => {
      fc.assert(
        fc.property(arb_present(l), (f) => {
          const raw = l.encode(f)
          const got = l.decode(l.mk_rwp(raw), f.huge)
          expect(got).toEqual({ ...f, write: false, user: false, exec: false, protnone: true, uffd: true })
          expect(l.mk_rwp(l.mk_rwp(raw))).toBe(l.mk_rwp(raw))
        })
      )
    })

    it("mk_rwp and resolve_rwp refuse entries that are not present", () => {
      expect(() => l.mk_rwp(0n)).toThrow(/not present/)
      expect(() => l.resolve_rwp(l.encode(swap({ pfn: 9 })), { write: true, exec: false })).toThrow(/not present/)
    })
  })

  it("§15.2 arm64: a hardware-dirty entry (DBM, RDONLY clear, no PTE_DIRTY) stays dirty as PTE_DIRTY", () => {
    const hw_dirty =
      0x1234000n | arm64._PAGE_DEFAULT | arm64.PTE_USER | arm64.PTE_NG | arm64.PTE_PXN | arm64.PTE_UXN | arm64.PTE_WRITE
    expect(ARM.decode(hw_dirty).dirty).toBe(true)
    const rwp = ARM.mk_rwp(hw_dirty)
    expect(rwp & arm64.PTE_DIRTY).toBe(arm64.PTE_DIRTY)
    expect(rwp & arm64.PTE_RDONLY).toBe(arm64.PTE_RDONLY)
    expect(ARM.resolve_rwp(rwp, { write: true, exec: false }) & arm64.PTE_RDONLY).toBe(0n)
  })

  it("§15.1 x86_64: dirty and soft-dirty survive mk_rwp as bits 6 and 11", () => {
    const rwp = X86.mk_rwp(X86.encode(present({ pfn: 1, write: true, user: true, dirty: true, soft_dirty: true })))
    expect(rwp & (x86_64._PAGE_DIRTY | x86_64._PAGE_SOFT_DIRTY)).toBe(0x840n)
  })
})

describe("§2.3 pte_layout", () => {
  it.each(["ppc64le", "s390x", "loongarch64", "i386", "armv7"] as const)("null for %s (no uffd bit)", (arch) => {
    const f = detect_cpu_features({
      arch,
      isa_extensions: [],
      page_size: 4096,
      kernel: { major: 7, minor: 2, config: default_kernel_config(arch) }
    })
    expect(pte_layout(f)).toBeNull()
  })

  it("the uffd bit follows pgtable_supports_uffd(): x86_64 on 5.6 has none", () => {
    const f = detect_cpu_features({
      arch: "x86_64",
      isa_extensions: [],
      page_size: 4096,
      kernel: { major: 5, minor: 6, config: default_kernel_config("x86_64") }
    })
    const l = pte_layout(f)
    expect(l?.has_uffd_bit).toBe(false)
    expect(l?.uffd_bit).toBe(-1)
  })
})
