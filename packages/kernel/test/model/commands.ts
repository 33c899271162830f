// fc.commands over the real kernel and the reference model: each command runs the syscall on the
// kernel, applies the rule to the model, and then the two must agree on every page's protection
// and presence, every sleeping thread, every message and every value read.
import { default_kernel_config, detect_cpu_features } from "@rwpsim/hw"
import * as K from "@rwpsim/kernel"
import fc from "fast-check"
import { expect } from "vitest"
import { type Backing, FLAG_RWP, FLAG_WRITE, Model } from "./reference.ts"

export const PAGES = 6
const PS = 4096
const VCPUS = 2

export interface Real {
  readonly k: K.Kernel
  readonly base: number
  readonly fd: number
  readonly memfd: number
}

function sys(r: { ok: boolean; errno?: string }, what: string): void {
  if (!r.ok) throw new Error(`${what} failed: ${r.errno}`)
}

export function setup(
  backing: Backing,
  async: boolean,
  mutants: readonly K.KernelMutant[] = []
): { model: Model; real: Real } {
  const f = detect_cpu_features({
    arch: "x86_64",
    isa_extensions: [],
    page_size: PS,
    kernel: { major: 7, minor: 2, config: default_kernel_config("x86_64") }
  })
  const k = new K.Kernel(f, { vcpus: VCPUS, tlb: { entries: 16, ways: 4 }, mutants })
  let memfd = -1
  let base: number
  if (backing === "anon") {
    const m = k.mmap(0, PAGES * PS, K.PROT_READ | K.PROT_WRITE, K.MAP_PRIVATE | K.MAP_ANONYMOUS, -1, 0)
    if (!m.ok) throw new Error("mmap")
    base = m.addr
  } else {
    const f2 = k.memfd_create("m", PAGES * PS)
    if (!f2.ok) throw new Error("memfd")
    memfd = f2.fd
    const m = k.mmap(0, PAGES * PS, K.PROT_READ | K.PROT_WRITE, K.MAP_SHARED, memfd, 0)
    if (!m.ok) throw new Error("mmap")
    base = m.addr
  }
  const u = k.userfaultfd(K.O_NONBLOCK)
  if (!u.ok) throw new Error("userfaultfd")
  sys(k.uffdio_api(u.fd, K.UFFD_API, K.UFFD_FEATURE_RWP | K.UFFD_FEATURE_RWP_ASYNC), "UFFDIO_API")
  if (!async) sys(k.uffdio_set_mode(u.fd, 0, K.UFFD_FEATURE_RWP_ASYNC), "SET_MODE")
  return { model: new Model(backing, PAGES, async), real: { k, base, fd: u.fd, memfd } }
}

/** Retries the woken vCPUs' accesses, as the runner does after every step. */
function settle(m: Model, r: Real, pendingAccess: Map<number, { page: number; write: boolean; value: number }>): void {
  for (;;) {
    const woken = r.k.drain_woken()
    if (woken.length === 0) return
    for (const t of woken) {
      const a = pendingAccess.get(t)
      if (a === undefined) continue
      const code = r.k.access(t, r.base + a.page * PS, a.write, a.value, true)
      if (code === K.ACCESS_DONE) {
        pendingAccess.delete(t)
        if (!a.write)
          expect(r.k.access_value >>> 0, `retried read of page ${a.page} by vCPU ${t}`).toBe(m.lastRead.get(t))
      } else expect(code, `retry of vCPU ${t}`).toBe(K.ACCESS_BLOCKED)
    }
  }
}

/** Everything observable must agree. */
function agree(m: Model, r: Real): void {
  for (let i = 0; i < PAGES; i++) {
    const e = r.k.pagemap_read(r.base + i * PS)
    const p = m.pages[i]!
    expect({ page: i, uffd: e.uffd, present: e.present, swapped: e.swapped }).toEqual({
      page: i,
      uffd: p.prot,
      present: p.pte === "present",
      swapped: p.pte === "swap"
    })
  }
  for (let t = 0; t < VCPUS; t++) expect(r.k.blockedOn(t) !== null, `vCPU ${t} blocked`).toBe(m.blocked(t))
  const s = r.k.pagemap_scan({
    size: 96,
    flags: 0,
    start: r.base,
    end: r.base + PAGES * PS,
    vec_len: Number.POSITIVE_INFINITY,
    max_pages: 0,
    category_inverted: 0,
    category_mask: K.PAGE_IS_ACCESSED,
    category_anyof_mask: 0,
    return_mask: K.PAGE_IS_ACCESSED
  })
  if (!s.ok) throw new Error(`PAGEMAP_SCAN: ${s.errno}`)
  const got: number[] = []
  for (const g of s.regions) for (let a = g.start; a < g.end; a += PS) got.push((a - r.base) / PS)
  expect(got, "PAGE_IS_ACCESSED pages").toEqual(m.accessed())
}

