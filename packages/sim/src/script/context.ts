// The state a step script runs against: the kernel, what the script's names stand for, the VMM's
// storage objects, and each vCPU's access in progress.
import type { Kernel } from "@rwpsim/kernel"
import type { Engine } from "@rwpsim/sched"
import type { Address } from "@rwpsim/scenario"

export type Named =
  | { readonly kind: "mapping"; readonly addr: number; readonly length: number }
  | { readonly kind: "file"; readonly fd: number }
  | { readonly kind: "userfaultfd"; readonly fd: number }

/** An access a vCPU has started and not finished: it is retried when the vCPU is woken. */
export interface PendingAccess {
  readonly step: number
  readonly op: "read" | "write"
  readonly addr: number
  readonly write: boolean
  readonly value: number
  readonly expectValue: number | undefined
  readonly expectSignal: string | undefined
}

export interface VcpuSlot {
  state: "idle" | "blocked"
  access: PendingAccess | null
  /** Page-aligned address and description of what a blocked access waits on. */
  blockedAddr: number
  blockedOn: string
  /** The value the last completed access read (or wrote), for `wait: { expect: { value } }`. */
  lastValue: number | null
  lastStep: number
}

/** A failed step expectation; thrown inside the runner to end the step, caught by the loop. */
export class StepFailed {
  readonly _tag = "StepFailed"
  constructor(readonly message: string) {}
}

export interface StorageParams {
  readonly latency_ns: number
  readonly bandwidth: number
}

/** What a script uses of the engine (so a workload's engine, with its own events, can run steps too). */
export type ScriptEngine = Pick<Engine<never>, "emit" | "run_until" | "tape" | "now_ns">

export interface ScriptContext {
  readonly kernel: Kernel
  readonly engine: ScriptEngine
  readonly names: Map<string, Named>
  /** storage object → byte offset (page aligned) → word */
  readonly storage: Map<string, Map<number, number>>
  readonly vcpus: VcpuSlot[]
  /** The task id of the VMM's own thread (the script). */
  readonly vmmTask: number
  readonly page_size: number
  readonly storageParams: StorageParams
  /** Guest shadow for no_data_loss: page address → last value a vCPU wrote. */
  readonly shadow: Map<number, number>
}

export type ScriptEvent = { readonly kind: "tick" }

export function hex(n: number): string {
  return `0x${n.toString(16)}`
}

/** A name or a number back to the scenario's address syntax, for messages. */
export function showAddress(ctx: ScriptContext, addr: number): string {
  let best: [string, number] | undefined
  for (const [name, n] of ctx.names) {
    if (n.kind !== "mapping" || addr < n.addr || addr >= n.addr + n.length) continue
    best = [name, addr - n.addr]
  }
  if (best === undefined) return hex(addr)
  return best[1] === 0 ? best[0] : `${best[0]}+${hex(best[1])}`
}

export function resolveAddress(ctx: ScriptContext, a: Address): number {
  if (a.base === null) return a.offset
  const n = ctx.names.get(a.base)
  if (n === undefined) throw new StepFailed(`mapping "${a.base}" does not exist (its mmap failed or has not run)`)
  if (n.kind !== "mapping") throw new StepFailed(`"${a.base}" is a ${n.kind}, not a mapping`)
  return n.addr + a.offset
}

export function fdOf(ctx: ScriptContext, name: string, kinds: readonly Named["kind"][]): number {
  const n = ctx.names.get(name)
  if (n === undefined) throw new StepFailed(`"${name}" does not exist (the step that creates it failed or has not run)`)
  if (n.kind === "mapping" || !kinds.includes(n.kind))
    throw new StepFailed(`"${name}" is a ${n.kind}, not a ${kinds.join(" or ")}`)
  return n.fd
}
