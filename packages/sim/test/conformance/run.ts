/**
 * Conformance harness: each case is a step scenario (a plain object), serialised to JSON, validated
 * with parseScenario and run with runScenario, exactly as an outside suite would run it through
 * `rwpsim run --json`. The scenario's own step expectations do the checking; a test asserts only
 * `ok`, or for a negative case `ok === false` and the index of the step that failed.
 */
import { formatScenarioError, parseScenario, type Scenario as LoadedScenario } from "@rwpsim/scenario"
import { runScenario } from "@rwpsim/sim"
import { expect } from "vitest"

export type Step = Record<string, unknown>

export interface Scenario {
  name: string
  description?: string
  seed?: number
  machine?: Record<string, unknown>
  steps: Step[]
  expect?: Record<string, unknown>
}

export interface Failure {
  step: number | null
  op: string | null
  invariant: string | null
  message: string
}

export interface RunResult {
  ok: boolean
  failures: Failure[]
  metrics: Record<string, number | string>
  trace_sha256?: string
}

// runScenario as the brief specifies it; the cast keeps this file independent of the exact
// exported type (a result or a promise of one).
const run = runScenario as unknown as (scenario: LoadedScenario, options: RunOptions) => RunResult | Promise<RunResult>

export interface RunOptions {
  seed?: number
  /** receives the trace's JSON lines */
  sink?: { write(line: string): void }
}

/** Validate a scenario text (YAML or JSON, chosen by the file name) and run it. */
export async function runText(text: string, file: string, options: RunOptions = {}): Promise<RunResult> {
  const parsed = parseScenario(text, file)
  if (!parsed.ok) throw new Error(`${file}: invalid scenario:\n${parsed.errors.map(formatScenarioError).join("\n")}`)
  return await run(parsed.scenario, options)
}

/** Run a scenario object through the JSON loader. */
export function runCase(s: Scenario, options: RunOptions = {}): Promise<RunResult> {
  return runText(JSON.stringify(s, null, 2), "conformance.json", options)
}

/** The scenario must pass: every step expectation held and no vCPU is left hung. */
export async function expectPass(s: Scenario): Promise<void> {
  const r = await runCase(s)
  expect(r.failures, s.name).toEqual([])
  expect(r.ok, s.name).toBe(true)
}

/** The scenario must fail at exactly step `step` (and `op`, when given); proves a case can fail. */
export async function expectFailAt(s: Scenario, step: number, op?: string): Promise<void> {
  const r = await runCase(s)
  expect(r.ok, s.name).toBe(false)
  expect(r.failures.length, s.name).toBeGreaterThan(0)
  expect(r.failures[0].step, `${s.name}: ${r.failures[0].message}`).toBe(step)
  if (op !== undefined) expect(r.failures[0].op, s.name).toBe(op)
}

/** Index of the first step whose op is `op` at or after `from` (for negative cases). */
export function stepIndex(steps: Step[], op: string, from = 0): number {
  for (let i = from; i < steps.length; i++) if (Object.keys(steps[i])[0] === op) return i
  throw new Error(`no ${op} step at or after ${from}`)
}

// ---------------------------------------------------------------------------------------------
// Memory backings, as the selftests' MEM_ANON / MEM_SHMEM / MEM_HUGETLB (rwp-semantics.md §16):
// for hugetlb the test "page" is the 2 MiB huge page.

export type Backing = "anon" | "shmem" | "hugetlb"
export const BACKINGS: readonly Backing[] = ["anon", "shmem", "hugetlb"]
export const FILE_BACKINGS: readonly Backing[] = ["shmem", "hugetlb"]

export const KiB = 1024
export const MiB = 1024 * KiB

export interface Mem {
  backing: Backing
  /** mapping name */
  name: string
  /** memfd name (shmem, hugetlb) */
  file: string
  /** bytes of one test page */
  page: number
  /** address of test page k, as `name+0xOFF` */
  at(k: number): string
  /** byte length of n test pages */
  len(n: number): number
  /** range of n test pages from page k */
  range(k: number, n: number): { start: string; len: number }
  /** steps that create the mapping of n test pages */
  create(n: number, opts?: { prot?: unknown; flags?: unknown }): Step[]
}

export function mem(backing: Backing, name = "m", file = `${name}_file`): Mem {
  const page = backing === "hugetlb" ? 2 * MiB : 4 * KiB
  const at = (k: number) => (k === 0 ? name : `${name}+0x${(k * page).toString(16)}`)
  return {
    backing,
    name,
    file,
    page,
    at,
    len: (n) => n * page,
    range: (k, n) => ({ start: at(k), len: n * page }),
    create(n, opts = {}) {
      const extra = {
        ...(opts.prot === undefined ? {} : { prot: opts.prot }),
        ...(opts.flags === undefined ? {} : { flags: opts.flags })
      }
      if (backing === "anon") return [{ mmap: { as: name, length: n * page, ...extra } }]
      const memfd = backing === "hugetlb" ? { as: file, size: n * page, hugetlb: "2MiB" } : { as: file, size: n * page }
      return [{ memfd_create: memfd }, { mmap: { as: name, length: n * page, fd: file, ...extra } }]
    }
  }
}

