// Ctrl-C during `rwpsim run`: the run (on the command's worker thread) stops at once, every trace
// line written so far is in the --trace file, and the command exits 130 with one line saying where
// it stopped. Runs the CLI from source in a child process, as a user would.
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..", "..", "..")
const main = join(root, "packages", "cli", "src", "main.ts")
const dir = mkdtempSync(join(tmpdir(), "rwpsim-interrupt-"))

// tens of seconds of wall time to run to its end: the test never waits for that
const LONG = `name: long run
seed: 3
machine: { arch: x86_64, vcpus: 4 }
workload:
  duration: 60s
  memory: { backing: shmem, size: 4GiB }
  guest:
    phases:
      - { pattern: hot_cold, hot_set: 10%, hot_share: 99.9%, writes: 30%, access_ns: 1000 }
  vmm: { tracker: rwp, strategy: hot-scan, interval: 1s, cold_age: 2 }
`

/** Lines in the trace file so far, once it has more than `bytes` (undefined until then). */
function linesOnceOver(path: string, bytes: number): number | undefined {
  try {
    if (statSync(path).size <= bytes) return undefined
  } catch {
    return undefined
  }
  return readFileSync(path, "utf8").split("\n").length - 1
}

/** The CLI from source in a child process: its output so far, and its exit code once it exits. */
function startCli(args: readonly string[]) {
  const child = spawn(process.execPath, ["--conditions=@rwpsim/source", "--import", "tsx", main, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" }
  })
  const output = { stdout: "", stderr: "" }
  child.stdout.on("data", (d) => {
    output.stdout += d
  })
  child.stderr.on("data", (d) => {
    output.stderr += d
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, output, exited }
}

describe("rwpsim run: Ctrl-C", () => {
  it("stops the run promptly, flushes the trace and exits 130 naming the file, the seed and the time", async () => {
    const file = join(dir, "long.yaml")
    const trace = join(dir, "long.jsonl")
    writeFileSync(file, LONG)
    const { child, output, exited } = startCli(["run", file, "--trace", trace])
    try {
      // the run is well under way: some of its trace is in the file
      let seen = linesOnceOver(trace, 256 * 1024)
      while (seen === undefined) {
        if (child.exitCode !== null) throw new Error(`rwpsim exited early (${child.exitCode}): ${output.stderr}`)
        await new Promise((r) => setTimeout(r, 50))
        seen = linesOnceOver(trace, 256 * 1024)
      }
      const sent = performance.now()
      child.kill("SIGINT")
      const code = await exited
      const ms = performance.now() - sent
      expect(code).toBe(130)
      // well under a second on an idle machine; a loaded one gets slack
      expect(ms).toBeLessThan(5_000)
      expect(output.stdout).toBe("")
      expect(output.stderr).toMatch(
        new RegExp(
          `^rwpsim: interrupted: ${file} seed 3 at t=[0-9.]+(ns|us|ms|s) of 60s; the trace up to there is in ${trace}\n$`
        )
      )
      const text = readFileSync(trace, "utf8")
      expect(text.endsWith("\n")).toBe(true)
      const lines = text.slice(0, -1).split("\n")
      for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow()
      expect(lines.length).toBeGreaterThanOrEqual(seen)
      expect(lines.some((l) => JSON.parse(l).ev === "end")).toBe(false)
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL")
    }
  }, 60_000)
})

describe("rwpsim explore and rwpsim sweep: Ctrl-C", () => {
  /** Starts the CLI, sends SIGINT after `after_ms`, and returns what it wrote and its exit code. */
  async function interrupted(args: readonly string[], after_ms: number) {
    const { child, output, exited } = startCli(args)
    // under way: the first output is there (sweep: a row; explore: nothing until its report, so a delay)
    const t0 = performance.now()
    while (performance.now() - t0 < after_ms || (args[0] === "sweep" && output.stdout === "")) {
      if (child.exitCode !== null) throw new Error(`rwpsim exited early (${child.exitCode}): ${output.stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const sent = performance.now()
    child.kill("SIGINT")
    const code = await exited
    return { code, ms: performance.now() - sent, stdout: output.stdout, stderr: output.stderr }
  }

  it("explore stops at once and reports the outcomes found so far (exit 130)", async () => {
    const r = await interrupted(["explore", "scenarios/race/seed-001-cold-scan.yaml", "--runs", "100000"], 3_000)
    expect(r.code).toBe(130)
    expect(r.ms).toBeLessThan(5_000)
    const runs = Number(/: (\d+) runs, strategy random, interrupted \(Ctrl-C\)/.exec(r.stdout)?.[1])
    expect(runs).toBeGreaterThan(0)
    expect(r.stdout).toMatch(/distinct outcome\(s\)/)
    expect(r.stderr).toBe(
      `rwpsim explore: interrupted after ${runs} of 100000 runs: the outcomes above are those found so far\n`
    )
  })

  it("sweep stops at once: the rows so far, in run order, and the summary (exit 130)", async () => {
    const r = await interrupted(["sweep", "scenarios/race/seed-001-hot-scan.yaml", "--seeds", "1..100000"], 0)
    expect(r.code).toBe(130)
    expect(r.ms).toBeLessThan(5_000)
    const rows = r.stdout.split("\n").filter((l) => l !== "")
    expect(rows.map((l) => (JSON.parse(l) as { run: number }).run)).toEqual([...rows.keys()])
    expect(r.stderr).toMatch(
      new RegExp(`interrupted after \\d+ of 100000 runs .*: the first ${rows.length} rows in run order are written`)
    )
  })
})