export interface World {
  readonly model: Model
  readonly real: Real
  readonly waiting: Map<number, { page: number; write: boolean; value: number }>
}

type Cmd = fc.Command<World, World>

const range = fc
  .tuple(fc.integer({ min: 0, max: PAGES - 1 }), fc.integer({ min: 1, max: PAGES }))
  .map(([a, n]) => [a, Math.min(n, PAGES - a)] as const)

/** A step of a scenario file (`{ OP: ARGS }`), for counterexamples written as files. */
export type Step = Record<string, Record<string, unknown>>

const at = (page: number) => (page === 0 ? "m" : `m+0x${(page * PS).toString(16)}`)
const rng = (first: number, n: number) => ({ start: at(first), len: n * PS })

abstract class Base implements Cmd {
  abstract check(m: Readonly<World>): boolean
  /** The syscall on the kernel. */
  abstract kernel(w: World): void
  /** The rule on the model. */
  abstract model(m: Model): void
  /** The step a scenario file writes for it (expectations from the model, which `model` has not changed yet). */
  abstract step(m: Model): Step
  abstract toString(): string
  /** The pages the command names (the final checks look at these). */
  pages(): number[] {
    const r = this as unknown as { first?: number; n?: number; page?: number }
    if (r.page !== undefined) return [r.page]
    if (r.first !== undefined && r.n !== undefined) return Array.from({ length: r.n }, (_, i) => r.first! + i)
    return []
  }
  run(_m: World, w: World): void {
    this.kernel(w)
    this.model(w.model)
    settle(w.model, w.real, w.waiting)
    agree(w.model, w.real)
  }
}

class Register extends Base {
  constructor(readonly missing: boolean) {
    super()
  }
  check = (w: Readonly<World>) => !w.model.registered && !w.model.closed
  private mode = () => K.UFFDIO_REGISTER_MODE_RWP | (this.missing ? K.UFFDIO_REGISTER_MODE_MISSING : 0)
  kernel({ real }: World) {
    sys(real.k.uffdio_register(real.fd, real.base, PAGES * PS, this.mode()), "UFFDIO_REGISTER")
  }
  model(m: Model) {
    m.registered = true
    m.missing = this.missing
  }
  step = (): Step => ({
    UFFDIO_REGISTER: {
      fd: "u",
      range: rng(0, PAGES),
      mode: ["UFFDIO_REGISTER_MODE_RWP", ...(this.missing ? ["UFFDIO_REGISTER_MODE_MISSING"] : [])]
    }
  })
  toString = () => `register(${this.missing ? "RWP|MISSING" : "RWP"})`
}

class Unregister extends Base {
  check = (w: Readonly<World>) => w.model.registered
  kernel({ real }: World) {
    sys(real.k.uffdio_unregister(real.fd, real.base, PAGES * PS), "UFFDIO_UNREGISTER")
  }
  model(m: Model) {
    for (const p of m.pages) p.prot = false
    const missing = m.missing
    m.registered = false
    m.missing = false
    if (missing) m.wake(0, 0)
  }
  step = (): Step => ({ UFFDIO_UNREGISTER: { fd: "u", range: rng(0, PAGES) } })
  toString = () => "unregister"
}

class Protect extends Base {
  constructor(
    readonly first: number,
    readonly n: number
  ) {
    super()
  }
  check = (w: Readonly<World>) => w.model.registered
  kernel({ real }: World) {
    const r = real.k.uffdio_rwprotect(real.fd, real.base + this.first * PS, this.n * PS, K.UFFDIO_RWPROTECT_MODE_RWP)
    sys(r, "protect")
  }
  model(m: Model) {
    m.protect(this.first, this.n)
  }
  step = (): Step => ({
    UFFDIO_RWPROTECT: { fd: "u", range: rng(this.first, this.n), mode: ["UFFDIO_RWPROTECT_MODE_RWP"] }
  })
  toString = () => `protect(${this.first}, ${this.n})`
}

