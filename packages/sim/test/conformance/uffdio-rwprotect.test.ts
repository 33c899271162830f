// UFFDIO_RWPROTECT (UFFDIO_RWPROTECT.2const of seed 002; the pre-scan reviewed in seed 003;
// rwp-semantics.md §5 and §17.3 P1-P17).
import { describe, it } from "vitest"
import {
  BACKINGS,
  DONTWAKE,
  expectFailAt,
  expectPass,
  MODE_MISSING,
  MODE_RWP,
  MODE_WP,
  mem,
  missingMsg,
  noMsg,
  pagemap,
  populate,
  PROTECT,
  RESOLVE,
  RWP,
  RWP_ASYNC,
  read,
  registered,
  rwpMsg,
  rwprotect,
  type Step,
  scan,
  uffd,
  word
} from "./run.ts"

const EINVAL = { errno: "EINVAL" }
const ENOENT = { errno: "ENOENT" }

describe.each(BACKINGS)("UFFDIO_RWPROTECT [%s]", (b) => {
  const m = mem(b)
  const file = b !== "anon"

  it(`UFFDIO_RWPROTECT.2const: MODE_RWP protects every present page; pagemap shows present and uffd (P1) [${b}]`, async () => {
    const steps: Step[] = [...m.create(4), ...populate(m, 4), ...registered(m, 4, [RWP]), rwprotect(m, 0, 4, PROTECT)]
    for (let k = 0; k < 4; k++)
      steps.push(pagemap(m.at(k), { present: true, swapped: false, uffd: true, file_or_shared: file }))
    steps.push(
      scan({
        start: m.at(0),
        end: m.at(4),
        category_mask: ["PAGE_IS_PRESENT"],
        return_mask: ["PAGE_IS_PRESENT", "PAGE_IS_ACCESSED"],
        expect: {
          count: 1,
          regions: [{ start: m.at(0), end: m.at(4), categories: ["PAGE_IS_PRESENT"] }],
          walk_end: m.at(4)
        }
      })
    )
    await expectPass({ name: `P1 ${b}`, steps })
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: EINVAL when DONTWAKE with MODE_RWP (P2) [${b}]`, async () => {
    await expectPass({
      name: `P2 ${b}`,
      steps: [
        ...m.create(1),
        ...populate(m, 1),
        ...registered(m, 1, [RWP]),
        rwprotect(m, 0, 1, ["UFFDIO_RWPROTECT_MODE_RWP", "UFFDIO_RWPROTECT_MODE_DONTWAKE"], EINVAL),
        pagemap(m.at(0), { present: true, uffd: false })
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: EINVAL for an invalid mode bit (1<<2) (P3) [${b}]`, async () => {
    await expectPass({
      name: `P3 ${b}`,
      steps: [...m.create(1), ...registered(m, 1, [RWP]), rwprotect(m, 0, 1, 4, EINVAL), rwprotect(m, 0, 1, 5, EINVAL)]
    })
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: EINVAL when start or len is not a page multiple, or len is zero (P4) [${b}]`, async () => {
    const rw = (range: unknown): Step => ({ UFFDIO_RWPROTECT: { fd: "u", range, mode: PROTECT, expect: EINVAL } })
    await expectPass({
      name: `P4 ${b}`,
      steps: [
        ...m.create(2),
        ...registered(m, 2, [RWP]),
        rw({ start: `${m.name}+0x10`, len: m.len(1) }),
        rw({ start: m.at(0), len: 100 }),
        rw({ start: m.at(0), len: 0 })
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: ENOENT when part of the range is not registered; seed 003 pre-scan changes nothing (P5) [${b}]`, async () => {
    // Register only the first page: the VMA splits into an RWP VMA and an unregistered one after it.
    await expectPass({
      name: `P5 ${b}`,
      steps: [
        ...m.create(2),
        ...populate(m, 2),
        ...uffd([RWP]),
        { UFFDIO_REGISTER: { fd: "u", range: m.range(0, 1), mode: [MODE_RWP] } },
        rwprotect(m, 0, 2, PROTECT, ENOENT),
        pagemap(m.at(0), { present: true, uffd: false }),
        pagemap(m.at(1), { present: true, uffd: false }),
        read(0, m.at(0), { value: word(0), blocked: false }),
        // The RWP VMA alone can be protected.
        rwprotect(m, 0, 1, PROTECT),
        pagemap(m.at(0), { present: true, uffd: true })
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: ENOENT for a range registered with MODE_MISSING only (P6) [${b}]`, async () => {
    await expectPass({
      name: `P6 ${b}`,
      steps: [
        ...m.create(1),
        ...populate(m, 1),
        ...registered(m, 1, [RWP], [MODE_MISSING]),
        rwprotect(m, 0, 1, PROTECT, ENOENT)
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: ENOENT for a range registered with MODE_WP only (P7) [${b}]`, async () => {
    await expectPass({
      name: `P7 ${b}`,
      steps: [
        ...m.create(1),
        ...populate(m, 1),
        ...registered(m, 1, [RWP, "UFFD_FEATURE_PAGEFAULT_FLAG_WP"], [MODE_WP]),
        rwprotect(m, 0, 1, PROTECT, ENOENT),
        // Resolving is pre-scanned the same way.
        rwprotect(m, 0, 1, RESOLVE, ENOENT)
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: ENOENT for a range with no VMA (P8, seed 003) [${b}]`, async () => {
    await expectPass({
      name: `P8 ${b}`,
      steps: [
        ...m.create(2),
        ...registered(m, 1, [RWP]),
        { munmap: { addr: m.at(1), length: m.len(1) } },
        rwprotect(m, 1, 1, PROTECT, ENOENT),
        rwprotect(m, 1, 1, RESOLVE, ENOENT)
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const ERRORS: ENOENT for a range with no VMA on an fd with nothing registered [${b}]`, async () => {
    await expectPass({
      name: `P8 unregistered ${b}`,
      steps: [
        ...m.create(1),
        { munmap: { addr: m.at(0), length: m.len(1) } },
        ...uffd([RWP]),
        rwprotect(m, 0, 1, PROTECT, ENOENT)
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const: protection spans RWP VMAs with a hole between them (P10) [${b}]`, async () => {
    await expectPass({
      name: `P10 ${b}`,
      steps: [
        ...m.create(3),
        ...populate(m, 3),
        ...registered(m, 3, [RWP]),
        { munmap: { addr: m.at(1), length: m.len(1) } },
        rwprotect(m, 0, 3, PROTECT),
        pagemap(m.at(0), { present: true, uffd: true }),
        pagemap(m.at(2), { present: true, uffd: true })
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const: only populated pages are protected; a never-touched page takes no RWP fault (P11) [${b}]`, async () => {
    await expectPass({
      name: `P11 ${b}`,
      steps: [
        ...m.create(2),
        ...populate(m, 1),
        ...registered(m, 2, [RWP]),
        rwprotect(m, 0, 2, PROTECT),
        pagemap(m.at(1), { present: false, uffd: false }),
        read(0, m.at(1), { value: 0, blocked: false }),
        pagemap(m.at(1), { present: true, uffd: false }),
        noMsg()
      ]
    })
  })

  it(`userfaultfd.2: with MODE_MISSING a never-touched page in a protected range faults as MISSING (P11) [${b}]`, async () => {
    await expectPass({
      name: `P11 missing ${b}`,
      steps: [
        ...m.create(2),
        ...populate(m, 1),
        ...registered(m, 2, [RWP], [MODE_RWP, MODE_MISSING]),
        rwprotect(m, 0, 2, PROTECT),
        read(0, m.at(1), { blocked: true, value: 55 }),
        missingMsg(m.at(1)),
        { UFFDIO_COPY: { fd: "u", dst: m.at(1), len: m.len(1), src: { value: 55 } } },
        { wait: { vcpu: 0 } },
        // The page UFFDIO_COPY installed is not RWP-protected (rwp-semantics.md §9, mfill has no RWP mode).
        pagemap(m.at(1), { present: true, uffd: false })
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const: protecting a protected page again succeeds and changes nothing (P12) [${b}]`, async () => {
    await expectPass({
      name: `P12 ${b}`,
      steps: [
        ...m.create(1),
        ...populate(m, 1),
        ...registered(m, 1, [RWP]),
        rwprotect(m, 0, 1, PROTECT),
        rwprotect(m, 0, 1, PROTECT),
        pagemap(m.at(0), { present: true, uffd: true }),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        noMsg(),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0, expect: { value: word(0) } } }
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const: without MODE_RWP the ioctl removes protection; the page reads as accessed (P13) [${b}]`, async () => {
    await expectPass({
      name: `P13 ${b}`,
      steps: [
        ...m.create(2),
        ...populate(m, 2),
        ...registered(m, 2, [RWP]),
        rwprotect(m, 0, 2, PROTECT),
        rwprotect(m, 0, 1, RESOLVE),
        pagemap(m.at(0), { present: true, uffd: false }),
        pagemap(m.at(1), { present: true, uffd: true }),
        scan({
          start: m.at(0),
          end: m.at(2),
          category_mask: ["PAGE_IS_ACCESSED"],
          return_mask: ["PAGE_IS_ACCESSED"],
          expect: { count: 1, regions: [{ start: m.at(0), end: m.at(1), categories: ["PAGE_IS_ACCESSED"] }] }
        }),
        read(0, m.at(0), { value: word(0), blocked: false })
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const: DONTWAKE without MODE_RWP is a valid resolve [${b}]`, async () => {
    await expectPass({
      name: `DONTWAKE resolve ${b}`,
      steps: [
        ...m.create(1),
        ...populate(m, 1),
        ...registered(m, 1, [RWP]),
        rwprotect(m, 0, 1, PROTECT),
        rwprotect(m, 0, 1, DONTWAKE),
        pagemap(m.at(0), { present: true, uffd: false })
      ]
    })
  })

  it(`rwp-semantics.md §5 (no ctx check in the pre-scan): another userfaultfd of the process can protect an RWP range (P15) [${b}]`, async () => {
    await expectPass({
      name: `P15 ${b}`,
      steps: [
        ...m.create(1),
        ...populate(m, 1),
        ...registered(m, 1, [RWP, RWP_ASYNC], [MODE_RWP], "a"),
        ...uffd([], "c"),
        rwprotect(m, 0, 1, PROTECT, undefined, "c"),
        pagemap(m.at(0), { present: true, uffd: true })
      ]
    })
  })
})

describe("UFFDIO_RWPROTECT: backing-specific cases", () => {
  it("UFFDIO_RWPROTECT.2const: EINVAL when the range is not huge-page aligned in a hugetlb VMA (P9, seed 003)", async () => {
    const m = mem("hugetlb")
    await expectPass({
      name: "P9",
      steps: [
        ...m.create(2),
        ...populate(m, 2),
        ...registered(m, 2, [RWP]),
        { UFFDIO_RWPROTECT: { fd: "u", range: { start: m.at(0), len: 4096 }, mode: PROTECT, expect: EINVAL } },
        {
          UFFDIO_RWPROTECT: {
            fd: "u",
            range: { start: `${m.name}+0x1000`, len: m.len(1) },
            mode: PROTECT,
            expect: EINVAL
          }
        },
        {
          UFFDIO_RWPROTECT: { fd: "u", range: { start: m.at(0), len: m.len(1) + 4096 }, mode: PROTECT, expect: EINVAL }
        },
        pagemap(m.at(0), { present: true, uffd: false }),
        pagemap(m.at(1), { present: true, uffd: false })
      ]
    })
  })

  it("seed 003 pre-scan: hugetlb misalignment is EINVAL before the RWP anon VMA earlier in the range is changed", async () => {
    // MAP_FIXED places an anon page right below a 2 MiB hugetlb mapping, so the range starts
    // in the anon VMA (not huge-page aligned) and covers the hugetlb VMA.
    const a = "a"
    const anonAt = 0x7e00001ff000
    const hugeAt = 0x7e0000200000
    await expectPass({
      name: "P9 pre-scan",
      steps: [
        { mmap: { as: a, length: 4096, addr: anonAt, flags: ["MAP_PRIVATE", "MAP_FIXED"] } },
        { memfd_create: { as: "hf", size: "2MiB", hugetlb: "2MiB" } },
        { mmap: { as: "h", length: "2MiB", fd: "hf", addr: hugeAt, flags: ["MAP_SHARED", "MAP_FIXED"] } },
        { write: { vcpu: 0, addr: a, value: 1 } },
        { write: { vcpu: 0, addr: "h", value: 2 } },
        ...uffd([RWP]),
        { UFFDIO_REGISTER: { fd: "u", range: { start: a, len: 4096 }, mode: [MODE_RWP] } },
        { UFFDIO_REGISTER: { fd: "u", range: { start: "h", len: "2MiB" }, mode: [MODE_RWP] } },
        {
          UFFDIO_RWPROTECT: { fd: "u", range: { start: a, len: 4096 + 2 * 1024 * 1024 }, mode: PROTECT, expect: EINVAL }
        },
        pagemap(a, { present: true, uffd: false }),
        pagemap("h", { present: true, uffd: false }),
        read(0, a, { value: 1, blocked: false })
      ]
    })
  })

  it("UFFDIO_RWPROTECT.2const: swapped-out anon pages are protected on their swap entry (P16)", async () => {
    const m = mem("anon")
    await expectPass({
      name: "P16",
      steps: [
        ...m.create(1),
        ...populate(m, 1),
        ...registered(m, 1, [RWP]),
        { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_PAGEOUT" } },
        pagemap(m.at(0), { present: false, swapped: true, uffd: false }),
        rwprotect(m, 0, 1, PROTECT),
        pagemap(m.at(0), { present: false, swapped: true, uffd: true }),
        scan({
          start: m.at(0),
          end: m.at(1),
          category_mask: ["PAGE_IS_SWAPPED"],
          return_mask: ["PAGE_IS_SWAPPED", "PAGE_IS_PRESENT", "PAGE_IS_ACCESSED"],
          expect: { count: 1, regions: [{ start: m.at(0), end: m.at(1), categories: ["PAGE_IS_SWAPPED"] }] }
        }),
        // Swap-in restores the protection: the first access still faults (sync).
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0, expect: { value: word(0) } } }
      ]
    })
  })

  it("kernel change_protection: a read-faulted zero-page PTE is protected like any present PTE (P17)", async () => {
    const m = mem("anon")
    await expectPass({
      name: "P17",
      steps: [
        ...m.create(1),
        read(0, m.at(0), { value: 0 }),
        ...registered(m, 1, [RWP]),
        rwprotect(m, 0, 1, PROTECT),
        pagemap(m.at(0), { present: true, uffd: true }),
        scan({
          start: m.at(0),
          end: m.at(1),
          return_mask: ["PAGE_IS_PRESENT", "PAGE_IS_PFNZERO", "PAGE_IS_ACCESSED"],
          expect: {
            count: 1,
            regions: [{ start: m.at(0), end: m.at(1), categories: ["PAGE_IS_PRESENT", "PAGE_IS_PFNZERO"] }]
          }
        }),
        read(0, m.at(0), { blocked: true, value: 0 }),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0 } }
      ]
    })
  })
})

describe("UFFDIO_RWPROTECT negative cases (the suite can fail)", () => {
  it("fails at the RWPROTECT step when a scenario expects success over a non-RWP VMA", async () => {
    const m = mem("anon")
    const steps: Step[] = [
      ...m.create(2),
      ...populate(m, 2),
      ...uffd([RWP]),
      { UFFDIO_REGISTER: { fd: "u", range: m.range(0, 1), mode: [MODE_RWP] } },
      rwprotect(m, 0, 2, PROTECT)
    ]
    await expectFailAt({ name: "neg P5", steps }, steps.length - 1, "UFFDIO_RWPROTECT")
  })

  it("fails at the pagemap step when a scenario claims the failed pre-scan protected the RWP VMA", async () => {
    const m = mem("shmem")
    const steps: Step[] = [
      ...m.create(2),
      ...populate(m, 2),
      ...uffd([RWP]),
      { UFFDIO_REGISTER: { fd: "u", range: m.range(0, 1), mode: [MODE_RWP] } },
      rwprotect(m, 0, 2, PROTECT, ENOENT),
      pagemap(m.at(0), { uffd: true })
    ]
    await expectFailAt({ name: "neg P5 pagemap", steps }, steps.length - 1, "pagemap")
  })

  it("fails when a scenario expects ENOENT instead of EINVAL for DONTWAKE with MODE_RWP", async () => {
    const m = mem("anon")
    const steps: Step[] = [
      ...m.create(1),
      ...registered(m, 1, [RWP]),
      rwprotect(m, 0, 1, ["UFFDIO_RWPROTECT_MODE_RWP", "UFFDIO_RWPROTECT_MODE_DONTWAKE"], ENOENT)
    ]
    await expectFailAt({ name: "neg P2", steps }, steps.length - 1, "UFFDIO_RWPROTECT")
  })
})