/** The word the populate steps write to test page k. */
export const word = (k: number): number => 1000 + k

/** vCPU `vcpu` writes word(k) to each of the first n test pages (before any registration). */
export function populate(m: Mem, n: number, vcpu = 0, from = 0): Step[] {
  const steps: Step[] = []
  for (let k = from; k < from + n; k++) steps.push({ write: { vcpu, addr: m.at(k), value: word(k) } })
  return steps
}

export const RWP = "UFFD_FEATURE_RWP"
export const RWP_ASYNC = "UFFD_FEATURE_RWP_ASYNC"
export const MODE_RWP = "UFFDIO_REGISTER_MODE_RWP"
export const MODE_MISSING = "UFFDIO_REGISTER_MODE_MISSING"
export const MODE_WP = "UFFDIO_REGISTER_MODE_WP"
export const MODE_MINOR = "UFFDIO_REGISTER_MODE_MINOR"
export const PROTECT = ["UFFDIO_RWPROTECT_MODE_RWP"]
export const RESOLVE: string[] = []
export const DONTWAKE = ["UFFDIO_RWPROTECT_MODE_DONTWAKE"]
export const FLAG_RWP = "UFFD_PAGEFAULT_FLAG_RWP"
export const FLAG_WRITE = "UFFD_PAGEFAULT_FLAG_WRITE"
export const FLAG_WP = "UFFD_PAGEFAULT_FLAG_WP"
export const FLAG_MINOR = "UFFD_PAGEFAULT_FLAG_MINOR"
export const PAGEFAULT = "UFFD_EVENT_PAGEFAULT"

/** userfaultfd `fd` (non-blocking), UFFDIO_API with `features`. */
export function uffd(features: unknown, fd = "u"): Step[] {
  return [{ userfaultfd: { as: fd, flags: ["O_CLOEXEC", "O_NONBLOCK"] } }, { UFFDIO_API: { fd, features } }]
}

/** uffd(features) then UFFDIO_REGISTER of the first n test pages with `mode`. */
export function registered(m: Mem, n: number, features: unknown, mode: unknown = [MODE_RWP], fd = "u"): Step[] {
  return [...uffd(features, fd), { UFFDIO_REGISTER: { fd, range: m.range(0, n), mode } }]
}

export function rwprotect(
  m: Mem,
  k: number,
  n: number,
  mode: unknown,
  expect?: Record<string, unknown>,
  fd = "u"
): Step {
  return { UFFDIO_RWPROTECT: { fd, range: m.range(k, n), mode, ...(expect === undefined ? {} : { expect }) } }
}

export function pagemap(addr: string, expect: Record<string, boolean>): Step {
  return { pagemap: { addr, expect } }
}

export function read(vcpu: number, addr: string, expect?: Record<string, unknown>): Step {
  return { read: { vcpu, addr, ...(expect === undefined ? {} : { expect }) } }
}

export function write(vcpu: number, addr: string, value: number, expect?: Record<string, unknown>): Step {
  return { write: { vcpu, addr, value, ...(expect === undefined ? {} : { expect }) } }
}

export function readMsg(expect: Record<string, unknown>, fd = "u"): Step {
  return { read_msg: { fd, expect } }
}

/** The message of a sync RWP fault on `addr` (read: no WRITE flag; write: WRITE flag). */
export function rwpMsg(addr: string, kind: "read" | "write" = "read", fd = "u"): Step {
  return kind === "read"
    ? readMsg(
        {
          event: PAGEFAULT,
          flags_include: [FLAG_RWP],
          flags_exclude: [FLAG_WRITE, FLAG_WP, FLAG_MINOR],
          address: addr
        },
        fd
      )
    : readMsg(
        {
          event: PAGEFAULT,
          flags_include: [FLAG_RWP, FLAG_WRITE],
          flags_exclude: [FLAG_WP, FLAG_MINOR],
          address: addr
        },
        fd
      )
}

/** The message of a MISSING fault on `addr`: no WP, MINOR or RWP flag (userfaultfd.2). */
export function missingMsg(addr: string, fd = "u"): Step {
  return readMsg({ event: PAGEFAULT, flags_exclude: [FLAG_RWP, FLAG_WP, FLAG_MINOR], address: addr }, fd)
}

export const noMsg = (fd = "u"): Step => readMsg({ errno: "EAGAIN" }, fd)

export function vcpuState(vcpu: number, state: "running" | "blocked" | "idle", blockedOn?: string): Step {
  return { vcpu: { vcpu, expect: { state, ...(blockedOn === undefined ? {} : { blocked_on: blockedOn }) } } }
}

export function setMode(
  args: { enable?: unknown; disable?: unknown },
  expect?: Record<string, unknown>,
  fd = "u"
): Step {
  return { UFFDIO_SET_MODE: { fd, ...args, ...(expect === undefined ? {} : { expect }) } }
}

export function scan(args: Record<string, unknown>): Step {
  return { PAGEMAP_SCAN: args }
}