class Resolve extends Base {
  constructor(
    readonly first: number,
    readonly n: number,
    readonly dontwake: boolean
  ) {
    super()
  }
  check = (w: Readonly<World>) => w.model.registered
  kernel({ real }: World) {
    const mode = this.dontwake ? K.UFFDIO_RWPROTECT_MODE_DONTWAKE : 0
    sys(real.k.uffdio_rwprotect(real.fd, real.base + this.first * PS, this.n * PS, mode), "resolve")
  }
  model(m: Model) {
    m.resolve(this.first, this.n, this.dontwake)
  }
  step = (): Step => ({
    UFFDIO_RWPROTECT: {
      fd: "u",
      range: rng(this.first, this.n),
      mode: this.dontwake ? ["UFFDIO_RWPROTECT_MODE_DONTWAKE"] : []
    }
  })
  toString = () => `resolve(${this.first}, ${this.n}${this.dontwake ? ", DONTWAKE" : ""})`
}

class Access extends Base {
  constructor(
    readonly task: number,
    readonly page: number,
    readonly write: boolean,
    readonly value: number
  ) {
    super()
  }
  check = (w: Readonly<World>) => !w.model.blocked(this.task)
  private outcome: "done" | "blocked" = "done"
  kernel({ model, real, waiting }: World) {
    const code = real.k.access(this.task, real.base + this.page * PS, this.write, this.value, true)
    // the model's verdict, on a copy-free dry run: apply it here and skip it in model()
    this.outcome = model.access(this.task, this.page, this.write, this.value)
    const got = code === K.ACCESS_BLOCKED ? "blocked" : code === K.ACCESS_DONE ? "done" : `signal ${code}`
    expect(got, String(this)).toBe(this.outcome)
    if (code === K.ACCESS_BLOCKED) waiting.set(this.task, { page: this.page, write: this.write, value: this.value })
    else if (!this.write) expect(real.k.access_value >>> 0, `${this} value`).toBe(model.lastRead.get(this.task))
  }
  model(_m: Model) {}
  step(m: Model): Step {
    const r = m.access(this.task, this.page, this.write, this.value)
    const expectAcc: Record<string, unknown> = { blocked: r === "blocked" }
    if (r === "done" && !this.write) expectAcc.value = m.lastRead.get(this.task)
    return this.write
      ? { write: { vcpu: this.task, addr: at(this.page), value: this.value, expect: expectAcc } }
      : { read: { vcpu: this.task, addr: at(this.page), expect: expectAcc } }
  }
  toString = () => `vcpu${this.task}.${this.write ? `write(${this.page}, ${this.value})` : `read(${this.page})`}`
}

class SetMode extends Base {
  constructor(readonly async: boolean) {
    super()
  }
  check = (w: Readonly<World>) => !w.model.closed
  kernel({ real }: World) {
    const A = K.UFFD_FEATURE_RWP_ASYNC
    sys(real.k.uffdio_set_mode(real.fd, this.async ? A : 0, this.async ? 0 : A), "SET_MODE")
  }
  model(m: Model) {
    m.async = this.async
    if (this.async) m.wake(0, 0)
  }
  step = (): Step => ({
    UFFDIO_SET_MODE: this.async
      ? { fd: "u", enable: ["UFFD_FEATURE_RWP_ASYNC"] }
      : { fd: "u", disable: ["UFFD_FEATURE_RWP_ASYNC"] }
  })
  toString = () => `set_mode(${this.async ? "async" : "sync"})`
}

class Wake extends Base {
  constructor(
    readonly first: number,
    readonly n: number
  ) {
    super()
  }
  check = (w: Readonly<World>) => !w.model.closed
  kernel({ real }: World) {
    sys(real.k.uffdio_wake(real.fd, real.base + this.first * PS, this.n * PS), "UFFDIO_WAKE")
  }
  model(m: Model) {
    m.wake(this.first, this.n)
  }
  step = (): Step => ({ UFFDIO_WAKE: { fd: "u", range: rng(this.first, this.n) } })
  toString = () => `wake(${this.first}, ${this.n})`
}

