// RWP faults, sync and async (userfaultfd.2 "Userfaultfd read-write-protect mode" and "Reading from
// the userfaultfd structure" of seed 002; seed 001 "Fault Handling"; rwp-semantics.md §8 and
// §17.4 F1-F22). F13/F14 are expressed with the VMM's own pwrite through the protected mapping;
// F21 (ptid) has no expect form.
import { describe, expect, it } from "vitest"
import {
  BACKINGS,
  DONTWAKE,
  expectFailAt,
  expectPass,
  FLAG_RWP,
  FLAG_WRITE,
  MODE_MISSING,
  MODE_RWP,
  mem,
  missingMsg,
  noMsg,
  PAGEFAULT,
  pagemap,
  populate,
  PROTECT,
  RESOLVE,
  RWP,
  RWP_ASYNC,
  read,
  readMsg,
  registered,
  rwpMsg,
  runCase,
  rwprotect,
  type Step,
  scan,
  setMode,
  vcpuState,
  word,
  write
} from "./run.ts"

// n populated test pages, registered RWP (| extra modes), all protected.
function armed(b: ReturnType<typeof mem>, n: number, features: unknown, mode: unknown = [MODE_RWP]): Step[] {
  return [...b.create(n), ...populate(b, n), ...registered(b, n, features, mode), rwprotect(b, 0, n, PROTECT)]
}

