// The C reference (bench/ref.c): built with `cc -O2` into a temporary directory when `cc` is on
// the PATH, and run beside rwpsim on the same machine.
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface CRun {
  readonly workload: string
  readonly accesses: number
  readonly rwp_faults: number
  readonly missing_faults: number
  readonly tlb_hits: number
  readonly tlb_misses: number
  readonly cold_per_cycle: readonly number[]
  readonly seconds: number
}

export interface CReference {
  readonly cc: string
  /** Median of `runs` runs, with every run's seconds. */
  run(workload: "W1" | "W2", accesses: number, runs: number): { median: CRun; seconds: readonly number[] }
  dispose(): void
}

/** null when there is no C compiler (the bench then reports rwpsim alone, without ratios). */
export function buildReference(source: string): CReference | null {
  const version = spawnSync("cc", ["--version"], { encoding: "utf8" })
  if (version.error !== undefined || version.status !== 0) return null
  const dir = mkdtempSync(join(tmpdir(), "rwpsim-bench-"))
  const exe = join(dir, "ref")
  const built = spawnSync("cc", ["-O2", "-o", exe, source], { encoding: "utf8" })
  if (built.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`cc -O2 ${source} failed:\n${built.stderr}`)
  }
  return {
    cc: (version.stdout.split("\n")[0] ?? "cc").trim(),
    run(workload, accesses, runs) {
      const all: CRun[] = []
      for (let i = 0; i < runs; i++) {
        const r = spawnSync(exe, [workload, String(accesses)], { encoding: "utf8" })
        if (r.status !== 0) throw new Error(`${exe} ${workload} ${accesses}: exit ${r.status}\n${r.stderr}`)
        all.push(JSON.parse(r.stdout) as CRun)
      }
      const sorted = [...all].sort((a, b) => a.seconds - b.seconds)
      return { median: sorted[Math.floor(sorted.length / 2)]!, seconds: all.map((r) => r.seconds) }
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