class ReadMsg extends Base {
  check = (w: Readonly<World>) => !w.model.closed
  kernel({ model, real }: World) {
    const r = real.k.read_msg(real.fd)
    const m = model.readMsg()
    if (m === null) {
      expect(r.ok ? "message" : "errno" in r ? r.errno : "blocked", "read_msg on an empty queue").toBe("EAGAIN")
      return
    }
    if (!r.ok)
      throw new Error(`read_msg: expected a message for page ${m.page}, got ${"errno" in r ? r.errno : "blocked"}`)
    expect({ address: r.msg.address, flags: r.msg.flags & (FLAG_RWP | FLAG_WRITE) }).toEqual({
      address: real.base + m.page * PS,
      flags: m.flags
    })
  }
  model(_m: Model) {}
  step(m: Model): Step {
    const msg = m.readMsg()
    if (msg === null) return { read_msg: { fd: "u", expect: { errno: "EAGAIN" } } }
    const inc = [
      ...(msg.flags & FLAG_RWP ? ["UFFD_PAGEFAULT_FLAG_RWP"] : []),
      ...(msg.flags & FLAG_WRITE ? ["UFFD_PAGEFAULT_FLAG_WRITE"] : [])
    ]
    const exc = [
      ...(msg.flags & FLAG_RWP ? [] : ["UFFD_PAGEFAULT_FLAG_RWP"]),
      ...(msg.flags & FLAG_WRITE ? [] : ["UFFD_PAGEFAULT_FLAG_WRITE"])
    ]
    return {
      read_msg: {
        fd: "u",
        expect: { event: "UFFD_EVENT_PAGEFAULT", address: at(msg.page), flags_include: inc, flags_exclude: exc }
      }
    }
  }
  toString = () => "read_msg"
}

class Close extends Base {
  check = (w: Readonly<World>) => !w.model.closed
  kernel({ real }: World) {
    sys(real.k.close(real.fd), "close(userfaultfd)")
  }
  model(m: Model) {
    m.close()
  }
  step = (): Step => ({ close: { fd: "u" } })
  toString = () => "close"
}

class Madvise extends Base {
  constructor(
    readonly advice: "PAGEOUT" | "DONTNEED",
    readonly first: number,
    readonly n: number
  ) {
    super()
  }
  check = () => true
  kernel({ real }: World) {
    const a = this.advice === "PAGEOUT" ? K.MADV_PAGEOUT : K.MADV_DONTNEED
    sys(real.k.madvise(real.base + this.first * PS, this.n * PS, a), `MADV_${this.advice}`)
  }
  model(m: Model) {
    if (this.advice === "PAGEOUT") m.pageout(this.first, this.n)
    else m.dontneed(this.first, this.n)
  }
  step = (): Step => ({ madvise: { addr: at(this.first), length: this.n * PS, advice: `MADV_${this.advice}` } })
  toString = () => `madvise(${this.first}, ${this.n}, MADV_${this.advice})`
}

class Migrate extends Base {
  constructor(
    readonly first: number,
    readonly n: number
  ) {
    super()
  }
  check = () => true
  kernel({ real }: World) {
    sys(real.k.migrate(real.base + this.first * PS, this.n * PS), "migrate")
  }
  model(_m: Model) {}
  step = (): Step => ({ migrate: { addr: at(this.first), length: this.n * PS } })
  toString = () => `migrate(${this.first}, ${this.n})`
}

class Punch extends Base {
  constructor(
    readonly first: number,
    readonly n: number
  ) {
    super()
  }
  check = (w: Readonly<World>) => w.model.backing === "shmem"
  kernel({ real }: World) {
    const mode = K.FALLOC_FL_PUNCH_HOLE | K.FALLOC_FL_KEEP_SIZE
    sys(real.k.fallocate(real.memfd, mode, this.first * PS, this.n * PS), "fallocate(PUNCH_HOLE)")
  }
  model(m: Model) {
    m.punch(this.first, this.n)
  }
  step = (): Step => ({
    fallocate: {
      fd: "f",
      mode: ["FALLOC_FL_PUNCH_HOLE", "FALLOC_FL_KEEP_SIZE"],
      offset: this.first * PS,
      len: this.n * PS
    }
  })
  toString = () => `punch(${this.first}, ${this.n})`
}

export const commands = [
  fc.boolean().map((m) => new Register(m)),
  fc.constant(new Unregister()),
  range.map(([a, n]) => new Protect(a, n)),
  range.map(([a, n]) => new Protect(a, n)),
  fc.tuple(range, fc.boolean()).map(([[a, n], d]) => new Resolve(a, n, d)),
  fc
    .tuple(
      fc.integer({ min: 0, max: VCPUS - 1 }),
      fc.integer({ min: 0, max: PAGES - 1 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 999 })
    )
    .map(([t, p, w, v]) => new Access(t, p, w, v)),
  fc
    .tuple(
      fc.integer({ min: 0, max: VCPUS - 1 }),
      fc.integer({ min: 0, max: PAGES - 1 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 999 })
    )
    .map(([t, p, w, v]) => new Access(t, p, w, v)),
  fc.boolean().map((a) => new SetMode(a)),
  range.map(([a, n]) => new Wake(a, n)),
  fc.constant(new ReadMsg()),
  fc.tuple(fc.constantFrom("PAGEOUT" as const, "DONTNEED" as const), range).map(([a, [f, n]]) => new Madvise(a, f, n)),
  range.map(([a, n]) => new Migrate(a, n)),
  range.map(([a, n]) => new Punch(a, n)),
  fc.constant(new Close())
]

