// UFFDIO_SET_MODE (UFFDIO_SET_MODE.2const of seed 002; seed 001 "Runtime Mode Switching"; the spec's
// UFFDIO_SET_MODE op: "enabling UFFD_FEATURE_RWP_ASYNC wakes every waiter of that userfaultfd";
// rwp-semantics.md §6 and §17.5 S1-S9). S6 (no RWP on the arch) is in uffdio-api.test.ts; S7
// (EFAULT for a bad pointer) cannot be written as a scenario.
import { describe, it } from "vitest"
import {
  BACKINGS,
  expectFailAt,
  expectPass,
  MODE_RWP,
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
  setMode,
  uffd,
  vcpuState,
  word
} from "./run.ts"

const EINVAL = { errno: "EINVAL" }

describe("UFFDIO_SET_MODE errors", () => {
  it("UFFDIO_SET_MODE.2const ERRORS: EINVAL when enable and disable overlap (S1)", async () => {
    await expectPass({
      name: "S1",
      steps: [...uffd([RWP]), setMode({ enable: [RWP_ASYNC], disable: [RWP_ASYNC] }, EINVAL)]
    })
  })

  it("UFFDIO_SET_MODE.2const ERRORS: EINVAL for a bit other than UFFD_FEATURE_RWP_ASYNC (S2)", async () => {
    await expectPass({
      name: "S2",
      steps: [
        ...uffd([RWP]),
        setMode({ enable: ["UFFD_FEATURE_WP_ASYNC"] }, EINVAL),
        setMode({ disable: ["UFFD_FEATURE_WP_ASYNC"] }, EINVAL),
        setMode({ enable: [RWP] }, EINVAL),
        setMode({ disable: [RWP] }, EINVAL),
        setMode({ enable: [RWP_ASYNC, "UFFD_FEATURE_SIGBUS"] }, EINVAL),
        setMode({ enable: 2 ** 40 }, EINVAL)
      ]
    })
  })

  it("UFFDIO_SET_MODE.2const ERRORS: EINVAL when enabling UFFD_FEATURE_RWP_ASYNC without UFFD_FEATURE_RWP negotiated (S3)", async () => {
    await expectPass({ name: "S3", steps: [...uffd([]), setMode({ enable: [RWP_ASYNC] }, EINVAL)] })
  })

  it("rwp-semantics.md §6 step 4 (only enabling needs RWP): disabling UFFD_FEATURE_RWP_ASYNC without RWP succeeds (S4)", async () => {
    await expectPass({ name: "S4", steps: [...uffd([]), setMode({ disable: [RWP_ASYNC] })] })
  })

  it("rwp-semantics.md §6: SET_MODE with nothing to enable or disable succeeds (S5)", async () => {
    await expectPass({ name: "S5", steps: [...uffd([RWP]), setMode({}), setMode({ enable: [], disable: [] })] })
  })

  it("rwp-semantics.md §6: enabling twice and disabling twice are idempotent", async () => {
    await expectPass({
      name: "S idempotent",
      steps: [
        ...uffd([RWP, RWP_ASYNC]),
        setMode({ enable: [RWP_ASYNC] }),
        setMode({ disable: [RWP_ASYNC] }),
        setMode({ disable: [RWP_ASYNC] }),
        setMode({ enable: [RWP_ASYNC] })
      ]
    })
  })
})

