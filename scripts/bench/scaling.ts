// The scaling runs of `npm run bench -- --scaling`: one workload run (the e2e case's guest: shmem,
// hot_cold 10% / 90%, 30% writes, access_ns 1000, RWP hot-scan every 1 s) per guest size at 4
// vCPUs, and per vCPU count at 4 GiB, each in a fresh process.
import type { CaseRow } from "./cases.ts"
import { runCase } from "./child.ts"

export const SIZES_GIB = [1, 4, 16, 64] as const
export const VCPUS = [1, 2, 4, 8, 16] as const

export interface ScalingRow {
  readonly size_gib: number
  readonly vcpus: number
  readonly row: CaseRow
}

export function runScaling(duration: string, say: (s: string) => void): ScalingRow[] {
  const done = new Map<string, ScalingRow>()
  const one = (size_gib: number, vcpus: number): ScalingRow => {
    const key = `${size_gib}/${vcpus}`
    const have = done.get(key)
    if (have !== undefined) return have
    say(`scaling: ${size_gib} GiB, ${vcpus} vCPUs, ${duration} virtual ...`)
    const row = runCase("workload", { size: `${size_gib}GiB`, vcpus, duration, strategy: "hot-scan" })
    say(
      `  ${(row.wall_ms / 1000).toFixed(1)} s wall, ${row.metrics === undefined ? "" : JSON.stringify(row.metrics).slice(0, 160)}`
    )
    const r = { size_gib, vcpus, row }
    done.set(key, r)
    return r
  }
  for (const s of SIZES_GIB) one(s, 4)
  for (const v of VCPUS) one(4, v)
  return [...done.values()]
}
