// A workload run (spec "Workload runs"): the VM's memory and the VMM's userfaultfd are set up
// (vmm.setupVmm, with the UFFDIO_API probe and the fallbacks), the scenario's steps run if it has
// any, then the guest's vCPUs and the VMM's tracker and fault-handler threads run for `duration`
// on one engine: the VMM's threads are Effect fibers (Sim.Scheduler), the vCPUs are driven by the
// event queue (driver.ts), and the checker watches all of it. At the end, vCPUs still blocked get
// their chance while the VMM finishes what it started (no new access, no new cycle); those still
// blocked then are hung. Then the metrics, and the scenario's expectations.
import { createVcpus, GroundTruth } from "@rwpsim/guest"
import type { CpuFeatures } from "@rwpsim/hw"
import * as K from "@rwpsim/kernel"
import type { Scenario, Workload } from "@rwpsim/scenario"
import { type ChoicePolicy, Sim, SimEngine, type Trace } from "@rwpsim/sched"
import { faultHandler, HandlerState, setupVmm, TrackerState, tracker, VmmPages } from "@rwpsim/vmm"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { machineFeatures } from "../machine.ts"
import { interruptedResult, type RunFailure, type RunResult } from "../result.ts"
import { hungVcpus, newScriptContext, runSteps } from "../script/runner.ts"
import { showChain, waitForChain } from "./chain.ts"
import { Checker } from "./checker.ts"
import { VcpuDriver, VS_BLOCKED, VS_WOKEN } from "./driver.ts"
import type { WorkloadEvent } from "./events.ts"
import { checkWorkload } from "./expect.ts"
import { showPage, showTime } from "./format.ts"
import { makeHost, storageDevice, UFFD_POLL_KEY } from "./host.ts"
import { CheckedMemory } from "./memory.ts"
import { CycleSums, workloadMetrics } from "./metrics.ts"
import { RunObserver } from "./observer.ts"
import { tapKernel } from "./tap.ts"
import { runEvents } from "./loop.ts"
import { seedGroundTruth } from "./seed.ts"
import { emitAt } from "./trace.ts"

/** Builds the run's kernel (a test may pass a faulty one to show that an invariant catches it). */
export type KernelFactory = (features: CpuFeatures, options: K.KernelOptions) => K.Kernel

export interface WorkloadOptions {
  readonly seed: number
  readonly trace: Trace | undefined
  readonly makeKernel?: KernelFactory | undefined
  /** The scheduler's choices after the scenario's schedule (RunOptions.policy). */
  readonly policy?: ChoicePolicy | undefined
  /** RunOptions.interrupted: asked between steps and every INTERRUPT_EVERY events. */
  readonly interrupted?: (() => boolean) | undefined
}

/** Events between two calls of `interrupted` (a power of 2): a call per event would cost. */
const INTERRUPT_EVERY = 1024

/**
 * How long after the end blocked vCPUs may wait for the VMM to finish what it started (the queue
 * empties long before in a sane run: the tracker exits after its last cycle, the handler parks).
 */
function drainLimit(w: Workload): number {
  return 10 * Math.max(w.vmm.interval, 1_000_000_000)
}

// the events without fields, one object each (events are values: nothing mutates them)
const POLL: WorkloadEvent = { kind: "poll" }
const HANG_CHECK: WorkloadEvent = { kind: "hang_check" }

const setupFailure = (message: string): RunResult => ({
  ok: false,
  failures: [{ step: null, op: null, invariant: null, message }],
  metrics: { simulated_ns: 0, hung_vcpus: 0 },
  schedule: []
})

