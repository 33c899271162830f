// What keeps and what drops RWP protection (userfaultfd.2 and UFFDIO_RWPROTECT.2const of seed 002:
// "For anonymous mappings, protection is preserved across page reclaim ... and migration. For shmem
// and file-backed mappings, protection is dropped when the backing page is reclaimed ... not
// preserved across MADV_DONTNEED on anonymous memory, hole-punch on shmem, truncation of a file
// mapping"; seed 001 "Scope of protection" and "Cleanup"; seed 003 (unregister resolves);
// rwp-semantics.md §9 and §17.6 L1-L11). Fork (L5, L6), mremap (L7, L8) and UFFDIO_MOVE (L9) have
// no ops in the scenario format.
import { describe, it } from "vitest"
import {
  BACKINGS,
  expectFailAt,
  expectPass,
  FILE_BACKINGS,
  MODE_MISSING,
  MODE_RWP,
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
  vcpuState,
  word,
  write
} from "./run.ts"

type M = ReturnType<typeof mem>
const armed = (m: M, n: number, features: unknown, mode: unknown = [MODE_RWP]): Step[] => [
  ...m.create(n),
  ...populate(m, n),
  ...registered(m, n, features, mode),
  rwprotect(m, 0, n, PROTECT)
]
const punch = (m: M, k: number, n: number): Step => ({
  fallocate: { fd: m.file, mode: ["FALLOC_FL_PUNCH_HOLE", "FALLOC_FL_KEEP_SIZE"], offset: k * m.page, len: n * m.page }
})

describe("anonymous memory", () => {
  const m = mem("anon")

  it("UFFDIO_RWPROTECT.2const: MADV_DONTNEED on anonymous memory drops protection; the page comes back zero and unprotected (L1)", async () => {
    await expectPass({
      name: "L1",
      steps: [
        ...armed(m, 1, [RWP]),
        { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_DONTNEED" } },
        pagemap(m.at(0), { present: false, uffd: false }),
        read(0, m.at(0), { value: 0, blocked: false }),
        pagemap(m.at(0), { present: true, uffd: false }),
        noMsg()
      ]
    })
  })

  it("seed 001 Scope of protection: after MADV_DONTNEED a MISSING-registered page faults as MISSING, not RWP (L1)", async () => {
    await expectPass({
      name: "L1 missing",
      steps: [
        ...armed(m, 1, [RWP], [MODE_RWP, MODE_MISSING]),
        { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_DONTNEED" } },
        read(0, m.at(0), { blocked: true, value: 3 }),
        missingMsg(m.at(0)),
        { UFFDIO_COPY: { fd: "u", dst: m.at(0), len: m.len(1), src: { value: 3 } } },
        { wait: { vcpu: 0, expect: { value: 3 } } },
        pagemap(m.at(0), { present: true, uffd: false })
      ]
    })
  })

  it("UFFDIO_RWPROTECT.2const: anon protection rides on the swap entry across MADV_PAGEOUT (L3)", async () => {
    await expectPass({
      name: "L3",
      steps: [
        ...armed(m, 1, [RWP]),
        { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_PAGEOUT" } },
        pagemap(m.at(0), { present: false, swapped: true, uffd: true }),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0, expect: { value: word(0) } } },
        pagemap(m.at(0), { present: true, uffd: false })
      ]
    })
  })

  it("rwp-swap-cow selftest: a write to a swapped protected anon page still takes an RWP fault (L3)", async () => {
    await expectPass({
      name: "L3 write",
      steps: [
        ...armed(m, 1, [RWP]),
        { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_PAGEOUT" } },
        write(0, m.at(0), 0x22, { blocked: true }),
        rwpMsg(m.at(0), "write"),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0 } },
        read(0, m.at(0), { value: 0x22 })
      ]
    })
  })

  it("UFFDIO_RWPROTECT.2const: anon protection is preserved across migration", async () => {
    await expectPass({
      name: "migrate anon",
      steps: [
        ...armed(m, 2, [RWP, RWP_ASYNC]),
        { migrate: { addr: m.at(0), length: m.len(2) } },
        pagemap(m.at(0), { present: true, uffd: true }),
        pagemap(m.at(1), { present: true, uffd: true }),
        read(0, m.at(1), { value: word(1), blocked: false }),
        pagemap(m.at(1), { present: true, uffd: false })
      ]
    })
  })

  it("rwp-semantics.md §9: mprotect(PROT_READ) keeps protection; an async read resolves, a write is SIGSEGV (L11)", async () => {
    await expectPass({
      name: "L11",
      steps: [
        ...armed(m, 1, [RWP, RWP_ASYNC]),
        { mprotect: { addr: m.at(0), length: m.len(1), prot: ["PROT_READ"] } },
        pagemap(m.at(0), { present: true, uffd: true }),
        read(0, m.at(0), { value: word(0), blocked: false }),
        write(0, m.at(0), 1, { signal: "SIGSEGV" }),
        read(0, m.at(0), { value: word(0) })
      ]
    })
  })
})

