/**
 * The zod schema of scenario files (../../../../shared/spec/scenario-format.md), input side as
 * written by users, output side in canonical form with every default filled:
 *
 * - sizes are bytes, durations integer ns, percentages numbers in [0, 1], bandwidths bytes/s;
 * - addresses are `{ base: string | null, offset }` (`base` names a mapping; the runner resolves it);
 * - flags are `{ names: string[] }` (constant names, mapped to bits by the runner) or `{ raw: bits }`;
 *   ioctl sets are normalised to the man pages' `_UFFDIO_*` names;
 * - `steps` is always a list (`[]` without steps) of `{ op, args, expect }`: `op` is the key of
 *   `{ OP: ARGS }`, `args` the arguments without `expect`, `expect` the step's expectation or
 *   undefined (the step must succeed). `Step` is a union discriminated on `op`, so a runner does
 *   `switch (step.op) { case "mmap": step.args.length ... }`;
 * - `expect.invariants` is always a list: "all" is expanded, and the default is every invariant for
 *   a run with a workload and none for a script; metric bounds are `{ min?, max? }` (exact: both);
 * - `machine.kernel.config` keeps only the options given, for the sim to check against the arch.
 *
 * Cross-file checks that need the whole scenario (unique `as` names, references to names, vCPU
 * numbers below `machine.vcpus`) are in the top-level check, with the path of the offending field.
 */
import * as z from "zod"
import { expectSection, INVARIANTS } from "./expect.ts"
import { machine } from "./machine.ts"
import { expected } from "./messages.ts"
import { ONLY_VALID, strict } from "./strict.ts"
import { type Step, step } from "./steps.ts"
import type { Address } from "./values.ts"
import { workload } from "./workload.ts"

const MAX_SEED = Number.MAX_SAFE_INTEGER

const SEED_WHAT = "a seed: an integer from 0 to 2^53-1"

const scenarioFields = strict(
  {
    name: z
      .string({ error: expected("a name: a short human title") })
      .min(1, { error: expected("a non-empty name") })
      .meta({ description: "A short human title. Required." }),
    description: z
      .string({ error: expected("a description (a string)") })
      .optional()
      .meta({ description: "Optional." }),
    seed: z
      .int({ error: expected(SEED_WHAT) })
      .min(0, { error: expected(SEED_WHAT) })
      .max(MAX_SEED, { error: expected(SEED_WHAT) })
      .default(0)
      .meta({ description: "Seed of the run's PRNG, 0 to 2^53-1; --seed N overrides it. Default: 0." }),
    machine: machine.prefault({}).meta({ description: "The simulated machine. Default: x86_64, 1 vCPU, 4KiB pages." }),
    steps: z
      .array(step, { error: expected("a list of steps") })
      .optional()
      .meta({
        description: "A script of operations, run in order. Optional (a scenario has steps, a workload or both)."
      }),
    workload: workload
      .optional()
      .meta({ description: "A tracking run. Optional (a scenario has steps, a workload or both)." }),
    schedule: z
      .array(
        z.int({ error: expected("a scheduler choice (an integer >= 0)") }).min(0, {
          error: expected("a scheduler choice (an integer >= 0)")
        }),
        { error: expected("a list of scheduler choices") }
      )
      .default([])
      .meta({
        description:
          "Recorded scheduler choices (indices, written by rwpsim when it shrinks a failure); used in order, then the seed decides. Default: []."
      }),
    expect: expectSection.prefault({}).meta({
      description:
        "What must hold at the end of the run. Default: no vCPU left blocked (and every invariant, for workloads)."
    })
  },
  "a scenario: a mapping with name and steps or workload"
)

type Fields = z.output<typeof scenarioFields>
type Issue = { path: (string | number)[]; message: string }

/** What a name given with `as:` (or implied by a workload) stands for. */
type NameKind = "file" | "mapping" | "userfaultfd" | "storage"

interface Declared {
  readonly kind: NameKind
  readonly where: string
}

/** The names a workload sets up before the steps run (spec "Top level"). */
function workloadNames(fields: Fields): Map<string, Declared> {
  const names = new Map<string, Declared>()
  if (fields.workload === undefined) return names
  const where = "the workload"
  if (fields.workload.memory.backing !== "anon") {
    names.set("guest", { kind: "file", where })
    names.set("io_mem", { kind: "mapping", where })
  }
  names.set("guest_mem", { kind: "mapping", where })
  names.set("uffd", { kind: "userfaultfd", where })
  return names
}

const DECLARES: Partial<Record<Step["op"], NameKind>> = {
  memfd_create: "file",
  mmap: "mapping",
  userfaultfd: "userfaultfd"
}

function pathText(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("")
}

/** Each name reference of a step: [path below the op, name, kinds it may be]. */
function references(s: Step): [(string | number)[], string, readonly NameKind[]][] {
  const refs: [(string | number)[], string, readonly NameKind[]][] = []
  const walk = (value: unknown, path: (string | number)[]) => {
    if (value === null || typeof value !== "object") return
    if (isAddress(value)) {
      if (value.base !== null) refs.push([path, value.base, ["mapping"]])
      return
    }
    for (const [k, v] of Object.entries(value)) walk(v, [...path, Array.isArray(value) ? Number(k) : k])
  }
  const args = s.args as Record<string, unknown>
  if (typeof args.fd === "string") refs.push([["fd"], args.fd, s.op === "mmap" ? ["file"] : ["file", "userfaultfd"]])
  if (typeof args.storage === "string") refs.push([["storage"], args.storage, ["storage"]])
  if (s.op === "UFFDIO_COPY" && "storage" in s.args.src)
    refs.push([["src", "storage"], s.args.src.storage, ["storage"]])
  walk(args, [])
  if (s.expect !== undefined) walk(s.expect, ["expect"])
  return refs
}

