// UFFDIO_REGISTER with UFFDIO_REGISTER_MODE_RWP (UFFDIO_REGISTER.2const and userfaultfd.2 of seed 002;
// review of patch 08, seed 003; rwp-semantics.md §4 and §17.2 R1-R16).
import { describe, it } from "vitest"
import {
  BACKINGS,
  expectFailAt,
  expectPass,
  FILE_BACKINGS,
  MODE_MINOR,
  MODE_MISSING,
  MODE_RWP,
  MODE_WP,
  mem,
  missingMsg,
  pagemap,
  populate,
  PROTECT,
  read,
  RWP,
  rwprotect,
  type Step,
  uffd,
  word
} from "./run.ts"

const reg = (range: unknown, mode: unknown, expect?: Record<string, unknown>, fd = "u"): Step => ({
  UFFDIO_REGISTER: { fd, range, mode, ...(expect === undefined ? {} : { expect }) }
})
const WP_FEATURES = [RWP, "UFFD_FEATURE_PAGEFAULT_FLAG_WP"]

describe.each(BACKINGS)("UFFDIO_REGISTER [%s]", (b) => {
  const m = mem(b)
  const hugetlb = b === "hugetlb"

  it(`UFFDIO_REGISTER.2const: MODE_RWP reports 1 << _UFFDIO_RWPROTECT and leaves PTEs unchanged (R1, R6) [${b}]`, async () => {
    // Kernel: UFFD_API_RANGE_IOCTLS (or _BASIC for hugetlb: no ZEROPAGE, no MOVE), minus WRITEPROTECT
    // without MODE_WP and CONTINUE without MODE_MINOR.
    const include = hugetlb
      ? ["_UFFDIO_WAKE", "_UFFDIO_COPY", "_UFFDIO_POISON", "_UFFDIO_RWPROTECT"]
      : ["_UFFDIO_WAKE", "_UFFDIO_COPY", "_UFFDIO_ZEROPAGE", "_UFFDIO_MOVE", "_UFFDIO_POISON", "_UFFDIO_RWPROTECT"]
    const exclude = hugetlb
      ? ["_UFFDIO_ZEROPAGE", "_UFFDIO_MOVE", "_UFFDIO_WRITEPROTECT", "_UFFDIO_CONTINUE"]
      : ["_UFFDIO_WRITEPROTECT", "_UFFDIO_CONTINUE"]
    await expectPass({
      name: `R1 ${b}`,
      steps: [
        ...m.create(2),
        ...populate(m, 1),
        ...uffd([RWP]),
        reg(m.range(0, 2), [MODE_RWP], { ioctls_include: include, ioctls_exclude: exclude }),
        pagemap(m.at(0), { present: true, uffd: false }),
        // Registration installs no protection: a sync-mode read does not fault.
        read(0, m.at(0), { value: word(0), blocked: false })
      ]
    })
  })

  it(`UFFDIO_REGISTER.2const: 1 << _UFFDIO_RWPROTECT is reported only when registered with MODE_RWP [${b}]`, async () => {
    await expectPass({
      name: `R1 missing-only ${b}`,
      steps: [
        ...m.create(1),
        ...uffd([RWP]),
        reg(m.range(0, 1), [MODE_MISSING], { ioctls_include: ["_UFFDIO_COPY"], ioctls_exclude: ["_UFFDIO_RWPROTECT"] })
      ]
    })
  })

  it(`UFFDIO_REGISTER.2const: MODE_RWP without UFFD_FEATURE_RWP negotiated is EINVAL (R2) [${b}]`, async () => {
    await expectPass({
      name: `R2 ${b}`,
      steps: [...m.create(1), ...uffd([]), reg(m.range(0, 1), [MODE_RWP], { errno: "EINVAL" })]
    })
  })

  it(`UFFDIO_REGISTER.2const: MODE_RWP combined with MODE_WP is EINVAL (R3) [${b}]`, async () => {
    await expectPass({
      name: `R3 ${b}`,
      steps: [...m.create(1), ...uffd(WP_FEATURES), reg(m.range(0, 1), [MODE_RWP, MODE_WP], { errno: "EINVAL" })]
    })
  })

  it(`userfaultfd.2: MODE_RWP can be combined with MODE_MISSING [${b}]`, async () => {
    await expectPass({
      name: `RWP|MISSING ${b}`,
      steps: [
        ...m.create(1),
        ...uffd([RWP]),
        reg(m.range(0, 1), [MODE_RWP, MODE_MISSING], { ioctls_include: ["_UFFDIO_RWPROTECT", "_UFFDIO_COPY"] })
      ]
    })
  })

  it(`kernel vma_can_userfault: RWP on a PROT_NONE mapping is EINVAL (R4, series v9) [${b}]`, async () => {
    await expectPass({
      name: `R4 ${b}`,
      steps: [
        ...m.create(1, { prot: "PROT_NONE" }),
        ...uffd([RWP]),
        reg(m.range(0, 1), [MODE_RWP], { errno: "EINVAL" })
      ]
    })
  })

  it(`kernel userfaultfd_unregister: a registered range made PROT_NONE can still be unregistered (R5, series v9) [${b}]`, async () => {
    await expectPass({
      name: `R5 ${b}`,
      steps: [
        ...m.create(1),
        ...uffd([RWP]),
        reg(m.range(0, 1), [MODE_RWP]),
        { mprotect: { addr: m.at(0), length: m.len(1), prot: "PROT_NONE" } },
        { UFFDIO_UNREGISTER: { fd: "u", range: m.range(0, 1) } }
      ]
    })
  })

  it(`seed 003: re-registering with MODE_WP over MODE_RWP drops RWP and is EBUSY (R7) [${b}]`, async () => {
    await expectPass({
      name: `R7 ${b}`,
      steps: [
        ...m.create(1),
        ...uffd(WP_FEATURES),
        reg(m.range(0, 1), [MODE_RWP]),
        reg(m.range(0, 1), [MODE_WP], { errno: "EBUSY" })
      ]
    })
  })

  it(`seed 003: re-registering with MODE_MISSING only drops RWP and is EBUSY [${b}]`, async () => {
    await expectPass({
      name: `R7 missing ${b}`,
      steps: [
        ...m.create(1),
        ...uffd([RWP]),
        reg(m.range(0, 1), [MODE_RWP, MODE_MISSING]),
        reg(m.range(0, 1), [MODE_MISSING], { errno: "EBUSY" }),
        // The failed re-register changed nothing: the range is still RWP-registered.
        rwprotect(m, 0, 1, PROTECT)
      ]
    })
  })

  it(`kernel userfaultfd_register: re-registering RWP|MISSING as RWP is allowed and drops MISSING (R8) [${b}]`, async () => {
    await expectPass({
      name: `R8 ${b}`,
      steps: [
        ...m.create(1),
        ...uffd([RWP]),
        reg(m.range(0, 1), [MODE_RWP, MODE_MISSING]),
        reg(m.range(0, 1), [MODE_RWP], { ioctls_include: ["_UFFDIO_RWPROTECT"] }),
        // No MISSING registration any more: first touch populates a zero page without a message.
        read(0, m.at(0), { value: 0, blocked: false }),
        { read_msg: { fd: "u", expect: { errno: "EAGAIN" } } }
      ]
    })
  })

  it(`kernel userfaultfd_register: re-registering RWP as RWP|MISSING is allowed and adds MISSING (R9) [${b}]`, async () => {
    await expectPass({
      name: `R9 ${b}`,
      steps: [
        ...m.create(1),
        ...uffd([RWP]),
        reg(m.range(0, 1), [MODE_RWP]),
        reg(m.range(0, 1), [MODE_RWP, MODE_MISSING]),
        read(0, m.at(0), { blocked: true, value: 77 }),
        missingMsg(m.at(0)),
        { UFFDIO_COPY: { fd: "u", dst: m.at(0), len: m.len(1), src: { value: 77 } } },
        { wait: { vcpu: 0 } }
      ]
    })
  })

  it(`seed 003: re-registering with MODE_RWP over MODE_WP drops WP and is EBUSY (R10) [${b}]`, async () => {
    await expectPass({
      name: `R10 ${b}`,
      steps: [
        ...m.create(1),
        ...uffd(WP_FEATURES),
        reg(m.range(0, 1), [MODE_WP]),
        reg(m.range(0, 1), [MODE_RWP], { errno: "EBUSY" })
      ]
    })
  })

  it(`kernel userfaultfd_register: a range registered by another userfaultfd is EBUSY (R11) [${b}]`, async () => {
    await expectPass({
      name: `R11 ${b}`,
      steps: [
        ...m.create(1),
        ...uffd([RWP], "a"),
        ...uffd([RWP], "c"),
        reg(m.range(0, 1), [MODE_RWP], undefined, "a"),
        reg(m.range(0, 1), [MODE_RWP], { errno: "EBUSY" }, "c")
      ]
    })
  })

  it(`kernel validate_range: a range with no VMA is EINVAL (R14) [${b}]`, async () => {
    await expectPass({
      name: `R14 ${b}`,
      steps: [
        ...m.create(1),
        { munmap: { addr: m.at(0), length: m.len(1) } },
        ...uffd([RWP]),
        reg(m.range(0, 1), [MODE_RWP], { errno: "EINVAL" })
      ]
    })
  })

  it(`kernel validate_range: unaligned start, unaligned len and len 0 are EINVAL (R15) [${b}]`, async () => {
    await expectPass({
      name: `R15 ${b}`,
      steps: [
        ...m.create(2),
        ...uffd([RWP]),
        reg({ start: `${m.name}+0x800`, len: m.len(1) }, [MODE_RWP], { errno: "EINVAL" }),
        reg({ start: m.at(0), len: 100 }, [MODE_RWP], { errno: "EINVAL" }),
        reg({ start: m.at(0), len: 0 }, [MODE_RWP], { errno: "EINVAL" })
      ]
    })
  })

  it(`kernel userfaultfd_register: mode 0 and an unknown mode bit (1<<4) are EINVAL [${b}]`, async () => {
    await expectPass({
      name: `mode bits ${b}`,
      steps: [
        ...m.create(1),
        ...uffd([RWP]),
        reg(m.range(0, 1), [], { errno: "EINVAL" }),
        reg(m.range(0, 1), 16, { errno: "EINVAL" })
      ]
    })
  })
})

