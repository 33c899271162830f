// vCPU accesses in a script: start one, retry it when its vCPU is woken, and finish it (checking
// the step's deferred expectations). A woken vCPU retries before the next step starts; when one
// step wakes several, their retry order is a scheduler choice drawn from the seed.
import * as K from "@rwpsim/kernel"
import { type PendingAccess, type ScriptContext, showAddress, StepFailed, type VcpuSlot } from "./context.ts"

export interface AccessExpect {
  readonly blocked?: boolean | undefined
  readonly value?: number | undefined
  readonly signal?: string | undefined
}

/** A failure found while finishing an access that a step started earlier. */
export interface DeferredFailure {
  readonly step: number
  readonly op: string
  readonly message: string
}

function signalName(code: number): string | undefined {
  if (code === K.ACCESS_SIGSEGV) return "SIGSEGV"
  if (code === K.ACCESS_SIGBUS) return "SIGBUS"
  return undefined
}

export function describeWait(ctx: ScriptContext): string {
  const w = ctx.kernel.blocked_on as unknown
  if (w !== null && typeof w === "object" && "describe" in w && typeof w.describe === "function")
    return String(w.describe())
  return String(w)
}

/** Runs the access once; returns the kernel's code. */
function attempt(ctx: ScriptContext, task: number, a: PendingAccess): number {
  const code = ctx.kernel.access(task, a.addr, a.write, a.value, true)
  ctx.engine.emit("access", {
    task,
    addr: a.addr,
    write: a.write,
    result: code === K.ACCESS_DONE ? "done" : code === K.ACCESS_BLOCKED ? "blocked" : (signalName(code) ?? "?")
  })
  return code
}

/** Finishes an access that completed or got a signal; returns a mismatch message or null. */
function finish(ctx: ScriptContext, vcpu: number, slot: VcpuSlot, a: PendingAccess, code: number): string | null {
  slot.state = "idle"
  slot.access = null
  const sig = signalName(code)
  if (sig !== undefined) {
    if (a.expectSignal === undefined) return `vCPU ${vcpu}: ${a.op} of ${showAddress(ctx, a.addr)} got ${sig}`
    if (a.expectSignal !== sig)
      return `vCPU ${vcpu}: ${a.op} of ${showAddress(ctx, a.addr)}: expected ${a.expectSignal}, got ${sig}`
    return null
  }
  const value = a.write ? a.value >>> 0 : ctx.kernel.access_value >>> 0
  slot.lastValue = value
  slot.lastStep = a.step
  const page = a.addr - (a.addr % ctx.page_size)
  if (a.write) ctx.shadow.set(page, value)
  if (a.expectSignal !== undefined)
    return `vCPU ${vcpu}: ${a.op} of ${showAddress(ctx, a.addr)}: expected ${a.expectSignal}, it completed`
  if (!a.write && a.expectValue !== undefined && a.expectValue >>> 0 !== value) {
    return `vCPU ${vcpu}: read of ${showAddress(ctx, a.addr)}: expected value ${a.expectValue >>> 0}, got ${value}`
  }
  return null
}

function park(ctx: ScriptContext, slot: VcpuSlot, a: PendingAccess): void {
  slot.state = "blocked"
  slot.access = a
  slot.blockedAddr = ctx.kernel.blocked_addr
  slot.blockedOn = describeWait(ctx)
}

export function startAccess(
  ctx: ScriptContext,
  step: number,
  op: "read" | "write",
  vcpu: number,
  addr: number,
  write: boolean,
  value: number,
  expect: AccessExpect | undefined
): void {
  const slot = ctx.vcpus[vcpu]!
  if (slot.state !== "idle") {
    throw new StepFailed(
      `vCPU ${vcpu} is not idle: its access of ${showAddress(ctx, slot.blockedAddr)} is blocked on ${slot.blockedOn}`
    )
  }
  const a: PendingAccess = { step, op, addr, write, value, expectValue: expect?.value, expectSignal: expect?.signal }
  const code = attempt(ctx, vcpu, a)
  if (code === K.ACCESS_BLOCKED) {
    park(ctx, slot, a)
    if (expect?.blocked === false)
      throw new StepFailed(
        `vCPU ${vcpu}: ${op} of ${showAddress(ctx, addr)} blocked on ${slot.blockedOn}, expected it not to block`
      )
    return
  }
  if (expect?.blocked === true) {
    finish(ctx, vcpu, slot, a, code)
    throw new StepFailed(
      `vCPU ${vcpu}: ${op} of ${showAddress(ctx, addr)}: expected it to block, it ${signalName(code) ?? "completed"}`
    )
  }
  const bad = finish(ctx, vcpu, slot, a, code)
  if (bad !== null) throw new StepFailed(bad)
}

/** Retries the accesses of every vCPU the kernel woke, until no one is left to retry. */
export function settle(ctx: ScriptContext): DeferredFailure | null {
  let first: DeferredFailure | null = null
  for (;;) {
    const woken = ctx.kernel
      .drain_woken()
      .filter((t, i, all) => t < ctx.vcpus.length && all.indexOf(t) === i && ctx.vcpus[t]!.state === "blocked")
    if (woken.length === 0) return first
    const order = woken.length > 1 ? ctx.engine.tape.order("wake", woken.length).map((i) => woken[i]!) : woken
    for (const vcpu of order) {
      const slot = ctx.vcpus[vcpu]!
      const a = slot.access!
      ctx.engine.emit("retry", { vcpu, addr: a.addr })
      const code = attempt(ctx, vcpu, a)
      if (code === K.ACCESS_BLOCKED) {
        park(ctx, slot, a)
        continue
      }
      const bad = finish(ctx, vcpu, slot, a, code)
      if (bad !== null && first === null) first = { step: a.step, op: a.op, message: bad }
    }
  }
}