export function runWorkload(scenario: Scenario, w: Workload, o: WorkloadOptions): RunResult {
  const m = scenario.machine
  let dispatch: (ev: WorkloadEvent) => void = () => {}
  const engine = new SimEngine<WorkloadEvent>({
    seed: o.seed,
    schedule: scenario.schedule,
    ...(o.policy === undefined ? {} : { policy: o.policy }),
    dispatch: (ev) => dispatch(ev),
    ...(o.trace === undefined ? {} : { trace: o.trace })
  })
  const quiet = { kernel: false }
  const features = machineFeatures(m)
  const kopts: K.KernelOptions = {
    vcpus: m.vcpus,
    tlb: m.tlb,
    // the kernel's own lines, except those from inside a vCPU burst (the vCPU's time is not the
    // clock's there) and the checker's own calls; the run writes its own lines for vCPU events
    ...(engine.trace.enabled ? { trace: (ev, fields) => void (quiet.kernel ? 0 : engine.emit(ev, fields)) } : {})
  }
  const kernel = o.makeKernel === undefined ? new K.Kernel(features, kopts) : o.makeKernel(features, kopts)

  // ---- memory and the VMM's userfaultfd (before any step) ----------------------------------------
  const setup = setupVmm(kernel, w.memory, m.page_size, w.vmm.tracker, w.vmm.fallback, features.idle_page_tracking)
  if (!setup.ok) return setupFailure(`workload setup: ${setup.error.what} failed with ${setup.error.errno}`)
  const { layout } = setup.value
  const used = setup.value.tracker
  engine.emit("workload.setup", {
    backing: layout.backing,
    pages: layout.pages,
    page_bytes: layout.page_bytes,
    guest_mem: layout.guest_mem,
    io_mem: layout.io_mem,
    probed_features: setup.value.probed,
    tracker: used,
    skipped: setup.value.skipped.join("; ")
  })

  // ---- the steps, with the vCPUs idle ---------------------------------------------------------
  const failures: RunFailure[] = []
  if (scenario.steps.length > 0) {
    const ctx = newScriptContext(
      scenario,
      engine,
      { latency_ns: w.storage.latency, bandwidth: w.storage.bandwidth },
      kernel
    )
    ctx.names.set("guest_mem", { kind: "mapping", addr: layout.guest_mem, length: layout.size })
    if (layout.memfd >= 0) {
      ctx.names.set("guest", { kind: "file", fd: layout.memfd })
      ctx.names.set("io_mem", { kind: "mapping", addr: layout.io_mem, length: layout.size })
    }
    if (layout.uffd >= 0) ctx.names.set("uffd", { kind: "userfaultfd", fd: layout.uffd })
    const steps = runSteps(ctx, scenario.steps, o.interrupted)
    if (steps.interrupted) return interruptedResult(engine.now_ns, null, engine.tape.recorded())
    failures.push(...steps.failures)
    const hung = hungVcpus(ctx)
    if (failures.length === 0 && hung.length > 0) {
      failures.push({
        step: null,
        op: null,
        invariant: null,
        message: `the workload cannot start: ${hung.length} vCPU(s) still blocked after the last step: ${hung.join("; ")}`
      })
    }
    if (failures.length > 0) {
      engine.emit("end", { ok: false })
      return {
        ok: false,
        failures,
        metrics: { simulated_ns: engine.now_ns, hung_vcpus: hung.length, tracker: used },
        schedule: engine.tape.recorded()
      }
    }
  }
  kernel.drain_woken()
  const seeded = scenario.steps.length > 0

  // ---- the guest, the VMM, the checker ----------------------------------------------------------
  const base_ns = engine.now_ns
  const end_ns = base_ns + w.duration
  const stats0 = { ...kernel.stats }
  const gt = new GroundTruth(layout.pages)
  // what the steps left in guest memory is what the guest must read back
  if (seeded) seedGroundTruth(kernel, layout, gt)
  const device = storageDevice(w)
  const cycles = new CycleSums()
  const handlerState = new HandlerState()
  const trackerState = new TrackerState()
  let driver: VcpuDriver | undefined
  const drv = (): VcpuDriver => driver!
  const clock = {
    get now_ns() {
      return engine.now_ns
    },
    emitAt: (t_ns: number, ev: string, fields: Parameters<typeof engine.emit>[1] & object) =>
      emitAt(engine.trace, engine.now_ns, t_ns, ev, fields)
  }
  // the checker is built below; the per-access path reaches it through these two calls
  const mem = new CheckedMemory(
    kernel,
    layout.guest_mem,
    layout.page_bytes,
    layout.pages,
    m.costs,
    () => device.submit(engine.now_ns, layout.page_bytes) - engine.now_ns,
    {
      armedAccess: (task, page, faulted) => checker.armedAccess(task, page, faulted),
      // inside a burst the vCPU's now_ns is the time of the access in progress
      watchedWrite: (task, page, value) => checker.watchedWrite(task, page, value, vcpus[task]!.now_ns + base_ns)
    }
  )
  const pages = new VmmPages(layout.pages, w.vmm.cold_age)
  const checker = new Checker({
    kernel,
    layout,
    tracker: used,
    vcpus: m.vcpus,
    gt,
    mem,
    pages,
    handler: handlerState,
    base_ns,
    clock,
    rng: engine.streams.stream("checker")
  })
  const handlerIdle = () =>
    layout.uffd < 0 || (engine.waiters(UFFD_POLL_KEY) > 0 && !kernel.uffd_has_messages(layout.uffd))
  let hangCheckPending = false
  const requestHangCheck = (t_ns: number) => {
    if (hangCheckPending || driver === undefined || driver.waiting === 0) return
    hangCheckPending = true
    engine.schedule(Math.max(t_ns, engine.now_ns), HANG_CHECK)
  }
  const observer = new RunObserver(
    gt,
    checker,
    cycles,
    () => {
      if (checker.sweepsEveryScan && handlerIdle()) checker.sweep()
    },
    engine.trace.enabled ? (ev, fields) => engine.emit(ev, fields) : undefined
  )
  const host = makeHost(
    {
      engine,
      kernel,
      machine: m,
      workload: w,
      layout,
      tracker: used,
      end_ns,
      driver: drv,
      observer,
      pages,
      afterKernelCall: () => requestHangCheck(engine.now_ns)
    },
    device
  )
  const vcpus = createVcpus({
    guest: w.guest,
    vcpus: m.vcpus,
    guest_pages: layout.pages,
    base_addr: layout.guest_mem,
    page_bytes: layout.page_bytes,
    rng: (i) => engine.streams.stream(`guest.vcpu${i}`),
    ground_truth: gt,
    charge: mem
  })
  const chainContext = {
    engine: engine as unknown as SimEngine<unknown>,
    kernel,
    layout,
    pages,
    handler: handlerState,
    tracker: trackerState
  }
  const reported = new Set<string>()
  driver = new VcpuDriver({
    engine,
    kernel,
    vcpus,
    mem,
    base_ns,
    end_ns,
    quantum_ns: w.quantum,
    wake_ns: m.costs.uffd_round_trip,
    page_bytes: layout.page_bytes,
    hooks: {
      afterBurst: (v, from, to) => checker.afterBurst(v, from, to),
      signal: (v, page, code, t) =>
        checker.error(
          `vCPU ${v}: its access of ${showPage(page, layout.page_bytes)} at ${showTime(t)} raised ${code === K.ACCESS_SIGBUS ? "SIGBUS" : "SIGSEGV"}`
        ),
      blocked: (_v, t) => {
        // a queued message wakes the handler (poll); without one, look for a lost wakeup
        if (layout.uffd >= 0 && kernel.uffd_has_messages(layout.uffd)) engine.schedule(t, POLL)
        else requestHangCheck(t)
      },
      inBurst: () => {}
    }
  })

  /** no_lost_wakeup: with the handler idle and nothing under eviction, a blocked vCPU waits for nothing. */
  const hangCheck = () => {
    hangCheckPending = false
    if (!checker.active || driver === undefined || driver.paused) return
    if (!handlerIdle() || (used === "rwp" && !checker.async_mode)) return
    checker.checkMessages()
    for (let v = 0; v < m.vcpus; v++) {
      const b = driver.blocked[v]
      if (b === null || driver.state[v] !== VS_BLOCKED) continue
      const key = `${v}@${b.since_ns}`
      if (reported.has(key)) continue
      reported.add(key)
      const chain = [...waitForChain(chainContext, v, b), "nothing left in the simulation can wake it"]
      checker.record(
        "no_lost_wakeup",
        engine.now_ns,
        b.page,
        `at ${showTime(engine.now_ns)} vCPU ${v} is blocked and nothing can wake it (the fault handler is idle with no message queued, and no eviction is in progress); wait-for chain: ${showChain(chain)}`
      )
    }
  }

  dispatch = (ev) => {
    switch (ev.kind) {
      case "round":
      case "retry":
        drv().dispatch(ev)
        return
      case "poll":
        if (layout.uffd >= 0 && kernel.uffd_has_messages(layout.uffd)) engine.unpark(UFFD_POLL_KEY)
        return
      case "hang_check":
        hangCheck()
        return
    }
  }

  const interrupted = o.interrupted
  let events = 0
  let stopped = false
  const interruptedNow = (): boolean => {
    if (interrupted === undefined || (++events & (INTERRUPT_EVERY - 1)) !== 0) return false
    stopped = interrupted()
    return stopped
  }

  const hung: string[] = []
  // from here the VMM traces its own calls (vmm.*); the kernel's lines would repeat them
  quiet.kernel = true
  const unTap = tapKernel(kernel, checker)
  checker.start()
  const program = Effect.gen(function* () {
    const sched = yield* Sim.Scheduler
    yield* sched.spawn("tracker", tracker(host, trackerState))
    if (layout.uffd >= 0) yield* sched.spawn("handler", faultHandler(host, handlerState))
    const d = drv()
    d.start()
    if (yield* runEvents(engine, end_ns, interruptedNow, true)) return
    d.draining = true
    if (d.waiting > 0)
      yield* runEvents(engine, end_ns + drainLimit(w), () => d.waiting === 0 || interruptedNow(), false)
    if (stopped) return
    // the chains of the vCPUs still blocked, while the VMM's threads are still there to show
    for (let v = 0; v < m.vcpus; v++) {
      const b = d.blocked[v]
      if (b !== null && (d.state[v] === VS_BLOCKED || d.state[v] === VS_WOKEN))
        hung.push(showChain(waitForChain(chainContext, v, b)))
    }
  })
  const exit = Sim.runSyncExit(engine, program)
  if (Exit.isFailure(exit)) throw Cause.squash(exit.cause)
  unTap()
  if (stopped) return interruptedResult(engine.now_ns, end_ns, engine.tape.recorded())

  // ---- the end ---------------------------------------------------------------------------------
  if (handlerIdle()) checker.sweep()
  checker.checkMessages()
  checker.active = false
  const metrics = workloadMetrics({
    simulated_ns: end_ns,
    vcpus,
    kernel,
    stats0,
    gt,
    cycles,
    tracker_state: trackerState,
    handler: handlerState,
    refaults_from_storage: observer.refaults,
    anon: layout.backing === "anon",
    stalls: driver.stalls,
    open_stalls: driver.openStalls(engine.now_ns),
    hung_vcpus: hung.length,
    tracker: used,
    device
  })
  failures.push(
    ...checkWorkload(scenario.expect, {
      violations: checker.violations,
      counts: checker.counts,
      errors: checker.errors,
      metrics,
      hung
    })
  )
  engine.emit("end", { ok: failures.length === 0, ...metrics })
  return { ok: failures.length === 0, failures, metrics, schedule: engine.tape.recorded() }
}