function isAddress(v: object): v is Address {
  const keys = Object.keys(v)
  return keys.length === 2 && "base" in v && "offset" in v
}

const VCPU_OPS: ReadonlySet<Step["op"]> = new Set(["read", "write", "vcpu", "wait"])

/** Names: one namespace, unique, and every reference names something of the right kind. */
function checkNames(fields: Fields, steps: readonly Step[]): Issue[] {
  const issues: Issue[] = []
  const declared = workloadNames(fields)
  steps.forEach((s, i) => {
    const kind = DECLARES[s.op]
    if (kind === undefined) return
    const asName = (s.args as { as: string }).as
    const path = ["steps", i, s.op, "as"]
    const prior = declared.get(asName)
    if (prior !== undefined) {
      issues.push({
        path,
        message: `the name "${asName}" is already given by ${prior.where} (files, mappings, userfaultfds and storage objects share one namespace)`
      })
    } else declared.set(asName, { kind, where: pathText(path) })
  })
  // Storage objects are named by their first pwrite, and share the namespace too.
  steps.forEach((s, i) => {
    if (s.op !== "pwrite") return
    const prior = declared.get(s.args.storage)
    if (prior === undefined)
      declared.set(s.args.storage, { kind: "storage", where: pathText(["steps", i, "pwrite", "storage"]) })
  })
  const known = (kinds: readonly NameKind[]) => [...declared].filter(([, d]) => kinds.includes(d.kind)).map(([n]) => n)
  steps.forEach((s, i) => {
    for (const [sub, ref, kinds] of references(s)) {
      const d = declared.get(ref)
      const path = ["steps", i, s.op, ...sub]
      const what = kinds.map((k) => (k === "storage" ? "storage object" : k)).join(" or ")
      if (d === undefined) {
        if (kinds.includes("storage")) continue // never written: reads as zeros
        const names = known(kinds)
        issues.push({
          path,
          message: `no ${what} named "${ref}"${names.length > 0 ? `; ${what}s: ${names.join(", ")}` : ""}`
        })
      } else if (!kinds.includes(d.kind)) {
        issues.push({
          path,
          message: `"${ref}" is a ${d.kind === "storage" ? "storage object" : d.kind} (${d.where}), expected a ${what}`
        })
      }
    }
  })
  return issues
}

/** vCPU numbers, page multiples and keys that only one form of run has. */
function checkMachineFit(fields: Fields, steps: readonly Step[]): Issue[] {
  const issues: Issue[] = []
  const { vcpus, page_size } = fields.machine
  steps.forEach((s, i) => {
    if (!VCPU_OPS.has(s.op)) return
    const vcpu = (s.args as { vcpu: number }).vcpu
    if (vcpu >= vcpus) {
      issues.push({
        path: ["steps", i, s.op, "vcpu"],
        message: `expected a vCPU number below machine.vcpus (${vcpus}), got ${vcpu}`
      })
    }
  })
  const w = fields.workload
  if (w !== undefined) {
    const unit = w.memory.backing === "hugetlb" ? w.memory.hugepage_size : page_size
    if (w.memory.size % unit !== 0) {
      issues.push({
        path: ["workload", "memory", "size"],
        message: `expected a multiple of the ${w.memory.backing === "hugetlb" ? "huge page" : "page"} size (${unit}), got ${w.memory.size}`
      })
    }
    if (w.guest.per_vcpu !== undefined && w.guest.per_vcpu.length !== vcpus) {
      issues.push({
        path: ["workload", "guest", "per_vcpu"],
        message: `expected one phase list per vCPU (machine.vcpus is ${vcpus}), got ${w.guest.per_vcpu.length}`
      })
    }
  } else {
    for (const key of ["max_stall", "tracker"] as const) {
      if (fields.expect[key] !== undefined) {
        issues.push({
          path: ["expect", key],
          message: `expect.${key} is for runs with a workload; this scenario has none`
        })
      }
    }
  }
  if (fields.steps === undefined && w === undefined) {
    issues.push({ path: [], message: "a scenario needs steps, a workload or both" })
  }
  return issues
}

/** The scenario schema: validates a whole file's value and returns it in canonical form. */
export const scenarioSchema = scenarioFields
  .superRefine((_, ctx) => {
    const steps = ctx.value.steps ?? []
    for (const issue of [...checkMachineFit(ctx.value, steps), ...checkNames(ctx.value, steps)]) {
      ctx.issues.push({ code: "custom", input: ctx.value, path: issue.path, message: issue.message })
    }
  }, ONLY_VALID)
  .transform((f) => ({
    name: f.name,
    description: f.description,
    seed: f.seed,
    machine: f.machine,
    steps: f.steps ?? [],
    workload: f.workload,
    schedule: f.schedule,
    expect: {
      ...f.expect,
      invariants: f.expect.invariants ?? (f.workload === undefined ? [] : [...INVARIANTS])
    }
  }))
  .meta({
    title: "rwpsim scenario",
    description: "One rwpsim scenario (YAML or JSON): a script of steps, a workload run, or both."
  })

/** A parsed scenario, every default filled (see the top of this file). */
export type Scenario = z.output<typeof scenarioSchema>
/** A scenario as written (what the JSON Schema describes). */
export type ScenarioInput = z.input<typeof scenarioSchema>
export type ScenarioExpect = Scenario["expect"]
