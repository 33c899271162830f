// Checks of a parsed scenario that need the simulator's knowledge (the arch's facts, the kernel's
// constant names): a failure here is an invalid scenario (exit 2), before anything runs.
import type { Scenario, ScenarioError } from "@rwpsim/scenario"
import { machineProblem } from "./machine.ts"
import { type FlagGroup, unknownNames } from "./script/constants.ts"

/** Which constant group each flags field of each op takes. */
const FLAG_FIELDS: Readonly<Record<string, Readonly<Record<string, FlagGroup>>>> = {
  mmap: { prot: "PROT_", flags: "MAP_" },
  mprotect: { prot: "PROT_" },
  fallocate: { mode: "FALLOC_FL_" },
  userfaultfd: { flags: "O_" },
  UFFDIO_API: { features: "UFFD_FEATURE_" },
  UFFDIO_REGISTER: { mode: "UFFDIO_REGISTER_MODE_" },
  UFFDIO_RWPROTECT: { mode: "UFFDIO_RWPROTECT_MODE_" },
  UFFDIO_WRITEPROTECT: { mode: "UFFDIO_WRITEPROTECT_MODE_" },
  UFFDIO_SET_MODE: { enable: "UFFD_FEATURE_", disable: "UFFD_FEATURE_" },
  UFFDIO_COPY: { mode: "UFFDIO_COPY_MODE_" },
  PAGEMAP_SCAN: {
    flags: "PM_SCAN_",
    category_mask: "PAGE_IS_",
    category_inverted: "PAGE_IS_",
    category_anyof_mask: "PAGE_IS_",
    return_mask: "PAGE_IS_"
  }
}

/** Flags fields inside `expect`. */
const EXPECT_FLAG_FIELDS: Readonly<Record<string, Readonly<Record<string, FlagGroup>>>> = {
  UFFDIO_API: { features: "UFFD_FEATURE_", features_include: "UFFD_FEATURE_", features_exclude: "UFFD_FEATURE_" },
  read_msg: { flags_include: "UFFD_PAGEFAULT_FLAG_", flags_exclude: "UFFD_PAGEFAULT_FLAG_" }
}

type FlagsValue = { names: readonly string[] } | { raw: number }
const isFlags = (v: unknown): v is FlagsValue => typeof v === "object" && v !== null && ("names" in v || "raw" in v)

export function validateScenario(
  scenario: Scenario,
  file: string,
  locate?: (path: readonly (string | number)[]) => { line: number; column: number } | undefined
): ScenarioError[] {
  const errors: ScenarioError[] = []
  const add = (path: (string | number)[], message: string) => {
    const at = locate?.(path)
    errors.push({
      _tag: "ScenarioError",
      file,
      path,
      message,
      ...(at === undefined ? {} : { line: at.line, column: at.column })
    })
  }
  const problem = machineProblem(scenario.machine)
  if (problem !== null) add(["machine"], problem)
  scenario.steps.forEach((s, i) => {
    const check = (fields: Readonly<Record<string, FlagGroup>> | undefined, obj: unknown, inExpect: boolean) => {
      if (fields === undefined || obj === undefined || obj === null) return
      for (const [field, prefix] of Object.entries(fields)) {
        const v = (obj as Record<string, unknown>)[field]
        if (!isFlags(v)) continue
        const bad = unknownNames(v, prefix)
        if (bad.length > 0) {
          const path = ["steps", i, s.op, ...(inExpect ? ["expect"] : []), field]
          add(path, `unknown ${prefix}* name${bad.length > 1 ? "s" : ""} ${bad.join(", ")}`)
        }
      }
    }
    check(FLAG_FIELDS[s.op], s.args, false)
    check(EXPECT_FLAG_FIELDS[s.op], s.expect, true)
  })
  return errors
}
