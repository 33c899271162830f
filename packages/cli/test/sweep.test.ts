// rwpsim sweep: seed sets and shards; the command on worker threads (in process, from source):
// rows in run order whatever the jobs, merged shards equal to the unsharded sweep,
// JOB_COMPLETION_INDEX, the failure summary with replay commands; and once as a user runs it.
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it, vi } from "vitest"
import { parseCommand } from "../src/args.ts"
import { type SweepCommand, sweepCommand } from "../src/commands/sweep.ts"
import { memoryIo } from "../src/output.ts"
import { inShard, parseSeedSet, parseShard, shardIndex } from "../src/seeds.ts"

vi.setConfig({ testTimeout: 60_000 })

const root = join(import.meta.dirname, "..", "..", "..")
const main = join(root, "packages", "cli", "src", "main.ts")

function rwpsim(args: readonly string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ["--conditions=@rwpsim/source", "--import", "tsx", main, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env }
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const rows = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { run: number; scenario: string; seed: number; ok: boolean; replay: string })

/** The merge of shard outputs: their lines by `run` (what `sort -t: -k2,2n` does). */
const merge = (outputs: readonly string[]) =>
  outputs
    .flatMap((o) => o.split("\n").filter((l) => l !== ""))
    .sort((a, b) => rows(a)[0]!.run - rows(b)[0]!.run)
    .map((l) => `${l}\n`)
    .join("")

describe("seed sets and shards", () => {
  it("parses ranges and lists in the order written", () => {
    expect(parseSeedSet("1..5")).toEqual([1, 2, 3, 4, 5])
    expect(parseSeedSet("7,1..3,7")).toEqual([7, 1, 2, 3, 7])
    expect(parseSeedSet("0x10")).toMatch(/expected seeds/)
    expect(parseSeedSet("5..1")).toMatch(/empty range/)
    expect(parseSeedSet("1..20000000")).toMatch(/more than/)
  })

  it("takes a shard I/N, or /N with JOB_COMPLETION_INDEX", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 })
    expect(parseShard("4/4")).toMatch(/below the count/)
    expect(parseShard("x")).toMatch(/expected I\/N/)
    const env = parseShard("/4")
    expect(env).toEqual({ index: "env", count: 4 })
    if (typeof env === "string") return
    expect(shardIndex(env, { JOB_COMPLETION_INDEX: "3" })).toBe(3)
    expect(shardIndex(env, { JOB_COMPLETION_INDEX: "4" })).toMatch(/not below/)
    expect(shardIndex(env, {})).toMatch(/not set/)
  })

  it("gives every run to exactly one shard", () => {
    for (const n of [1, 2, 3, 7]) {
      for (let r = 0; r < 50; r++) {
        let owners = 0
        for (let i = 0; i < n; i++) if (inShard(r, i, n)) owners++
        expect(owners).toBe(1)
      }
    }
  })
})

function sweep(args: Partial<SweepCommand>, env: Record<string, string> = {}) {
  const io = memoryIo()
  const c: SweepCommand = {
    cmd: "sweep",
    files: ["scenarios/quickstart.yaml", "scenarios/race/seed-001-hot-scan.yaml"],
    seeds: [1, 2, 3, 4, 5],
    jobs: 2,
    shard: undefined,
    out: undefined,
    progress: false,
    hash: true,
    mutants: [],
    ...args
  }
  return sweepCommand(c, io, env).then((exit) => ({
    exit,
    stdout: io.stdout.map((l) => `${l}\n`).join(""),
    io
  }))
}