describe("UFFDIO_REGISTER: backing-specific cases", () => {
  it("kernel userfaultfd_register: holes between VMAs inside the range are allowed (R13) [anon]", async () => {
    const m = mem("anon")
    await expectPass({
      name: "R13",
      steps: [
        ...m.create(3),
        ...populate(m, 3),
        { munmap: { addr: m.at(1), length: m.len(1) } },
        ...uffd([RWP]),
        { UFFDIO_REGISTER: { fd: "u", range: m.range(0, 3), mode: [MODE_RWP] } },
        // Both pieces are now RWP VMAs: protecting them both succeeds (P10).
        rwprotect(m, 0, 3, PROTECT),
        pagemap(m.at(0), { present: true, uffd: true }),
        pagemap(m.at(2), { present: true, uffd: true })
      ]
    })
  })

  it("kernel userfaultfd_register: a hugetlb range whose end is not huge-page aligned is EINVAL (R16) [hugetlb]", async () => {
    const m = mem("hugetlb")
    await expectPass({
      name: "R16",
      steps: [
        ...m.create(2),
        ...uffd([RWP]),
        {
          UFFDIO_REGISTER: {
            fd: "u",
            range: { start: m.at(0), len: m.len(1) + 4096 },
            mode: [MODE_RWP],
            expect: { errno: "EINVAL" }
          }
        },
        {
          UFFDIO_REGISTER: {
            fd: "u",
            range: { start: `${m.name}+0x1000`, len: m.len(1) },
            mode: [MODE_RWP],
            expect: { errno: "EINVAL" }
          }
        },
        { UFFDIO_REGISTER: { fd: "u", range: m.range(0, 2), mode: [MODE_RWP] } }
      ]
    })
  })

  it.each(FILE_BACKINGS)(
    "rwp-semantics.md §4: MODE_RWP can be combined with MODE_MINOR on %s, which reports _UFFDIO_CONTINUE",
    async (b) => {
      const m = mem(b)
      await expectPass({
        name: `RWP|MINOR ${b}`,
        steps: [
          ...m.create(1),
          ...uffd([RWP]),
          {
            UFFDIO_REGISTER: {
              fd: "u",
              range: m.range(0, 1),
              mode: [MODE_RWP, MODE_MINOR],
              expect: { ioctls_include: ["_UFFDIO_RWPROTECT", "_UFFDIO_CONTINUE"] }
            }
          }
        ]
      })
    }
  )

  it("kernel vma_can_userfault: MODE_MINOR on anonymous memory is EINVAL [anon]", async () => {
    const m = mem("anon")
    await expectPass({
      name: "MINOR anon",
      steps: [
        ...m.create(1),
        ...uffd([RWP]),
        {
          UFFDIO_REGISTER: { fd: "u", range: m.range(0, 1), mode: [MODE_RWP, MODE_MINOR], expect: { errno: "EINVAL" } }
        }
      ]
    })
  })
})

describe("UFFDIO_REGISTER negative cases (the suite can fail)", () => {
  it("fails at the second REGISTER when a scenario expects WP|RWP to succeed", async () => {
    const m = mem("anon")
    const steps: Step[] = [...m.create(1), ...uffd(WP_FEATURES), reg(m.range(0, 1), [MODE_RWP, MODE_WP])]
    await expectFailAt({ name: "neg R3", steps }, 3, "UFFDIO_REGISTER")
  })

  it("fails when a scenario expects EINVAL instead of EBUSY for a re-register dropping RWP", async () => {
    const m = mem("shmem")
    const steps: Step[] = [
      ...m.create(1),
      ...uffd([RWP]),
      reg(m.range(0, 1), [MODE_RWP, MODE_MISSING]),
      reg(m.range(0, 1), [MODE_MISSING], { errno: "EINVAL" })
    ]
    await expectFailAt({ name: "neg R7", steps }, 5, "UFFDIO_REGISTER")
  })
})
