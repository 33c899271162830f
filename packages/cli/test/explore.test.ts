// `rwpsim explore` as a user runs it: each distinct outcome with the command that replays it, the
// schedule-pinned files it writes replaying through `rwpsim run`, --json, and usage errors.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parseCommand } from "../src/args.ts"

const root = join(import.meta.dirname, "..", "..", "..")
const main = join(root, "packages", "cli", "src", "main.ts")
const file = "scenarios/explore/last-writer.yaml"

function rwpsim(args: readonly string[]) {
  const r = spawnSync(process.execPath, ["--conditions=@rwpsim/source", "--import", "tsx", main, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" }
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe("rwpsim explore", () => {
  it("--exhaustive: every schedule, each outcome with a replay that reproduces it", () => {
    const out = mkdtempSync(join(tmpdir(), "rwpsim-explore-"))
    const r = rwpsim(["explore", file, "--exhaustive", "--out", out])
    expect(r.status, r.stderr).toBe(1)
    expect(r.stdout).toContain("6 runs, exhaustive, every schedule covered")
    expect(r.stdout).toContain("2 distinct outcome(s), 1 failing")
    expect(r.stdout).toMatch(/^ok {4}2 run\(s\)/m)
    expect(r.stdout).toMatch(/^FAIL {2}4 run\(s\)/m)
    expect(r.stdout).toContain("step 10 (read): vCPU 0: read of m: expected value 3, got")
    const replays = [...r.stdout.matchAll(/replay: rwpsim run (\S+)/g)].map((m) => m[1]!)
    expect(replays).toHaveLength(2)
    // the failing outcome's file pins its two choices and fails the same way under `rwpsim run`
    const failing = replays[1]!
    expect(readFileSync(failing, "utf8")).toMatch(/^schedule: \[ \d, \d \]$/m)
    const bad = rwpsim(["run", failing, "--json"])
    expect(bad.status).toBe(1)
    expect(JSON.parse(bad.stdout).failures[0]).toMatchObject({ step: 10, op: "read" })
  }, 60_000)

  it("--strategy pct --json: one object, the outcomes with their reproducers", () => {
    const out = mkdtempSync(join(tmpdir(), "rwpsim-explore-"))
    const a = rwpsim(["explore", file, "--strategy", "pct", "--runs", "30", "--json", "--out", out])
    expect(a.status).toBe(1)
    const j = JSON.parse(a.stdout)
    expect(j).toMatchObject({ scenario: file, name: "last writer wins", strategy: "pct", runs: 30, complete: null })
    expect(j.outcomes.map((o: { ok: boolean }) => o.ok).sort()).toEqual([false, true])
    // run 0 is the scenario's own schedule: the plain command replays it
    expect(j.outcomes[0]).toMatchObject({ ok: true, first_run: 0, file: null, replay: `rwpsim run ${file}` })
    expect(j.outcomes[1].file).toMatch(/last-writer-2\.yaml$/)
    expect(j.outcomes[1].schedule).toHaveLength(2)
  }, 60_000)

  it("--vary seed: the reproducer is a seed (no file)", () => {
    const r = rwpsim(["explore", file, "--vary", "seed", "--runs", "8", "--json"])
    const j = JSON.parse(r.stdout)
    for (const o of j.outcomes) expect(o.file).toBeNull()
    const failing = j.outcomes.find((o: { ok: boolean }) => !o.ok)
    expect(failing.replay).toBe(`rwpsim run ${file} --seed ${failing.seed}`)
  }, 60_000)

  it("usage errors: parseCommand refuses them; an unknown mutant exits 2", () => {
    for (const args of [
      ["explore", file, "--strategy", "dfs"],
      ["explore", file, "--runs", "0"],
      ["explore", file, "--depth", "x"],
      ["explore", file, "--exhaustive", "--vary", "seed"],
      ["explore", file, "--seed", "-1"],
      ["explore", file, "--trace", "t.jsonl"],
      ["explore"]
    ]) {
      const c = parseCommand(args)
      expect("_tag" in c ? c._tag : c.cmd, args.join(" ")).toBe("UsageError")
    }
    expect(
      parseCommand(["explore", file, "--exhaustive", "--runs", "50", "--mutant", "tracker-evicts-async"])
    ).toMatchObject({
      cmd: "explore",
      file,
      exhaustive: true,
      runs: 50,
      strategy: "random",
      depth: 3,
      vary: "schedule",
      out: ".rwpsim-explore",
      mutants: ["tracker-evicts-async"]
    })
    const r = rwpsim(["explore", file, "--mutant", "no-such-bug"])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('unknown mutant "no-such-bug"')
  }, 60_000)
})