describe("rwpsim sweep on worker threads", () => {
  it("writes one row per run in run order; 4 shards (one job each) merge back to it", async () => {
    const two = await sweep({})
    expect(two.exit).toBe(0)
    const r = rows(two.stdout)
    expect(r.map((x) => x.run)).toEqual([...Array(10).keys()])
    expect(r.map((x) => `${x.scenario}@${x.seed}`)).toEqual(
      ["scenarios/quickstart.yaml", "scenarios/race/seed-001-hot-scan.yaml"].flatMap((f) =>
        [1, 2, 3, 4, 5].map((s) => `${f}@${s}`)
      )
    )
    expect(r.every((x) => x.ok)).toBe(true)
    expect(r[6]!.replay).toBe("rwpsim run scenarios/race/seed-001-hot-scan.yaml --seed 2")
    expect(two.io.stderr[0]).toMatch(/10 runs \(2 file\(s\) x 5 seed\(s\)\), 0 failed, 2 job\(s\)/)
    // the shards run on one worker each: the rows do not depend on the jobs either
    const shards = await Promise.all([0, 1, 3].map((index) => sweep({ jobs: 1, shard: { index, count: 4 } })))
    // a Kubernetes Indexed Job's pod: the index from JOB_COMPLETION_INDEX
    const k8s = await sweep({ jobs: 1, shard: { index: "env", count: 4 } }, { JOB_COMPLETION_INDEX: "2" })
    expect(rows(k8s.stdout).map((x) => x.run)).toEqual([2, 6])
    expect(merge([...shards.map((s) => s.stdout), k8s.stdout])).toBe(two.stdout)
  })

  it("ends with a summary of the failures, each with its replay command (exit 1)", async () => {
    const r = await sweep({
      files: ["scenarios/failing/handler-ignores-missing.yaml", "scenarios/quickstart.yaml"],
      seeds: [3, 9],
      hash: false
    })
    expect(r.exit).toBe(1)
    expect(rows(r.stdout).map((x) => x.ok)).toEqual([false, false, true, true])
    const err = r.io.stderr.join("\n")
    expect(err).toMatch(/4 runs .*, 2 failed/)
    expect(err).toContain("replay: rwpsim run scenarios/failing/handler-ignores-missing.yaml --seed 3")
    expect(err).toContain("replay: rwpsim run scenarios/failing/handler-ignores-missing.yaml --seed 9")
  })

  it("stops on interrupt: the rows so far, in run order, and a summary that says so (exit 130)", async () => {
    const stop = new AbortController()
    const io = memoryIo()
    const seeds = [...Array(2000).keys()].map((i) => i + 1)
    const c: SweepCommand = {
      cmd: "sweep",
      files: ["scenarios/race/seed-001-hot-scan.yaml"],
      seeds,
      jobs: 2,
      shard: undefined,
      out: undefined,
      progress: false,
      hash: false,
      mutants: []
    }
    const running = sweepCommand(c, io, {}, stop.signal)
    // stop once some rows are out
    while (io.stdout.length < 3) await new Promise((r) => setTimeout(r, 20))
    stop.abort()
    expect(await running).toBe(130)
    const r = rows(io.stdout.map((l) => `${l}\n`).join(""))
    expect(r.length).toBeGreaterThanOrEqual(3)
    expect(r.length).toBeLessThan(2000)
    expect(r.map((x) => x.run)).toEqual([...Array(r.length).keys()])
    expect(io.stderr.join("\n")).toMatch(
      new RegExp(`interrupted after \\d+ of 2000 runs .*: the first ${r.length} rows in run order are written`)
    )
  })

  it("checks every file, the mutants and the shard index before running anything (exit 2)", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "rwpsim-sweep-")), "rows.jsonl")
    const missing = await sweep({ files: ["scenarios/quickstart.yaml", "no/such/file.yaml"], out })
    expect(missing.exit).toBe(2)
    expect(missing.stdout).toBe("")
    expect(missing.io.stderr.join("\n")).toMatch(/no\/such\/file.yaml: no such file/)
    // the workers found it before any run: --out is not even created
    expect(existsSync(out)).toBe(false)
    const bug = await sweep({ mutants: ["no-such-bug"] })
    expect(bug.exit).toBe(2)
    expect(bug.io.stderr.join("\n")).toMatch(/unknown mutant "no-such-bug"/)
    expect((await sweep({ shard: { index: "env", count: 2 } }, {})).exit).toBe(2)
  })
})

describe("rwpsim sweep arguments", () => {
  it("parses the command, its seeds, jobs and shard", () => {
    expect(parseCommand(["sweep", "a.yaml", "b.yaml", "--seeds", "1..3", "--jobs", "4", "--shard", "1/2"])).toEqual({
      cmd: "sweep",
      files: ["a.yaml", "b.yaml"],
      seeds: [1, 2, 3],
      jobs: 4,
      shard: { index: 1, count: 2 },
      out: undefined,
      progress: undefined,
      hash: false,
      mutants: []
    })
    const err = (argv: string[]) => {
      const c = parseCommand(argv)
      return "_tag" in c ? c.message : null
    }
    expect(err(["sweep", "a.yaml"])).toMatch(/--seeds is required/)
    expect(err(["sweep", "--seeds", "1"])).toMatch(/no scenario file/)
    expect(err(["sweep", "a.yaml", "--seeds", "a..b"])).toMatch(/--seeds: expected seeds/)
    expect(err(["sweep", "a.yaml", "--seeds", "1", "--jobs", "0"])).toMatch(/--jobs/)
    expect(err(["sweep", "a.yaml", "--seeds", "1", "--shard", "5/2"])).toMatch(/--shard/)
    expect(err(["sweep", "a.yaml", "--seeds", "1", "--seed", "2"])).toMatch(/Unknown option/)
  })

  it("runs as a user runs it: JSONL on stdout, the summary on stderr, exit 1 on a failure", () => {
    const r = rwpsim(["sweep", "scenarios/failing/handler-ignores-missing.yaml", "--seeds", "1,2", "--jobs", "2"])
    expect(r.status).toBe(1)
    expect(rows(r.stdout).map((x) => [x.run, x.seed, x.ok])).toEqual([
      [0, 1, false],
      [1, 2, false]
    ])
    expect(r.stderr).toContain("2 runs (1 file(s) x 2 seed(s)), 2 failed, 2 job(s)")
    expect(r.stderr).toContain("replay: rwpsim run scenarios/failing/handler-ignores-missing.yaml --seed 2")
  })
})
