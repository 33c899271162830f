// Test helpers for the kernel package's own unit tests: a Kernel for a machine (the hardware facts come
// from @rwpsim/hw, as the scenario layer builds them), one mapping per backing (anon, shmem,
// hugetlb 2 MiB), userfaultfd set-up, accesses by tasks, and read-outs of internal state (PTE flags,
// VMA flags, the userfaultfd context) that step scenarios cannot see.
import { type Arch, type CpuFeatures, default_kernel_config, detect_cpu_features, type KernelConfig } from "@rwpsim/hw"
import { expect } from "vitest"
import type { UffdCtx } from "../src/fs/userfaultfd_ctx.ts"
import { isKernelMutant, Kernel, type PmScanArg, type PmScanResult, type SysResult } from "../src/index.ts"
import { F_PRESENT, F_PROTNONE, F_SWAP, F_UFFD, PTE_LEVEL, Slot } from "../src/mm/pgtable.ts"
import type { Vma } from "../src/mm/vma.ts"
import * as U from "../src/uapi.ts"

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB
export const PAGE = 4 * KiB
export const HPAGE = 2 * MiB

/** Tasks: vCPUs 0 and 1 have TLBs; task 2 is a VMM thread (no TLB of its own in the model). */
export const VCPU0 = 0
export const VCPU1 = 1
export const VMM = 2

// Feature and mode shorthands
export const RWP = U.UFFD_FEATURE_RWP
export const RWP_ASYNC = U.UFFD_FEATURE_RWP_ASYNC
export const MODE_MISSING = U.UFFDIO_REGISTER_MODE_MISSING
export const MODE_WP = U.UFFDIO_REGISTER_MODE_WP
export const MODE_MINOR = U.UFFDIO_REGISTER_MODE_MINOR
export const MODE_RWP = U.UFFDIO_REGISTER_MODE_RWP
export const PROTECT = U.UFFDIO_RWPROTECT_MODE_RWP
export const RESOLVE = 0
export const DONTWAKE = U.UFFDIO_RWPROTECT_MODE_DONTWAKE
export const RW = U.PROT_READ | U.PROT_WRITE

export interface MachineOpts {
  arch?: Arch
  isa_extensions?: string[]
  /** [major, minor]; default 7.2 */
  kernel?: readonly [number, number]
  config?: Partial<KernelConfig>
  page_size?: number
  vcpus?: number
}

/** detect_cpu_features() for a machine; x86_64, 4 KiB pages, Linux 7.2, the arch's default config. */
export function machine(o: MachineOpts = {}): CpuFeatures {
  const arch = o.arch ?? "x86_64"
  const [major, minor] = o.kernel ?? [7, 2]
  return detect_cpu_features({
    arch,
    isa_extensions: o.isa_extensions ?? [],
    page_size: o.page_size ?? PAGE,
    kernel: { major, minor, config: { ...default_kernel_config(arch), ...o.config } }
  })
}

/**
 * Mutants switched on for every kernel these tests make: RWPSIM_KERNEL_MUTANT=name[,name] runs the
 * suite against a deliberately broken kernel (src/mutants.ts), to check that some test catches it.
 */
const MUTANTS = (process.env.RWPSIM_KERNEL_MUTANT ?? "").split(",").filter(isKernelMutant)

/** A fresh simulated kernel: two vCPUs with 64-entry 4-way TLBs. */
export function newKernel(o: MachineOpts = {}): Kernel {
  return new Kernel(machine(o), { vcpus: o.vcpus ?? 2, tlb: { entries: 64, ways: 4 }, mutants: MUTANTS })
}

// ---- results -------------------------------------------------------------------------------

/** Asserts success and returns the result with its fields. */
export function ok<T extends object>(r: SysResult<T>): { readonly ok: true } & T {
  if (!r.ok) expect.fail(`expected success, got ${r.errno}`)
  return r as { readonly ok: true } & T
}

/** Asserts failure with exactly `errno` (and nothing else in the result). */
export function fails(r: SysResult<object>, errno: string): void {
  expect(r).toEqual({ ok: false, errno })
}

// ---- mappings --------------------------------------------------------------------------------

export type Backing = "anon" | "shmem" | "hugetlb"
export const BACKINGS: readonly Backing[] = ["anon", "shmem", "hugetlb"]

export interface Mapping {
  readonly backing: Backing
  readonly k: Kernel
  readonly addr: number
  readonly len: number
  /** Bytes per page of the mapping: the base page, or the huge page for hugetlb. */
  readonly pb: number
  readonly pages: number
  /** The memfd behind it, -1 for anonymous memory. */
  readonly fd: number
  /** Address of page i. */
  at(i: number): number
  /** Address one past the last page. */
  readonly end: number
}

