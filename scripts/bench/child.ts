// Runs one bench case in a fresh node process (scripts/bench/case.ts) and returns its row.
import { spawnSync } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { AllocationReport } from "./allocs.ts"
import type { CaseRow } from "./cases.ts"

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

export function runCase(name: string, params: Record<string, unknown> = {}): CaseRow {
  const r = spawnSync(
    process.execPath,
    [
      "--expose-gc",
      "--max-old-space-size=8192",
      "--import",
      "tsx",
      join(root, "scripts/bench/case.ts"),
      name,
      JSON.stringify(params)
    ],
    { cwd: root, encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "inherit"] }
  )
  if (r.status !== 0) throw new Error(`bench case ${name} failed (exit ${r.status})`)
  const last = r.stdout.trim().split("\n").pop()!
  return JSON.parse(last) as CaseRow
}

/** The allocation sampling of W1 or W2 (scripts/bench/allocs.ts) in a fresh process. */
export function runAllocs(workload: "W1" | "W2"): AllocationReport {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(root, "scripts/bench/allocs.ts"), workload, "20000000", "--json"],
    { cwd: root, encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "inherit"] }
  )
  if (r.status !== 0) throw new Error(`allocation sampling of ${workload} failed (exit ${r.status})`)
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as AllocationReport
}
