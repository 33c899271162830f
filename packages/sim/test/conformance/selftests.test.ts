// The series' kernel selftests (tools/testing/selftests/mm/uffd-unit-tests.c, RWPv10-14, listed in
// rwp-semantics.md §16) as step scenarios over the selftests' MEM_ALL memory types: anon, shmem,
// shmem-private, hugetlb, hugetlb-private. rwp-fork, rwp-fork-pin and the fork half of rwp-swap-cow
// need fork(), which the scenario format does not have; rwp-gup's vmsplice is the VMM's pwrite here.
import { describe, it } from "vitest"
import {
  type Backing,
  expectPass,
  MODE_RWP,
  MODE_WP,
  mem,
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
  setMode,
  uffd,
  word
} from "./run.ts"

interface MemType {
  label: string
  backing: Backing
  flags?: string[]
}

const MEM_ALL: MemType[] = [
  { label: "anon", backing: "anon" },
  { label: "shmem", backing: "shmem" },
  { label: "shmem-private", backing: "shmem", flags: ["MAP_PRIVATE"] },
  { label: "hugetlb", backing: "hugetlb" },
  { label: "hugetlb-private", backing: "hugetlb", flags: ["MAP_PRIVATE"] }
]

const N = 4
const ACC = "PAGE_IS_ACCESSED"

describe.each(MEM_ALL)("uffd-unit-tests RWP [$label]", ({ label, backing, flags }) => {
  const m = mem(backing)
  // Fill every page (the selftests write page p with p % 255 + 1), register, protect.
  const armed = (features: unknown): Step[] => [
    ...m.create(N, flags === undefined ? {} : { flags }),
    ...populate(m, N),
    ...registered(m, N, features),
    rwprotect(m, 0, N, PROTECT)
  ]

  it(`rwp-async: every protected page reads back its contents without a message [${label}]`, async () => {
    const steps = armed([RWP, RWP_ASYNC])
    for (let k = 0; k < N; k++) steps.push(read(0, m.at(k), { value: word(k), blocked: false }))
    steps.push(noMsg())
    await expectPass({ name: `rwp-async ${label}`, steps })
  })

  it(`rwp-sync: each access delivers an RWP message and the handler's resolve wakes it [${label}]`, async () => {
    const steps = armed([RWP])
    for (let k = 0; k < N; k++)
      steps.push(read(0, m.at(k), { blocked: true, value: word(k) }), rwpMsg(m.at(k)), rwprotect(m, k, 1, RESOLVE), {
        wait: { vcpu: 0 }
      })
    steps.push(noMsg())
    await expectPass({ name: `rwp-sync ${label}`, steps })
  })

  it(`rwp-pagemap: after reading the first half, PAGE_IS_ACCESSED reports exactly that half [${label}]`, async () => {
    const steps = armed([RWP, RWP_ASYNC])
    for (let k = 0; k < N / 2; k++) steps.push(read(0, m.at(k), { value: word(k) }))
    steps.push(
      scan({
        start: m.at(0),
        end: m.at(N),
        category_mask: [ACC],
        return_mask: [ACC],
        vec_len: 16,
        expect: { count: 1, regions: [{ start: m.at(0), end: m.at(N / 2), categories: [ACC] }] }
      })
    )
    await expectPass({ name: `rwp-pagemap ${label}`, steps })
  })

  it(`rwp-mprotect: protection survives mprotect(PROT_NONE) and back; after touching all, no page is cold [${label}]`, async () => {
    const steps = armed([RWP, RWP_ASYNC])
    steps.push(
      { mprotect: { addr: m.at(0), length: m.len(N), prot: "PROT_NONE" } },
      { mprotect: { addr: m.at(0), length: m.len(N), prot: ["PROT_READ", "PROT_WRITE"] } },
      pagemap(m.at(0), { uffd: true })
    )
    for (let k = 0; k < N; k++) steps.push(read(0, m.at(k), { value: word(k), blocked: false }))
    steps.push(
      scan({
        start: m.at(0),
        end: m.at(N),
        category_mask: [ACC],
        category_inverted: [ACC],
        return_mask: [ACC],
        vec_len: 16,
        expect: { count: 0, regions: [] }
      })
    )
    await expectPass({ name: `rwp-mprotect ${label}`, steps })
  })

  it(`rwp-gup: a kernel access to a protected page (pwrite) resolves it in async mode [${label}]`, async () => {
    const steps = armed([RWP, RWP_ASYNC])
    steps.push(
      { pwrite: { storage: "pipe", offset: 0, from: m.at(0), len: m.len(1) } },
      pagemap(m.at(0), { uffd: false }),
      noMsg()
    )
    await expectPass({ name: `rwp-gup ${label}`, steps })
  })

  it(`rwp-async-toggle: async first half, sync second half, then async again with no hang [${label}]`, async () => {
    const steps = armed([RWP, RWP_ASYNC])
    for (let k = 0; k < N / 2; k++) steps.push(read(0, m.at(k), { value: word(k), blocked: false }))
    steps.push(setMode({ disable: [RWP_ASYNC] }))
    for (let k = N / 2; k < N; k++)
      steps.push(read(0, m.at(k), { blocked: true, value: word(k) }), rwpMsg(m.at(k)), rwprotect(m, k, 1, RESOLVE), {
        wait: { vcpu: 0 }
      })
    steps.push(setMode({ enable: [RWP_ASYNC] }), rwprotect(m, 0, N, PROTECT))
    for (let k = 0; k < N; k++) steps.push(read(0, m.at(k), { value: word(k), blocked: false }))
    steps.push(noMsg())
    await expectPass({ name: `rwp-async-toggle ${label}`, steps })
  })

  it(`rwp-close: after close(uffd) every page is readable with its contents [${label}]`, async () => {
    const steps = armed([RWP])
    steps.push({ close: { fd: "u" } })
    for (let k = 0; k < N; k++) steps.push(read(0, m.at(k), { value: word(k), blocked: false }))
    await expectPass({ name: `rwp-close ${label}`, steps })
  })

  it(`rwp-wp-exclusive: REGISTER with WP | RWP is EINVAL [${label}]`, async () => {
    await expectPass({
      name: `rwp-wp-exclusive ${label}`,
      steps: [
        ...m.create(1, flags === undefined ? {} : { flags }),
        ...uffd([RWP, "UFFD_FEATURE_PAGEFAULT_FLAG_WP"]),
        { UFFDIO_REGISTER: { fd: "u", range: m.range(0, 1), mode: [MODE_WP, MODE_RWP], expect: { errno: "EINVAL" } } }
      ]
    })
  })
})

describe("uffd-unit-tests RWP [anon only]", () => {
  it("rwp-swap-cow (without fork): a write to a swapped-out protected page delivers an RWP fault", async () => {
    const m = mem("anon")
    await expectPass({
      name: "rwp-swap-cow",
      steps: [
        ...m.create(1),
        { write: { vcpu: 0, addr: m.at(0), value: 0x11 } },
        ...registered(m, 1, [RWP]),
        rwprotect(m, 0, 1, PROTECT),
        { madvise: { addr: m.at(0), length: m.len(1), advice: "MADV_PAGEOUT" } },
        pagemap(m.at(0), { swapped: true, uffd: true }),
        { write: { vcpu: 0, addr: m.at(0), value: 0x22, expect: { blocked: true } } },
        rwpMsg(m.at(0), "write"),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0 } },
        read(0, m.at(0), { value: 0x22 })
      ]
    })
  })
})