describe.each(BACKINGS)("sync RWP faults [%s]", (b) => {
  const m = mem(b)

  it(`userfaultfd.2: a read of a protected page blocks and queues a PAGEFAULT message with UFFD_PAGEFAULT_FLAG_RWP (F1) [${b}]`, async () => {
    await expectPass({
      name: `F1 ${b}`,
      steps: [
        ...armed(m, 2, [RWP]),
        read(0, m.at(1), { blocked: true, value: word(1) }),
        vcpuState(0, "blocked", m.at(1)),
        rwpMsg(m.at(1), "read"),
        noMsg(),
        rwprotect(m, 1, 1, RESOLVE),
        { wait: { vcpu: 0 } }
      ]
    })
  })

  it(`userfaultfd.2: a write of a protected page faults with UFFD_PAGEFAULT_FLAG_RWP and UFFD_PAGEFAULT_FLAG_WRITE (F2) [${b}]`, async () => {
    await expectPass({
      name: `F2 ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        write(0, m.at(0), 4242, { blocked: true }),
        vcpuState(0, "blocked", m.at(0)),
        rwpMsg(m.at(0), "write"),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0 } },
        // The retried write landed.
        read(0, m.at(0), { value: 4242, blocked: false })
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const: resolving wakes the blocked thread, which reads the original data (F3) [${b}]`, async () => {
    await expectPass({
      name: `F3 ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, RESOLVE),
        // A woken vCPU retries before the next step starts.
        vcpuState(0, "idle"),
        pagemap(m.at(0), { present: true, uffd: false }),
        { wait: { vcpu: 0, expect: { value: word(0) } } }
      ]
    })
  })

  it(`kernel userfaultfd_wake_function: waking a waiter removes its unread message from the queue [${b}]`, async () => {
    await expectPass({
      name: `F3 unread ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwprotect(m, 0, 1, RESOLVE),
        vcpuState(0, "idle"),
        noMsg()
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const: a resolve wakes only threads waiting inside its range [${b}]`, async () => {
    await expectPass({
      name: `F3 range ${b}`,
      machine: { vcpus: 2 },
      steps: [
        ...armed(m, 2, [RWP]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        read(1, m.at(1), { blocked: true, value: word(1) }),
        rwpMsg(m.at(0)),
        rwpMsg(m.at(1)),
        rwprotect(m, 0, 1, RESOLVE),
        vcpuState(0, "idle"),
        vcpuState(1, "blocked", m.at(1)),
        rwprotect(m, 1, 1, RESOLVE),
        vcpuState(1, "idle")
      ]
    })
  })

  it(`userfaultfd.2: one resolve wakes every thread blocked on the page [${b}]`, async () => {
    await expectPass({
      name: `F3 two waiters ${b}`,
      machine: { vcpus: 2 },
      steps: [
        ...armed(m, 1, [RWP]),
        // No value on the read: the two retries run in a seed-chosen order (spec "Order").
        read(0, m.at(0), { blocked: true }),
        write(1, m.at(0), 9, { blocked: true }),
        rwpMsg(m.at(0), "read"),
        rwpMsg(m.at(0), "write"),
        rwprotect(m, 0, 1, RESOLVE),
        vcpuState(0, "idle"),
        vcpuState(1, "idle")
      ]
    })
  })

  it(`UFFDIO_RWPROTECT.2const: MODE_DONTWAKE resolves without waking; UFFDIO_WAKE then completes the access (F4) [${b}]`, async () => {
    await expectPass({
      name: `F4 ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, DONTWAKE),
        vcpuState(0, "blocked", m.at(0)),
        pagemap(m.at(0), { present: true, uffd: false }),
        { UFFDIO_WAKE: { fd: "u", range: m.range(0, 1) } },
        vcpuState(0, "idle"),
        noMsg()
      ]
    })
  })

  it(`kernel handle_userfault: UFFDIO_WAKE without a resolve retries the access, which faults again (F5) [${b}]`, async () => {
    await expectPass({
      name: `F5 ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        { UFFDIO_WAKE: { fd: "u", range: m.range(0, 1) } },
        vcpuState(0, "blocked", m.at(0)),
        rwpMsg(m.at(0)),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0 } }
      ]
    })
  })

  it(`UFFDIO_SET_MODE (spec): enabling UFFD_FEATURE_RWP_ASYNC wakes the waiter, which resolves in place without a message (F6) [${b}]`, async () => {
    await expectPass({
      name: `F6 ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        setMode({ enable: [RWP_ASYNC] }),
        vcpuState(0, "idle"),
        noMsg(),
        pagemap(m.at(0), { present: true, uffd: false })
      ]
    })
  })

  it(`kernel userfaultfd_unregister: UNREGISTER resolves the PTE but wakes only MISSING ranges; the RWP waiter needs UFFDIO_WAKE (F7) [${b}]`, async () => {
    await expectPass({
      name: `F7 ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        { UFFDIO_UNREGISTER: { fd: "u", range: m.range(0, 1) } },
        pagemap(m.at(0), { present: true, uffd: false }),
        vcpuState(0, "blocked", m.at(0)),
        { UFFDIO_WAKE: { fd: "u", range: m.range(0, 1) } },
        vcpuState(0, "idle"),
        noMsg()
      ]
    })
  })

  it(`kernel userfaultfd_unregister: UNREGISTER of an RWP|MISSING range wakes its waiters (F7) [${b}]`, async () => {
    await expectPass({
      name: `F7 missing ${b}`,
      steps: [
        ...armed(m, 1, [RWP], [MODE_RWP, MODE_MISSING]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        { UFFDIO_UNREGISTER: { fd: "u", range: m.range(0, 1) } },
        vcpuState(0, "idle"),
        { wait: { vcpu: 0, expect: { value: word(0) } } }
      ]
    })
  })

  it(`seed 001 Cleanup: closing the userfaultfd restores the PTEs and wakes the waiter (F8) [${b}]`, async () => {
    await expectPass({
      name: `F8 ${b}`,
      steps: [
        ...armed(m, 2, [RWP]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        { close: { fd: "u" } },
        vcpuState(0, "idle"),
        pagemap(m.at(0), { present: true, uffd: false }),
        pagemap(m.at(1), { present: true, uffd: false }),
        read(0, m.at(1), { value: word(1), blocked: false })
      ]
    })
  })

  it(`kernel mfill_atomic: UFFDIO_COPY onto a present protected page is EEXIST and wakes nobody (F9) [${b}]`, async () => {
    await expectPass({
      name: `F9 ${b}`,
      steps: [
        ...armed(m, 1, [RWP], [MODE_RWP, MODE_MISSING]),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        { UFFDIO_COPY: { fd: "u", dst: m.at(0), len: m.len(1), src: { value: 5 }, expect: { errno: "EEXIST" } } },
        vcpuState(0, "blocked", m.at(0)),
        rwprotect(m, 0, 1, RESOLVE),
        { wait: { vcpu: 0, expect: { value: word(0) } } }
      ]
    })
  })

  it(`kernel handle_userfault: with UFFD_FEATURE_SIGBUS a sync RWP fault delivers SIGBUS and no message (F11) [${b}]`, async () => {
    await expectPass({
      name: `F11 ${b}`,
      steps: [
        ...armed(m, 1, [RWP, "UFFD_FEATURE_SIGBUS"]),
        read(0, m.at(0), { signal: "SIGBUS" }),
        vcpuState(0, "idle"),
        noMsg(),
        pagemap(m.at(0), { present: true, uffd: true })
      ]
    })
  })

  it(`rwp-semantics.md §8.4: async resolution never reaches handle_userfault, so UFFD_FEATURE_SIGBUS does not apply (F12) [${b}]`, async () => {
    await expectPass({
      name: `F12 ${b}`,
      steps: [
        ...armed(m, 1, [RWP, RWP_ASYNC, "UFFD_FEATURE_SIGBUS"]),
        read(0, m.at(0), { value: word(0), blocked: false })
      ]
    })
  })

  it(`spec pwrite: the VMM's pwrite through a protected mapping in sync mode blocks (F13) [${b}]`, async () => {
    await expectPass({
      name: `F13 ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        { pwrite: { storage: "disk", offset: 0, from: m.at(0), len: m.len(1), expect: { blocked: true } } },
        // The abandoned op changed nothing: the page is still protected.
        pagemap(m.at(0), { present: true, uffd: true })
      ]
    })
  })

  it(`rwp-gup selftest: in async mode a kernel access (pwrite) through a protected page resolves it and reads the data (F14) [${b}]`, async () => {
    const io = mem("anon", "buf")
    await expectPass({
      name: `F14 ${b}`,
      steps: [
        ...armed(m, 1, [RWP, RWP_ASYNC]),
        { pwrite: { storage: "disk", offset: 0, from: m.at(0), len: m.len(1) } },
        pagemap(m.at(0), { present: true, uffd: false }),
        ...io.create(1),
        ...(b === "hugetlb"
          ? []
          : [
              { pread: { storage: "disk", offset: 0, to: io.at(0), len: m.len(1) } },
              read(0, io.at(0), { value: word(0) })
            ])
      ]
    })
  })

  it(`rwp-semantics.md §8.2: an access to a protected page of a PROT_NONE VMA is SIGSEGV (F15) [${b}]`, async () => {
    await expectPass({
      name: `F15 ${b}`,
      steps: [
        ...armed(m, 1, [RWP, RWP_ASYNC]),
        { mprotect: { addr: m.at(0), length: m.len(1), prot: "PROT_NONE" } },
        read(0, m.at(0), { signal: "SIGSEGV" }),
        vcpuState(0, "idle")
      ]
    })
  })

  it(`rwp-mprotect selftest: protection survives mprotect(PROT_NONE) and back (F16) [${b}]`, async () => {
    await expectPass({
      name: `F16 ${b}`,
      steps: [
        ...armed(m, 1, [RWP, RWP_ASYNC]),
        { mprotect: { addr: m.at(0), length: m.len(1), prot: "PROT_NONE" } },
        { mprotect: { addr: m.at(0), length: m.len(1), prot: ["PROT_READ", "PROT_WRITE"] } },
        pagemap(m.at(0), { present: true, uffd: true }),
        read(0, m.at(0), { value: word(0), blocked: false }),
        pagemap(m.at(0), { present: true, uffd: false })
      ]
    })
  })

  it(`rwp-semantics.md §8.4: in async mode a MISSING fault is still delivered as a message (F17) [${b}]`, async () => {
    await expectPass({
      name: `F17 ${b}`,
      steps: [
        ...m.create(2),
        ...populate(m, 1),
        ...registered(m, 2, [RWP, RWP_ASYNC], [MODE_RWP, MODE_MISSING]),
        rwprotect(m, 0, 2, PROTECT),
        read(0, m.at(0), { value: word(0), blocked: false }),
        read(0, m.at(1), { blocked: true, value: 31 }),
        missingMsg(m.at(1)),
        { UFFDIO_COPY: { fd: "u", dst: m.at(1), len: m.len(1), src: { value: 31 } } },
        { wait: { vcpu: 0, expect: { value: 31 } } }
      ]
    })
  })
})

describe.each(BACKINGS)("async RWP faults [%s]", (b) => {
  const m = mem(b)

  it(`userfaultfd.2: with UFFD_FEATURE_RWP_ASYNC the kernel restores access in place, with no message (F10) [${b}]`, async () => {
    const steps: Step[] = [...armed(m, 4, [RWP, RWP_ASYNC])]
    for (let k = 0; k < 4; k++) steps.push(read(0, m.at(k), { value: word(k), blocked: false }))
    steps.push(write(0, m.at(3), 77, { blocked: false }), read(0, m.at(3), { value: 77 }), noMsg())
    for (let k = 0; k < 4; k++) steps.push(pagemap(m.at(k), { present: true, uffd: false }))
    steps.push(
      scan({
        start: m.at(0),
        end: m.at(4),
        category_mask: ["PAGE_IS_ACCESSED"],
        return_mask: ["PAGE_IS_ACCESSED"],
        expect: { count: 1, regions: [{ start: m.at(0), end: m.at(4), categories: ["PAGE_IS_ACCESSED"] }] }
      })
    )
    await expectPass({ name: `F10 ${b}`, steps })
  })

  it(`userfaultfd.2: an async write to a protected page is not lost [${b}]`, async () => {
    await expectPass({
      name: `F10 write ${b}`,
      machine: { vcpus: 2 },
      steps: [
        ...armed(m, 1, [RWP, RWP_ASYNC]),
        write(1, m.at(0), 606, { blocked: false }),
        read(0, m.at(0), { value: 606, blocked: false }),
        noMsg()
      ]
    })
  })
})

describe.each(["anon", "shmem"] as const)("fault address [%s]", (b) => {
  const m = mem(b)
  it(`userfaultfd.2: pagefault.address is page aligned without UFFD_FEATURE_EXACT_ADDRESS [${b}]`, async () => {
    await expectPass({
      name: `F22 aligned ${b}`,
      steps: [
        ...armed(m, 1, [RWP]),
        read(0, `${m.name}+0x124`, { blocked: true, value: word(0) }),
        vcpuState(0, "blocked", m.at(0)),
        readMsg({ event: PAGEFAULT, flags_include: [FLAG_RWP], address: m.at(0) }),
        rwprotect(m, 0, 1, RESOLVE)
      ]
    })
  })

  it(`UFFDIO_API.2const: with UFFD_FEATURE_EXACT_ADDRESS pagefault.address is the exact address (F22) [${b}]`, async () => {
    await expectPass({
      name: `F22 exact ${b}`,
      steps: [
        ...armed(m, 1, [RWP, "UFFD_FEATURE_EXACT_ADDRESS"]),
        read(0, `${m.name}+0x124`, { blocked: true, value: word(0) }),
        vcpuState(0, "blocked", m.at(0)),
        readMsg({ event: PAGEFAULT, flags_include: [FLAG_RWP], address: `${m.name}+0x124` }),
        rwprotect(m, 0, 1, RESOLVE)
      ]
    })
  })
})

describe("faults: backing-specific cases", () => {
  it("seed 001 workflow: a sync RWP waiter on a punched page retries after UFFDIO_WAKE as MISSING (F18) [shmem, hugetlb]", async () => {
    for (const b of ["shmem", "hugetlb"] as const) {
      const m = mem(b)
      await expectPass({
        name: `F18 ${b}`,
        steps: [
          ...armed(m, 1, [RWP], [MODE_RWP, MODE_MISSING]),
          read(0, m.at(0), { blocked: true, value: word(0) }),
          rwpMsg(m.at(0)),
          { mmap: { as: "io", length: m.len(1), fd: m.file } },
          { pwrite: { storage: "disk", offset: 0, from: "io", len: m.len(1) } },
          {
            fallocate: { fd: m.file, mode: ["FALLOC_FL_PUNCH_HOLE", "FALLOC_FL_KEEP_SIZE"], offset: 0, len: m.len(1) }
          },
          // The punch alone wakes nobody (seed 001: fallocate() does not iterate fault_pending_wqh).
          vcpuState(0, "blocked", m.at(0)),
          { UFFDIO_WAKE: { fd: "u", range: m.range(0, 1) } },
          vcpuState(0, "blocked", m.at(0)),
          missingMsg(m.at(0)),
          { UFFDIO_COPY: { fd: "u", dst: m.at(0), len: m.len(1), src: { storage: "disk", offset: 0 } } },
          { wait: { vcpu: 0, expect: { value: word(0) } } }
        ]
      })
    }
  })

  it("rwp-semantics.md §8.4: an async fault on a protected anon THP makes the whole 2 MiB accessed (F19)", async () => {
    const at = 0x7e0000000000
    const big = 2 * 1024 * 1024
    await expectPass({
      name: "F19",
      steps: [
        { mmap: { as: "t", length: big, addr: at, flags: ["MAP_PRIVATE", "MAP_FIXED"] } },
        { madvise: { addr: "t", length: big, advice: "MADV_HUGEPAGE" } },
        write(0, "t", 12),
        scan({
          start: "t",
          end: "t+2MiB",
          return_mask: ["PAGE_IS_HUGE", "PAGE_IS_PRESENT"],
          expect: {
            count: 1,
            regions: [{ start: "t", end: "t+2MiB", categories: ["PAGE_IS_PRESENT", "PAGE_IS_HUGE"] }]
          }
        }),
        { userfaultfd: { as: "u", flags: ["O_CLOEXEC", "O_NONBLOCK"] } },
        { UFFDIO_API: { fd: "u", features: [RWP, RWP_ASYNC] } },
        { UFFDIO_REGISTER: { fd: "u", range: { start: "t", len: big }, mode: [MODE_RWP] } },
        { UFFDIO_RWPROTECT: { fd: "u", range: { start: "t", len: big }, mode: PROTECT } },
        pagemap("t+0x5000", { present: true, uffd: true }),
        read(0, "t+0x5000", { value: 12, blocked: false }),
        scan({
          start: "t",
          end: "t+2MiB",
          category_mask: ["PAGE_IS_ACCESSED"],
          return_mask: ["PAGE_IS_ACCESSED"],
          expect: { count: 1, regions: [{ start: "t", end: "t+2MiB", categories: ["PAGE_IS_ACCESSED"] }] }
        }),
        pagemap("t+0x1ff000", { present: true, uffd: false })
      ]
    })
  })

  it("rwp-semantics.md §8.4: an async write to a protected private hugetlb page succeeds (F20)", async () => {
    const m = mem("hugetlb")
    await expectPass({
      name: "F20",
      steps: [
        ...m.create(1, { flags: ["MAP_PRIVATE"] }),
        write(0, m.at(0), 5),
        ...registered(m, 1, [RWP, RWP_ASYNC]),
        rwprotect(m, 0, 1, PROTECT),
        write(0, m.at(0), 9, { blocked: false }),
        read(0, m.at(0), { value: 9, blocked: false }),
        noMsg()
      ]
    })
  })
})

describe("fault negative cases (the suite can fail)", () => {
  it("fails at the read step when a scenario expects a sync RWP read not to block", async () => {
    const m = mem("anon")
    const steps: Step[] = [...armed(m, 1, [RWP]), read(0, m.at(0), { blocked: false }), rwprotect(m, 0, 1, RESOLVE)]
    await expectFailAt({ name: "neg F1", steps }, steps.length - 2, "read")
  })

  it("fails at read_msg when a scenario expects UFFD_PAGEFAULT_FLAG_WRITE on a read fault", async () => {
    const m = mem("shmem")
    const steps: Step[] = [
      ...armed(m, 1, [RWP]),
      read(0, m.at(0), { blocked: true }),
      readMsg({ event: PAGEFAULT, flags_include: [FLAG_RWP, FLAG_WRITE] }),
      rwprotect(m, 0, 1, RESOLVE)
    ]
    await expectFailAt({ name: "neg F1 flags", steps }, steps.length - 2, "read_msg")
  })

  it("fails when a vCPU is left blocked at the end of the script (hung_vcpus defaults to 0)", async () => {
    const m = mem("anon")
    const r = [...armed(m, 1, [RWP]), read(0, m.at(0), { blocked: true })]
    const result = await runCase({ name: "neg hung", steps: r })
    expect(result.ok).toBe(false)
    // The same script passes once it declares the hung vCPU.
    await expectPass({ name: "hung declared", steps: r, expect: { hung_vcpus: 1 } })
  })

  it("fails at wait when the expected value is not the one the resolved read returns", async () => {
    const m = mem("hugetlb")
    const steps: Step[] = [
      ...armed(m, 1, [RWP]),
      read(0, m.at(0), { blocked: true }),
      rwprotect(m, 0, 1, RESOLVE),
      { wait: { vcpu: 0, expect: { value: word(0) + 1 } } }
    ]
    await expectFailAt({ name: "neg F3 value", steps }, steps.length - 1, "wait")
  })
})
