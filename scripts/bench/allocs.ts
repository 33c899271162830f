// Allocation sampling of the access bench (W1 or W2) through the real packages: V8's sampling heap
// profiler over run() only (after the setup), counting the objects GC has already collected too, so
// that every allocation shows, not only what is still alive at the end.
//   node --import tsx scripts/bench/allocs.ts W1 [accesses]
// Prints the bytes sampled per access and the allocation sites, heaviest first.
import { Session } from "node:inspector"
import { ACCESS_BENCH_DEFAULTS, type AccessBenchWorkload, prepareAccessBench } from "@rwpsim/sim"

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly selfSize: number
  readonly children: readonly ProfileNode[]
}

const post = <T>(s: Session, method: string, params?: object): Promise<T> =>
  new Promise((resolve, reject) => s.post(method, params, (e, r) => (e ? reject(e) : resolve(r as T))))

export interface AllocationReport {
  readonly workload: string
  readonly accesses: number
  readonly sampled_bytes: number
  readonly bytes_per_access: number
  /** Bytes outside the tracker's cycles (the accesses and their faults), per access. */
  readonly access_path_bytes_per_access: number
  /**
   * The same bytes per first-touch fault (the only accesses that leave the walk in line: their
   * slow path takes the address as a double, one heap number, 16 B, per fault).
   */
  readonly bytes_per_missing_fault: number
  readonly missing_faults: number
  readonly sampling_interval: number
  readonly sites: readonly { readonly site: string; readonly bytes: number; readonly per: Per }[]
}

type Per = "cycle" | "access"

/** Sites under a tracker cycle: the scan and its regions, the re-protect, the checker's sweeps. */
const CYCLE = /do_pagemap_scan|scanVma|scanTable|outputKey|checker\.js|uffdio_rwprotect|cycle \(/

const classify = (site: string): Per => (CYCLE.test(site) ? "cycle" : "access")

export async function allocationReport(workload: AccessBenchWorkload, accesses: number): Promise<AllocationReport> {
  const bench = prepareAccessBench({ ...ACCESS_BENCH_DEFAULTS, workload, accesses })
  const s = new Session()
  s.connect()
  const interval = 4096
  await post(s, "HeapProfiler.startSampling", {
    samplingInterval: interval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true
  })
  const result = bench.run()
  const { profile } = await post<{ profile: { head: ProfileNode } }>(s, "HeapProfiler.stopSampling")
  s.disconnect()
  const sites = new Map<string, number>()
  let total = 0
  const walk = (n: ProfileNode, stack: string[]) => {
    const cf = n.callFrame
    const here = `${cf.functionName || "(anonymous)"} (${cf.url.split("/").slice(-3).join("/")}:${cf.lineNumber + 1})`
    const st = [...stack, here]
    if (n.selfSize > 0) {
      const key = st.slice(-3).reverse().join(" < ")
      sites.set(key, (sites.get(key) ?? 0) + n.selfSize)
      total += n.selfSize
    }
    for (const c of n.children) walk(c, st)
  }
  walk(profile.head, [])
  const all = [...sites].sort((x, y) => y[1] - x[1]).map(([site, bytes]) => ({ site, bytes, per: classify(site) }))
  let path = 0
  for (const x of all) if (x.per === "access") path += x.bytes
  return {
    workload,
    accesses,
    sampled_bytes: total,
    bytes_per_access: total / accesses,
    access_path_bytes_per_access: path / accesses,
    bytes_per_missing_fault: path / Math.max(1, result.missing_faults),
    missing_faults: result.missing_faults,
    sampling_interval: interval,
    sites: all
  }
}

/** The report's lines for a reader. */
export function allocationLines(r: AllocationReport, top = 15): string[] {
  return [
    `${r.workload}: ${r.accesses} accesses, ${(r.sampled_bytes / 1e6).toFixed(2)} MB allocated in run() (V8 sampling heap profiler every ${r.sampling_interval} B, collected objects included): ${r.bytes_per_access.toFixed(2)} B per access in all; outside the tracker's cycles ${r.access_path_bytes_per_access.toFixed(3)} B per access, i.e. ${r.bytes_per_missing_fault.toFixed(1)} B per first-touch fault (${r.missing_faults}); the rest is per cycle`,
    ...r.sites.slice(0, top).map((x) => `${(x.bytes / 1e6).toFixed(2).padStart(9)} MB  [${x.per}] ${x.site}`)
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const workload = (process.argv[2] ?? "W1") as AccessBenchWorkload
  const accesses = Number(process.argv[3] ?? ACCESS_BENCH_DEFAULTS.accesses)
  const r = await allocationReport(workload, accesses)
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(r)}\n`)
  else for (const l of allocationLines(r)) process.stdout.write(`${l}\n`)
}