export interface MapOpts {
  prot?: number
  /** MAP_PRIVATE of the memfd instead of MAP_SHARED */
  private?: boolean
  /** Map this existing memfd (a second view of the same file) */
  fd?: number
  /** MAP_FIXED at this address */
  addr?: number
}

export function pageBytes(b: Backing): number {
  return b === "hugetlb" ? HPAGE : PAGE
}

/** mmap of `pages` pages of the backing (anon private, or a new memfd mapped shared). */
export function map(k: Kernel, backing: Backing, pages: number, o: MapOpts = {}): Mapping {
  const pb = pageBytes(backing)
  const len = pages * pb
  const prot = o.prot ?? RW
  const fixed = o.addr === undefined ? 0 : U.MAP_FIXED
  let fd = -1
  let addr: number
  if (backing === "anon") {
    addr = ok(k.mmap(o.addr ?? 0, len, prot, U.MAP_PRIVATE | U.MAP_ANONYMOUS | fixed, -1, 0)).addr
  } else {
    fd = o.fd ?? ok(k.memfd_create(`mem${k.mm.next_file_id}`, len, backing === "hugetlb" ? HPAGE : undefined)).fd
    const type = o.private ? U.MAP_PRIVATE : U.MAP_SHARED
    addr = ok(k.mmap(o.addr ?? 0, len, prot, type | fixed, fd, 0)).addr
  }
  return { backing, k, addr, len, pb, pages, fd, at: (i) => addr + i * pb, end: addr + len }
}

// ---- userfaultfd ------------------------------------------------------------------------------

/** userfaultfd(O_NONBLOCK | flags) + UFFDIO_API(features), asserting both succeed. */
export function uffd(k: Kernel, features: number = RWP, flags = 0): number {
  const fd = ok(k.userfaultfd(U.O_NONBLOCK | flags)).fd
  ok(k.uffdio_api(fd, U.UFFD_API, features))
  return fd
}

/** The kernel's userfaultfd context behind fd. */
export function ctxOf(k: Kernel, fd: number): UffdCtx {
  const e = k.mm.fds.get(fd)
  if (e === undefined || e.kind !== "uffd") expect.fail(`fd ${fd} is not a userfaultfd`)
  return e.ctx
}

export interface Setup {
  readonly k: Kernel
  readonly m: Mapping
  readonly fd: number
}

export interface SetupOpts {
  pages?: number
  features?: number
  mode?: number
  /** write value i + 1 to page i first (default true) */
  populate?: boolean
  /** protect the whole mapping after registering (default false) */
  protect?: boolean
  machine?: MachineOpts
  uffd_flags?: number
}

/** A kernel, a mapping of the backing, a userfaultfd registered over all of it. */
export function setup(backing: Backing, o: SetupOpts = {}): Setup {
  const k = newKernel(o.machine)
  const m = map(k, backing, o.pages ?? 4)
  if (o.populate ?? true) populate(m)
  const fd = uffd(k, o.features ?? RWP, o.uffd_flags ?? 0)
  ok(k.uffdio_register(fd, m.addr, m.len, o.mode ?? MODE_RWP))
  if (o.protect) ok(k.uffdio_rwprotect(fd, m.addr, m.len, PROTECT))
  return { k, m, fd }
}

/** Writes value i + 1 (or values[i]) to every page through the VMM task (no TLB is loaded). */
export function populate(m: Mapping, values?: readonly number[]): void {
  for (let i = 0; i < m.pages; i++) {
    expect(m.k.access(VMM, m.at(i), true, values?.[i] ?? i + 1, true)).toBe(U.ACCESS_DONE)
  }
}

// ---- accesses --------------------------------------------------------------------------------

/** One read by `task`: the ACCESS_* code and, when done, the word read. */
export function read(k: Kernel, task: number, addr: number, user = true): { code: number; value: number } {
  const code = k.access(task, addr, false, 0, user)
  return { code, value: code === U.ACCESS_DONE ? k.access_value : -1 }
}

/** A read that must complete; returns the word. */
export function readOk(k: Kernel, task: number, addr: number): number {
  const r = read(k, task, addr)
  expect(r.code, `read of 0x${addr.toString(16)} by task ${task}`).toBe(U.ACCESS_DONE)
  return r.value
}

export function write(k: Kernel, task: number, addr: number, value: number, user = true): number {
  return k.access(task, addr, true, value, user)
}

