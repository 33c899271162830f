// Runs a step script: steps one after another, every woken vCPU retried before the next step, the
// first failed expectation stops the script. The script plays the VMM's single thread.
import { Kernel, type KernelMutant } from "@rwpsim/kernel"
import type { Scenario, Step } from "@rwpsim/scenario"
import { machineFeatures } from "../machine.ts"
import { type RunFailure, stepFailure } from "../result.ts"
import {
  type ScriptContext,
  type ScriptEngine,
  showAddress,
  StepFailed,
  type StorageParams,
  type VcpuSlot
} from "./context.ts"
import { OPS_GUEST, OPS_MEMORY } from "./ops.ts"
import { OPS_UFFD } from "./uffd.ts"
import { settle } from "./vcpus.ts"

const HANDLERS = { ...OPS_MEMORY, ...OPS_GUEST, ...OPS_UFFD } as const
type AnyHandler = (ctx: ScriptContext, s: Step, index: number) => void

export const DEFAULT_SCRIPT_STORAGE: StorageParams = { latency_ns: 50_000, bandwidth: 2 * 1024 ** 3 }

export interface ScriptOutcome {
  readonly failures: RunFailure[]
  readonly hung: readonly string[]
  readonly ctx: ScriptContext
}

export function newScriptContext(
  scenario: Scenario,
  engine: ScriptEngine,
  storageParams: StorageParams,
  /** The kernel to run against (a workload's, already set up); a new one by default. */
  existing?: Kernel,
  /** Deliberate kernel bugs for a new kernel. */
  mutants: readonly KernelMutant[] = []
): ScriptContext {
  const m = scenario.machine
  const kernel =
    existing ??
    new Kernel(machineFeatures(m), {
      vcpus: m.vcpus,
      tlb: m.tlb,
      trace: (ev, fields) => engine.emit(ev, fields),
      mutants
    })
  const vcpus: VcpuSlot[] = []
  for (let i = 0; i < m.vcpus; i++) {
    vcpus.push({ state: "idle", access: null, blockedAddr: 0, blockedOn: "", lastValue: null, lastStep: -1 })
  }
  return {
    kernel,
    engine,
    names: new Map(),
    storage: new Map(),
    vcpus,
    vmmTask: m.vcpus,
    page_size: m.page_size,
    storageParams,
    shadow: new Map()
  }
}

/** What a script did: its failures (the first stops it), or that `interrupted` stopped it between steps. */
export interface StepsOutcome {
  readonly failures: RunFailure[]
  readonly interrupted: boolean
}

const NEVER = () => false

export function runSteps(
  ctx: ScriptContext,
  steps: readonly Step[],
  /** Checked before each step (RunOptions.interrupted): true stops the script there. */
  interrupted: () => boolean = NEVER
): StepsOutcome {
  const failures: RunFailure[] = []
  for (let i = 0; i < steps.length; i++) {
    if (interrupted()) return { failures, interrupted: true }
    const s = steps[i]!
    // a step that names something (`as:`) says so: trace readers resolve `name+offset` with it
    const as = (s.args as { readonly as?: unknown }).as
    ctx.engine.emit("step", typeof as === "string" ? { i, op: s.op, as } : { i, op: s.op })
    try {
      ;(HANDLERS[s.op] as AnyHandler)(ctx, s, i)
    } catch (e) {
      if (!(e instanceof StepFailed)) throw e
      failures.push(stepFailure(i, s.op, e.message))
    }
    const deferred = settle(ctx)
    if (deferred !== null) failures.push(stepFailure(deferred.step, deferred.op, deferred.message))
    if (failures.length > 0) {
      ctx.engine.emit("fail", { step: failures[0]!.step ?? -1, message: failures[0]!.message })
      break
    }
  }
  return { failures, interrupted: false }
}

/** The vCPUs still blocked, each named with where and on what. */
export function hungVcpus(ctx: ScriptContext): string[] {
  const out: string[] = []
  ctx.vcpus.forEach((slot, i) => {
    if (slot.state === "blocked") {
      out.push(
        `vCPU ${i} (${slot.access?.op} at step ${slot.access?.step}) blocked at ${showAddress(ctx, slot.blockedAddr)} on ${slot.blockedOn}`
      )
    }
  })
  return out
}
