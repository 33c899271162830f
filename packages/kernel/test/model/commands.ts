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

abstract class Base implements Cmd {
  abstract check(m: Readonly<World>): boolean
  abstract apply(w: World): void
  abstract toString(): string
  run(_m: World, w: World): void {
    this.apply(w)
    settle(w.model, w.real, w.waiting)
    agree(w.model, w.real)
  }
}

class Register extends Base {
  constructor(readonly missing: boolean) {
    super()
  }
  check = (w: Readonly<World>) => !w.model.registered
  apply({ model, real }: World) {
    const mode = K.UFFDIO_REGISTER_MODE_RWP | (this.missing ? K.UFFDIO_REGISTER_MODE_MISSING : 0)
    sys(real.k.uffdio_register(real.fd, real.base, PAGES * PS, mode), "UFFDIO_REGISTER")
    model.registered = true
    model.missing = this.missing
  }
  toString = () => `register(${this.missing ? "RWP|MISSING" : "RWP"})`
}

class Unregister extends Base {
  check = (w: Readonly<World>) => w.model.registered
  apply({ model, real }: World) {
    sys(real.k.uffdio_unregister(real.fd, real.base, PAGES * PS), "UFFDIO_UNREGISTER")
    for (const p of model.pages) p.prot = false
    const missing = model.missing
    model.registered = false
    model.missing = false
    if (missing) model.wake(0, 0)
  }
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
  apply({ model, real }: World) {
    sys(
      real.k.uffdio_rwprotect(real.fd, real.base + this.first * PS, this.n * PS, K.UFFDIO_RWPROTECT_MODE_RWP),
      "protect"
    )
    model.protect(this.first, this.n)
  }
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
  apply({ model, real }: World) {
    const mode = this.dontwake ? K.UFFDIO_RWPROTECT_MODE_DONTWAKE : 0
    sys(real.k.uffdio_rwprotect(real.fd, real.base + this.first * PS, this.n * PS, mode), "resolve")
    model.resolve(this.first, this.n, this.dontwake)
  }
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
  apply({ model, real, waiting }: World) {
    const code = real.k.access(this.task, real.base + this.page * PS, this.write, this.value, true)
    const want = model.access(this.task, this.page, this.write, this.value)
    expect(
      code === K.ACCESS_BLOCKED ? "blocked" : code === K.ACCESS_DONE ? "done" : `signal ${code}`,
      String(this)
    ).toBe(want)
    if (code === K.ACCESS_BLOCKED) waiting.set(this.task, { page: this.page, write: this.write, value: this.value })
    else if (!this.write) expect(real.k.access_value >>> 0, `${this} value`).toBe(model.lastRead.get(this.task))
  }
  toString = () => `vcpu${this.task}.${this.write ? `write(${this.page}, ${this.value})` : `read(${this.page})`}`
}

class SetMode extends Base {
  constructor(readonly async: boolean) {
    super()
  }
  check = () => true
  apply({ model, real }: World) {
    const A = K.UFFD_FEATURE_RWP_ASYNC
    sys(real.k.uffdio_set_mode(real.fd, this.async ? A : 0, this.async ? 0 : A), "SET_MODE")
    model.async = this.async
    if (this.async) model.wake(0, 0)
  }
  toString = () => `set_mode(${this.async ? "async" : "sync"})`
}

class Wake extends Base {
  constructor(
    readonly first: number,
    readonly n: number
  ) {
    super()
  }
  check = () => true
  apply({ model, real }: World) {
    sys(real.k.uffdio_wake(real.fd, real.base + this.first * PS, this.n * PS), "UFFDIO_WAKE")
    model.wake(this.first, this.n)
  }
  toString = () => `wake(${this.first}, ${this.n})`
}

class ReadMsg extends Base {
  check = () => true
  apply({ model, real }: World) {
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
  toString = () => "read_msg"
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
  apply({ model, real }: World) {
    const a = this.advice === "PAGEOUT" ? K.MADV_PAGEOUT : K.MADV_DONTNEED
    sys(real.k.madvise(real.base + this.first * PS, this.n * PS, a), `MADV_${this.advice}`)
    if (this.advice === "PAGEOUT") model.pageout(this.first, this.n)
    else model.dontneed(this.first, this.n)
  }
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
  apply({ real }: World) {
    sys(real.k.migrate(real.base + this.first * PS, this.n * PS), "migrate")
  }
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
  apply({ model, real }: World) {
    const mode = K.FALLOC_FL_PUNCH_HOLE | K.FALLOC_FL_KEEP_SIZE
    sys(real.k.fallocate(real.memfd, mode, this.first * PS, this.n * PS), "fallocate(PUNCH_HOLE)")
    model.punch(this.first, this.n)
  }
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
  range.map(([a, n]) => new Punch(a, n))
]

/** The property: any command sequence keeps kernel and model in agreement. */
export function modelProperty(backing: Backing, mutants: readonly K.KernelMutant[] = [], maxCommands = 40) {
  return fc.property(fc.boolean(), fc.commands(commands, { maxCommands, size: "max" }), (async, cmds) => {
    const { model, real } = setup(backing, async, mutants)
    const w: World = { model, real, waiting: new Map() }
    fc.modelRun(() => ({ model: w, real: w }), cmds)
  })
}