describe.each(BACKINGS)("UFFDIO_SET_MODE toggling [%s]", (b) => {
  const m = mem(b)
  const armed = (n: number): Step[] => [
    ...m.create(n),
    ...populate(m, n),
    ...registered(m, n, [RWP, RWP_ASYNC]),
    rwprotect(m, 0, n, PROTECT)
  ]

  it(`UFFDIO_SET_MODE.2const: after disabling UFFD_FEATURE_RWP_ASYNC a protected page faults synchronously (S8) [${b}]`, async () => {
    await expectPass({
      name: `S8 ${b}`,
      steps: [
        ...armed(2),
        read(0, m.at(0), { value: word(0), blocked: false }),
        noMsg(),
        setMode({ disable: [RWP_ASYNC] }),
        read(0, m.at(1), { blocked: true, value: word(1) }),
        vcpuState(0, "blocked", m.at(1)),
        rwpMsg(m.at(1)),
        rwprotect(m, 1, 1, RESOLVE),
        { wait: { vcpu: 0 } }
      ]
    })
  })

  it(`UFFDIO_SET_MODE.2const: re-enabling async after sync mode resolves in place again, no message (S9, rwp-async-toggle) [${b}]`, async () => {
    await expectPass({
      name: `S9 ${b}`,
      steps: [
        ...armed(2),
        setMode({ disable: [RWP_ASYNC] }),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        rwpMsg(m.at(0)),
        // Enabling async wakes the waiter; it retries and resolves in place.
        setMode({ enable: [RWP_ASYNC] }),
        vcpuState(0, "idle"),
        rwprotect(m, 0, 2, PROTECT),
        read(0, m.at(0), { value: word(0), blocked: false }),
        read(0, m.at(1), { value: word(1), blocked: false }),
        noMsg()
      ]
    })
  })

  it(`spec UFFDIO_SET_MODE: enabling UFFD_FEATURE_RWP_ASYNC wakes every waiter of the userfaultfd [${b}]`, async () => {
    await expectPass({
      name: `S wake all ${b}`,
      machine: { vcpus: 3 },
      steps: [
        ...armed(3),
        setMode({ disable: [RWP_ASYNC] }),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        read(1, m.at(1), { blocked: true, value: word(1) }),
        read(2, m.at(2), { blocked: true, value: word(2) }),
        // Each waiter queued exactly one message before it slept, read in FIFO order.
        rwpMsg(m.at(0)),
        rwpMsg(m.at(1)),
        rwpMsg(m.at(2)),
        setMode({ enable: [RWP_ASYNC] }),
        vcpuState(0, "idle"),
        vcpuState(1, "idle"),
        vcpuState(2, "idle"),
        // The async retries queue none.
        noMsg(),
        pagemap(m.at(0), { present: true, uffd: false }),
        pagemap(m.at(2), { present: true, uffd: false })
      ]
    })
  })

  it(`rwp-semantics.md §6 step 7: disabling async wakes nobody [${b}]`, async () => {
    await expectPass({
      name: `S disable no wake ${b}`,
      steps: [
        ...armed(1),
        setMode({ disable: [RWP_ASYNC] }),
        read(0, m.at(0), { blocked: true, value: word(0) }),
        setMode({ disable: [RWP_ASYNC] }),
        vcpuState(0, "blocked", m.at(0)),
        rwprotect(m, 0, 1, RESOLVE),
        vcpuState(0, "idle")
      ]
    })
  })

  it(`UFFDIO_SET_MODE.2const: a userfaultfd negotiated with UFFD_FEATURE_RWP only can switch to async at runtime [${b}]`, async () => {
    await expectPass({
      name: `S rwp only ${b}`,
      steps: [
        ...m.create(1),
        ...populate(m, 1),
        ...registered(m, 1, [RWP], [MODE_RWP]),
        rwprotect(m, 0, 1, PROTECT),
        setMode({ enable: [RWP_ASYNC] }),
        read(0, m.at(0), { value: word(0), blocked: false }),
        noMsg()
      ]
    })
  })
})

describe("UFFDIO_SET_MODE negative cases (the suite can fail)", () => {
  it("fails at SET_MODE when a scenario expects overlapping enable and disable to succeed", async () => {
    const steps: Step[] = [...uffd([RWP]), setMode({ enable: [RWP_ASYNC], disable: [RWP_ASYNC] })]
    await expectFailAt({ name: "neg S1", steps }, 2, "UFFDIO_SET_MODE")
  })

  it("fails at the read when a scenario expects a sync-mode read to pass after SET_MODE disable", async () => {
    const m = mem("anon")
    const steps: Step[] = [
      ...m.create(1),
      ...populate(m, 1),
      ...registered(m, 1, [RWP, RWP_ASYNC]),
      rwprotect(m, 0, 1, PROTECT),
      setMode({ disable: [RWP_ASYNC] }),
      read(0, m.at(0), { blocked: false }),
      rwprotect(m, 0, 1, RESOLVE)
    ]
    await expectFailAt({ name: "neg S8", steps }, steps.length - 2, "read")
  })
})
