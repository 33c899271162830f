// From a failing property to a file: the harness shrinks the case (scenario and scheduler hints),
// writes the shrunk run as a scenario whose `schedule` pins its choices, and `rwpsim run FILE`
// (the CLI, in a child process) replays it to the same failure with a byte-identical trace.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ScenarioInput } from "@rwpsim/scenario"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parse as parseYaml } from "yaml"
import { checkRunProperty, parseText, type PropertyFailure, ROOT } from "./harness.ts"
import { arbWorkloadCase, SMALL } from "./runs.ts"

const main = join(ROOT, "packages", "cli", "src", "main.ts")

function rwpsim(args: readonly string[]) {
  const r = spawnSync(process.execPath, ["--conditions=@rwpsim/source", "--import", "tsx", main, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" }
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The file the failure wrote, replayed by the CLI: its exit code, trace bytes and --json line. */
function replayThroughCli(f: PropertyFailure, mutants: readonly string[]) {
  const trace = join(mkdtempSync(join(tmpdir(), "rwpsim-replay-")), "replay.jsonl")
  const flags = mutants.flatMap((m) => ["--mutant", m])
  const run = rwpsim(["run", f.details.file, ...flags, "--trace", trace, "--json"])
  return { status: run.status, trace: readFileSync(trace, "utf8"), json: JSON.parse(run.stdout), stderr: run.stderr }
}

/** Two vCPUs write one protected page and are woken together: the one that retries last wins. */
const TWO_WRITERS = `name: two writers woken together
seed: 1
machine: { vcpus: 2 }
steps:
  - mmap: { as: m, length: 4KiB }
  - userfaultfd: { as: u, flags: [O_CLOEXEC, O_NONBLOCK] }
  - UFFDIO_API: { fd: u, features: [UFFD_FEATURE_RWP] }
  - UFFDIO_REGISTER: { fd: u, range: { start: m, len: 4KiB }, mode: [UFFDIO_REGISTER_MODE_RWP] }
  - write: { vcpu: 0, addr: m, value: 7 }
  - UFFDIO_RWPROTECT: { fd: u, range: { start: m, len: 4KiB }, mode: [UFFDIO_RWPROTECT_MODE_RWP] }
  - write: { vcpu: 0, addr: m, value: 1, expect: { blocked: true } }
  - write: { vcpu: 1, addr: m, value: 2, expect: { blocked: true } }
  - UFFDIO_RWPROTECT: { fd: u, range: { start: m, len: 4KiB }, mode: [] }
  - read: { vcpu: 0, addr: m, expect: { value: 2 } }
`

describe("a failing property leaves a file that replays it", () => {
  it("an interleaving bug: the hints shrink to the one choice that matters, pinned in `schedule`", {
    timeout: 60_000
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "rwpsim-failures-"))
    // seed 1's own schedule wakes vCPU 0 first (the run passes): only a hint can break it
    const scriptInput = fc.constant(parseYaml(TWO_WRITERS) as ScenarioInput)
    const f = checkRunProperty({
      name: "the last writer is vCPU 1",
      arb: fc.record({ input: scriptInput, hints: fc.array(fc.nat({ max: 7 }), { maxLength: 8 }) }),
      numRuns: 200,
      seed: 42,
      dir
    })
    expect(f, "the property must fail (some hint wakes vCPU 1 first)").not.toBeNull()
    const d = f!.details
    // shrunk to one hint, and to the smallest value that flips the order
    expect(d.counterexample.hints).toEqual([1])
    expect(d.result.schedule).toEqual([1])
    expect(parseText(d.text).schedule).toEqual([1])
    expect(d.why).toContain("expected value 2, got 1")
    // the message: seed, path, the file and the command that replays it
    expect(f!.message).toMatch(/fast-check seed 42, path "[\d:]+"/)
    expect(f!.message).toContain(`replay it:      npx rwpsim run ${d.file}`)
    expect(f!.message).toMatch(/FC_SEED=42 FC_PATH=[\d:]+ npx vitest run/)
    expect(d.replays).toBe(true)
    const cli = replayThroughCli(f!, [])
    expect(cli.status).toBe(1)
    expect(cli.trace).toBe(d.trace)
    expect(cli.json.failures[0].message).toContain("expected value 2, got 1")
  })

  it("a VMM bug (tracker-evicts-async): the shrunk workload replays through `rwpsim run --mutant` to the same trace bytes", {
    timeout: 120_000
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "rwpsim-failures-"))
    const mutants = ["tracker-evicts-async"]
    const f = checkRunProperty({
      name: "the six invariants hold [hot-scan, shmem]",
      arb: arbWorkloadCase({ ...SMALL, backings: ["shmem"], trackers: ["rwp"], strategies: ["hot-scan"] }),
      numRuns: 200,
      seed: 7,
      mutants,
      dir
    })
    expect(f, "the invariants must catch the bug").not.toBeNull()
    const d = f!.details
    expect(d.why).toMatch(/^(no_data_loss|accounting): /)
    expect(f!.message).toContain(`npx rwpsim run ${d.file} --mutant tracker-evicts-async`)
    // the file pins every choice of the shrunk run, and it does not name the bug: without
    // --mutant it is a correct VMM's run
    const pinned = parseText(d.text)
    expect(pinned.schedule).toEqual(d.result.schedule)
    expect(pinned.workload?.vmm.bug).toBeUndefined()
    expect(d.replays).toBe(true)
    const cli = replayThroughCli(f!, mutants)
    expect(cli.status, cli.stderr).toBe(1)
    expect(cli.trace).toBe(d.trace)
    expect(cli.json.failures.map((x: { invariant: string }) => x.invariant)).toContain(d.why.split(":")[0])
    // shrunk: one vCPU is enough to race the tracker, in the shortest run the arbitrary allows
    expect(pinned.machine.vcpus).toBe(1)
    expect(pinned.workload?.duration).toBe(10_000_000)
    expect(d.counterexample.hints).toEqual([])
  })
})