/** The property: any command sequence keeps kernel and model in agreement. */
export function modelProperty(backing: Backing, mutants: readonly K.KernelMutant[] = [], maxCommands = 40) {
  return fc.property(fc.boolean(), fc.commands(commands, { maxCommands, size: "max" }), (async, cmds) => {
    const { model, real } = setup(backing, async, mutants)
    const w: World = { model, real, waiting: new Map() }
    fc.modelRun(() => ({ model: w, real: w }), cmds)
  })
}

/**
 * The scenario file of a command sequence: the same setup and commands as steps, each access with
 * the model's verdict, each completion of a woken access checked with `wait`, and after the last
 * command every check `agree` makes (pagemap bits, vCPU states, the PAGE_IS_ACCESSED scan).
 */
export function toScenario(
  name: string,
  description: string,
  backing: Backing,
  async: boolean,
  cmds: Iterable<Cmd>
): Record<string, unknown> {
  const m = new Model(backing, PAGES, async)
  const w = { model: m } as unknown as World
  const steps: Step[] =
    backing === "anon"
      ? [{ mmap: { as: "m", length: PAGES * PS } }]
      : [{ memfd_create: { as: "f", size: PAGES * PS } }, { mmap: { as: "m", length: PAGES * PS, fd: "f" } }]
  steps.push(
    { userfaultfd: { as: "u", flags: ["O_CLOEXEC", "O_NONBLOCK"] } },
    { UFFDIO_API: { fd: "u", features: ["UFFD_FEATURE_RWP", "UFFD_FEATURE_RWP_ASYNC"] } }
  )
  if (!async) steps.push({ UFFDIO_SET_MODE: { fd: "u", disable: ["UFFD_FEATURE_RWP_ASYNC"] } })
  const touched = new Set<number>()
  for (const wrapped of cmds) {
    // fast-check hands back its CommandWrapper around each command
    const c = (wrapped as { cmd?: unknown }).cmd ?? wrapped
    if (!(c instanceof Base) || !c.check(w)) continue
    const before = [0, 1].map((t) => m.blocked(t))
    for (const page of c.pages()) touched.add(page)
    steps.push(c.step(m))
    c.model(m)
    for (let t = 0; t < VCPUS; t++) {
      if (before[t] && !m.blocked(t)) steps.push({ wait: { vcpu: t, expect: { value: m.lastValue.get(t) } } })
    }
  }
  for (let i = 0; i < PAGES; i++) {
    const p = m.pages[i]!
    if (!touched.has(i)) continue
    steps.push({
      pagemap: { addr: at(i), expect: { uffd: p.prot, present: p.pte === "present", swapped: p.pte === "swap" } }
    })
  }
  for (let t = 0; t < VCPUS; t++)
    steps.push({ vcpu: { vcpu: t, expect: { state: m.blocked(t) ? "blocked" : "idle" } } })
  const regions: { start: string; end: string; categories: string[] }[] = []
  let runStart = -1
  const acc = new Set(m.accessed())
  for (let i = 0; i <= PAGES; i++) {
    if (acc.has(i) && runStart < 0) runStart = i
    if (!acc.has(i) && runStart >= 0) {
      regions.push({ start: at(runStart), end: at(i), categories: ["PAGE_IS_ACCESSED"] })
      runStart = -1
    }
  }
  steps.push({
    PAGEMAP_SCAN: {
      start: "m",
      end: at(PAGES),
      category_mask: ["PAGE_IS_ACCESSED"],
      return_mask: ["PAGE_IS_ACCESSED"],
      expect: { regions }
    }
  })
  const hung = [0, 1].filter((t) => m.blocked(t)).length
  return {
    name,
    description,
    machine: { vcpus: VCPUS, tlb: { entries: 16, ways: 4 } },
    // identity order whenever one step wakes several vCPUs, as the model retries them
    schedule: Array.from({ length: 16 }, () => 0),
    steps,
    expect: { hung_vcpus: hung }
  }
}