/** A read of every page through the VMM task; the words. */
export function contents(m: Mapping, task = VMM): number[] {
  const out: number[] = []
  for (let i = 0; i < m.pages; i++) out.push(readOk(m.k, task, m.at(i)))
  return out
}

/** Drains the next message, which must exist. */
export function nextMsg(k: Kernel, fd: number): U_Msg {
  const r = k.read_msg(fd)
  if (!r.ok) expect.fail(`read_msg: ${"errno" in r ? r.errno : "blocked"}`)
  return r.msg
}
type U_Msg = { readonly event: number; readonly flags: number; readonly address: number; readonly ptid?: number }

/** The message queue is empty (a non-blocking read gives EAGAIN). */
export function noMsg(k: Kernel, fd: number): void {
  expect(k.read_msg(fd)).toEqual({ ok: false, errno: "EAGAIN" })
}

// ---- internal state ---------------------------------------------------------------------------

export function vmaAt(k: Kernel, addr: number): Vma | null {
  return k.mm.vmas.lookup(addr)
}

/** The leaf entry's flags (F_* of mm/pgtable.ts) mapping addr, 0 when none. */
export function pteFlags(k: Kernel, addr: number): number {
  const v = k.mm.vmas.lookup(addr)
  if (v === null) return 0
  const s = new Slot()
  return k.mm.pt.lookup(addr, k.mm.level(v), false, s) ? s.t.flags[s.i]! : 0
}

/** The level (PTE_LEVEL, PMD_LEVEL, PUD_LEVEL) of the leaf entry mapping addr, -1 when none. */
export function pteLevel(k: Kernel, addr: number): number {
  const v = k.mm.vmas.lookup(addr)
  if (v === null) return -1
  const s = new Slot()
  if (!k.mm.pt.lookup(addr, k.mm.level(v), false, s) || s.t.flags[s.i] === 0) return -1
  return s.level
}

/** The frame behind a present entry (pfn), or the swap slot of a swap entry. */
export function pteVal(k: Kernel, addr: number): number {
  const v = k.mm.vmas.lookup(addr)
  if (v === null) return -1
  const s = new Slot()
  return k.mm.pt.lookup(addr, k.mm.level(v), false, s) ? s.t.val[s.i]! : -1
}

/** An RWP-protected entry: PAGE_NONE (protnone) + the uffd bit, present or a swap entry with the bit. */
export function isRwpProtected(k: Kernel, addr: number): boolean {
  const f = pteFlags(k, addr)
  if (f & F_PRESENT) return (f & (F_PROTNONE | F_UFFD)) === (F_PROTNONE | F_UFFD)
  return (f & (F_SWAP | F_UFFD)) === (F_SWAP | F_UFFD)
}

/** Whether vCPU `task`'s TLB caches a translation of addr. */
export function tlbHas(k: Kernel, task: number, addr: number): boolean {
  return k.mm.tlbs[task]!.probe(Math.floor(addr / k.page_size))
}

export { PTE_LEVEL }

// ---- PAGEMAP_SCAN ----------------------------------------------------------------------------

/** PAGEMAP_SCAN over [start, end) with an unlimited vector unless `o` says otherwise. */
export function scan(k: Kernel, start: number, end: number, o: Partial<PmScanArg> = {}): PmScanResult {
  return vecAgrees(
    k.pagemap_scan({
      size: U.PAGEMAP_SCAN_ARG_SIZE,
      flags: 0,
      start,
      end,
      vec_len: Number.POSITIVE_INFINITY,
      max_pages: 0,
      category_inverted: 0,
      category_mask: 0,
      category_anyof_mask: 0,
      return_mask: 0,
      ...o
    })
  )
}

/** Every scan of the tests checks that the buffer (`vec`) and the objects (`regions`) agree. */
function vecAgrees(r: PmScanResult): PmScanResult {
  if (!r.ok) return r
  expect(r.vec.length).toBe(3 * r.count)
  const fromVec = []
  for (let o = 0; o < r.vec.length; o += 3)
    fromVec.push({ start: r.vec[o], end: r.vec[o + 1], categories: r.vec[o + 2] })
  expect(r.regions).toEqual(fromVec)
  expect(r.regions).toBe(r.regions) // built once
  return r
}

/** The regions of a successful scan. */
export function regions(r: PmScanResult): { start: number; end: number; categories: number }[] {
  return ok(r).regions.map((x) => ({ ...x }))
}

/** The categories the scan gives one page (mask 0: every page matches; return all categories). */
export function categoriesOf(k: Kernel, addr: number): number {
  const r = ok(scan(k, addr, addr + k.page_size, { return_mask: 0x3ff }))
  expect(r.regions.length).toBe(1)
  return r.regions[0]!.categories
}
