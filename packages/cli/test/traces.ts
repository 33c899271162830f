// Traces of bundled scenarios for the trace readers' tests, written once per test file into a
// temporary directory by the same code path as `rwpsim run --trace`.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { runFile } from "../src/commands/run.ts"

export const root = join(import.meta.dirname, "..", "..", "..")
export const dir = mkdtempSync(join(tmpdir(), "rwpsim-traces-"))

/** A step script: names, vCPUs, faults, eviction and MISSING + UFFDIO_COPY (92 events). */
export const SCRIPT = join(root, "scenarios", "vmm-workflow.yaml")
/** A small workload run: two vCPUs, tracker cycles, storage I/O. */
export const WORKLOAD = join(root, "packages", "cli", "test", "fixtures", "small-workload.yaml")

const made = new Map<string, string>()

/** The trace of `scenario` (optionally with another seed), generated on first use. */
export function traceOf(scenario: string, seed?: number): string {
  const key = `${scenario}@${seed ?? ""}`
  const have = made.get(key)
  if (have !== undefined) return have
  const path = join(dir, `${basename(scenario, ".yaml")}${seed === undefined ? "" : `-${seed}`}.jsonl`)
  const r = runFile(scenario, seed, path)
  if (r.exit === 2) throw new Error(`cannot run ${scenario}: ${r.stderr.join("; ")}`)
  made.set(key, path)
  return path
}
