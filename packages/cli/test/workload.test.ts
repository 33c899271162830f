// `rwpsim run` on workload scenarios, as a user runs it: the summary, --json with the spec's
// metrics, identical trace hashes for the same seed, and a buggy VMM failing with exit 1 and a
// message that names the hung vCPU, the address, the wait-for chain and the replay command.
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..", "..", "..")
const main = join(root, "packages", "cli", "src", "main.ts")

function rwpsim(args: readonly string[]) {
  const r = spawnSync(process.execPath, ["--conditions=@rwpsim/source", "--import", "tsx", main, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" }
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const SPEC_METRICS = [
  "simulated_ns",
  "guest_accesses",
  "rwp_faults",
  "wss_true_pages",
  "wss_estimated_pages",
  "pages_evicted",
  "refaults",
  "stall_ns_p50",
  "stall_ns_p99",
  "stall_ns_max",
  "data_loss",
  "hung_vcpus",
  "tracker"
]

describe("rwpsim run: workloads", () => {
  it("--json gives the spec's metrics, and the same seed gives the same trace_sha256", () => {
    const file = "scenarios/race/seed-001-hot-scan.yaml"
    const a = rwpsim(["run", file, "--json"])
    const b = rwpsim(["run", file, "--json"])
    expect(a.status).toBe(0)
    const ja = JSON.parse(a.stdout)
    expect(ja).toMatchObject({ scenario: file, ok: true, failures: [], seed: 1 })
    for (const k of SPEC_METRICS) expect(Object.keys(ja.metrics)).toContain(k)
    expect(ja.metrics.tracker).toBe("rwp")
    expect(a.stdout).toBe(b.stdout)
    expect(ja.trace_sha256).toMatch(/^[0-9a-f]{64}$/)
  }, 30_000)

  it("the summary groups the metrics a VMM engineer reads first", () => {
    const r = rwpsim(["run", "scenarios/race/seed-001-cold-scan.yaml"])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^PASS {2}seed 001 race/)
    for (const row of ["tracker", "working set", "eviction", "stalls", "data loss", "hung vCPUs"])
      expect(r.stdout).toContain(`  ${row}`)
  }, 30_000)

  it("a VMM whose fault handler ignores MISSING fails with exit 1: hung vCPU, address, wait-for chain, replay", () => {
    const file = "scenarios/failing/handler-ignores-missing.yaml"
    const r = rwpsim(["run", file])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/^FAIL/)
    expect(r.stderr).toContain("seed 3: invariant no_lost_wakeup:")
    expect(r.stderr).toMatch(/vCPU \d is blocked and nothing can wake it/)
    expect(r.stderr).toMatch(/guest_mem\+0x[0-9a-f]+ \(page \d+\)/)
    expect(r.stderr).toContain("wait-for chain:")
    expect(r.stderr).toContain("read and never answered")
    expect(r.stderr).toContain(`replay: rwpsim run ${file} --seed 3`)
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
  }, 30_000)
})