describe.each(FILE_BACKINGS)("file-backed memory [%s]", (b) => {
  const m = mem(b)

  it(`UFFDIO_RWPROTECT.2const: hole-punch drops protection; the next access populates a fresh unprotected page (L2) [${b}]`, async () => {
    await expectPass({
      name: `L2 ${b}`,
      steps: [
        ...armed(m, 2, [RWP]),
        punch(m, 0, 1),
        pagemap(m.at(0), { present: false, uffd: false }),
        read(0, m.at(0), { value: 0, blocked: false }),
        pagemap(m.at(0), { present: true, uffd: false }),
        // The page outside the hole keeps its protection.
        pagemap(m.at(1), { present: true, uffd: true }),
        noMsg()
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const: truncation of a file mapping drops protection [${b}]`, async () => {
    await expectPass({
      name: `truncate ${b}`,
      steps: [
        ...armed(m, 2, [RWP]),
        { ftruncate: { fd: m.file, length: m.len(1) } },
        { ftruncate: { fd: m.file, length: m.len(2) } },
        pagemap(m.at(0), { present: true, uffd: true }),
        pagemap(m.at(1), { present: false, uffd: false }),
        read(0, m.at(1), { value: 0, blocked: false }),
        pagemap(m.at(1), { present: true, uffd: false })
      ]
    })
  })

  it(`kernel zap_pte_range (no RWP marker exists): MADV_DONTNEED on a shared mapping drops protection but keeps the data [${b}]`, async () => {
    await expectPass({
      name: `dontneed shared ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_DONTNEED" } },
        pagemap(m.at(0), { present: false, uffd: false }),
        read(0, m.at(0), { value: word(0), blocked: false }),
        pagemap(m.at(0), { present: true, uffd: false }),
        noMsg()
      ]
    })
  })

  it(`seed 001 workflow: a write through a second mapping (io_mem) neither faults nor unprotects guest_mem [${b}]`, async () => {
    await expectPass({
      name: `io_mem ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        { mmap: { as: "io", length: m.len(1), fd: m.file } },
        write(0, "io", 88, { blocked: false }),
        pagemap(m.at(0), { present: true, uffd: true }),
        read(0, m.at(0), { blocked: true, value: 88 }),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0, expect: { value: 88 } } }
      ]
    })
  })
})

describe("shmem reclaim and migration", () => {
  const m = mem("shmem")

  it("UFFDIO_RWPROTECT.2const: shmem protection is dropped when the page is reclaimed (L4)", async () => {
    await expectPass({
      name: "L4",
      steps: [
        ...armed(m, 1, [RWP]),
        { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_PAGEOUT" } },
        pagemap(m.at(0), { present: false, uffd: false }),
        read(0, m.at(0), { value: word(0), blocked: false }),
        pagemap(m.at(0), { present: true, uffd: false }),
        noMsg()
      ]
    })
  })

  it("rwp-semantics.md §9 (migration entry keeps the uffd bit): shmem protection is preserved across migration", async () => {
    await expectPass({
      name: "migrate shmem",
      steps: [
        ...armed(m, 1, [RWP]),
        { migrate: { addr: m.at(0), length: m.len(1) } },
        pagemap(m.at(0), { present: true, uffd: true }),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, RESOLVE)
      ]
    })
  })
})

describe.each(BACKINGS)("lifecycle [%s]", (b) => {
  const m = mem(b)

  it(`seed 003: UFFDIO_UNREGISTER resolves protection; pagemap uffd clears and accesses do not fault (L10) [${b}]`, async () => {
    await expectPass({
      name: `L10 ${b}`,
      steps: [
        ...armed(m, 2, [RWP]),
        pagemap(m.at(0), { present: true, uffd: true }),
        { UFFDIO_UNREGISTER: { fd: "u", range: m.range(0, 2) } },
        pagemap(m.at(0), { present: true, uffd: false }),
        pagemap(m.at(1), { present: true, uffd: false }),
        read(0, m.at(0), { value: word(0), blocked: false }),
        write(0, m.at(1), 5, { blocked: false }),
        noMsg(),
        // The VMA is no longer VM_UFFD_RWP, so PAGE_IS_ACCESSED is not reported (seed 004).
        scan({
          start: m.at(0),
          end: m.at(2),
          category_mask: ["PAGE_IS_ACCESSED"],
          return_mask: ["PAGE_IS_ACCESSED"],
          expect: { count: 0, regions: [] }
        })
      ]
    })
  })

  it(`seed 001 Cleanup: closing the userfaultfd restores every protected page [${b}]`, async () => {
    await expectPass({
      name: `rwp-close ${b}`,
      steps: [
        ...armed(m, 2, [RWP]),
        { close: { fd: "u" } },
        pagemap(m.at(0), { present: true, uffd: false }),
        read(0, m.at(0), { value: word(0), blocked: false }),
        read(0, m.at(1), { value: word(1), blocked: false })
      ]
    })
  })

  it(`rwp-mprotect selftest: mprotect(PROT_NONE) then mprotect(RW) keeps protection (sync) [${b}]`, async () => {
    await expectPass({
      name: `mprotect ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        { mprotect: { addr: m.at(0), length: m.len(1), prot: "PROT_NONE" } },
        { mprotect: { addr: m.at(0), length: m.len(1), prot: ["PROT_READ", "PROT_WRITE"] } },
        pagemap(m.at(0), { present: true, uffd: true }),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        vcpuState(0, "blocked", m.at(0)),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, RESOLVE)
      ]
    })
  })

  it(`userfaultfd.2: callers re-arm with UFFDIO_RWPROTECT after a drop, and protection works again [${b}]`, async () => {
    const drop: Step =
      b === "anon" ? { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_DONTNEED" } } : punch(m, 0, 1)
    await expectPass({
      name: `re-arm ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        drop,
        write(0, m.at(0), 6, { blocked: false }),
        rwprotect(m, 0, 1, PROTECT),
        pagemap(m.at(0), { present: true, uffd: true }),
        read(0, m.at(0), { blocked: true, value: 6 }),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, RESOLVE)
      ]
    })
  })
})

describe("hugetlb reclaim", () => {
  it("kernel madvise_pageout (can_madv_lru_vma): MADV_PAGEOUT on hugetlb is EINVAL and keeps protection", async () => {
    const m = mem("hugetlb")
    await expectPass({
      name: "pageout hugetlb",
      steps: [
        ...armed(m, 1, [RWP]),
        { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_PAGEOUT", expect: { errno: "EINVAL" } } },
        pagemap(m.at(0), { present: true, uffd: true })
      ]
    })
  })
})

describe("preservation negative cases (the suite can fail)", () => {
  it("fails at the pagemap step when a scenario claims hole-punch keeps shmem protection", async () => {
    const m = mem("shmem")
    const steps: Step[] = [
      ...armed(m, 1, [RWP]),
      punch(m, 0, 1),
      read(0, m.at(0), { value: 0 }),
      pagemap(m.at(0), { uffd: true })
    ]
    await expectFailAt({ name: "neg L2", steps }, steps.length - 1, "pagemap")
  })

  it("fails at the read step when a scenario claims a swapped protected anon page reads without faulting", async () => {
    const m = mem("anon")
    const steps: Step[] = [
      ...armed(m, 1, [RWP]),
      { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_PAGEOUT" } },
      read(0, m.at(0), { blocked: false }),
      rwprotect(m, 0, 1, RESOLVE)
    ]
    await expectFailAt({ name: "neg L3", steps }, steps.length - 2, "read")
  })
})
