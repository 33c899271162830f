// The rwpsim command as a user runs it: exit codes, messages on bad input (never a stack trace),
// --json, --trace and determinism. Runs the CLI from source in a child process.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it, vi } from "vitest"

// each test starts the CLI from source in child processes (about 1-2 s each on a busy machine)
vi.setConfig({ testTimeout: 30_000 })

const root = join(import.meta.dirname, "..", "..", "..")
const main = join(root, "packages", "cli", "src", "main.ts")

interface Ran {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

function rwpsim(args: readonly string[], cwd = root): Ran {
  const r = spawnSync(process.execPath, ["--conditions=@rwpsim/source", "--import", "tsx", main, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" }
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const dir = mkdtempSync(join(tmpdir(), "rwpsim-cli-"))
function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const GOOD = `name: tiny
steps:
  - mmap: { as: m, length: 4KiB }
  - write: { vcpu: 0, addr: m, value: 7 }
  - read: { vcpu: 0, addr: m, expect: { value: 7 } }
`

const FAILING = `name: wrong value
seed: 5
steps:
  - mmap: { as: m, length: 4KiB }
  - read: { vcpu: 0, addr: m, expect: { value: 9 } }
`

function noStack(r: Ran): void {
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
}

describe("rwpsim run: exit codes", () => {
  it("exits 0 and prints a summary when every expectation holds", () => {
    const r = rwpsim(["run", file("good.yaml", GOOD)])
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^PASS {2}tiny/)
  })

  it("exits 1 naming the scenario, seed, step, expected versus actual, and the replay command", () => {
    const f = file("failing.yaml", FAILING)
    const r = rwpsim(["run", f])
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("wrong value, seed 5: step 1 (read)")
    expect(r.stderr).toContain("expected value 9, got 0")
    expect(r.stderr).toContain(`replay: rwpsim run ${f} --seed 5`)
    noStack(r)
  })

  it("with several files exits with the highest code of theirs", () => {
    const r = rwpsim(["run", file("a.yaml", GOOD), file("b.yaml", FAILING), join(dir, "missing.yaml")])
    expect(r.status).toBe(2)
  })

  it("--seed overrides the scenario's seed", () => {
    const r = rwpsim(["run", file("seeded.yaml", FAILING), "--seed", "11", "--json"])
    expect(JSON.parse(r.stdout).seed).toBe(11)
  })
})

describe("rwpsim run: bad input gets exit 2 and one clear message, never a stack trace", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      "unknown key",
      "unknown.yaml",
      `name: x\nsteps:\n  - mmap: { as: m, lenght: 4KiB }\n`,
      /unknown\.yaml:3:\d+: steps\[0\]\.mmap.*lenght/
    ],
    ["wrong type", "type.yaml", `name: x\nmachine: { vcpus: two }\nsteps: []\n`, /type\.yaml:2:\d+: machine\.vcpus/],
    [
      "bad size",
      "size.yaml",
      `name: x\nsteps:\n  - mmap: { as: m, length: 4kb }\n`,
      /size\.yaml:3:\d+: steps\[0\]\.mmap\.length: .*size/
    ],
    [
      "bad duration",
      "dur.yaml",
      `name: x\nsteps:\n  - sleep: { duration: 5 minutes }\n`,
      /dur\.yaml:3:\d+: steps\[0\]\.sleep\.duration: .*duration/
    ],
    ["invalid YAML", "syntax.yaml", `name: x\nsteps: [\n  - mmap: {\n`, /syntax\.yaml:\d+:\d+: /],
    ["invalid JSON", "syntax.json", `{ "name": "x", "steps": [ }\n`, /syntax\.json:1:\d+: /],
    [
      "unknown op",
      "op.yaml",
      `name: x\nsteps:\n  - mmapp: { as: m, length: 4KiB }\n`,
      /op\.yaml:3:\d+: steps\[0\].*mmapp/
    ]
  ]
  it.each(cases)("%s", (_what, name, text, message) => {
    const r = rwpsim(["run", file(name, text)])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe("")
    expect(r.stderr.split("\n")[0]).toMatch(message)
    noStack(r)
  })

  it("a missing file", () => {
    const f = join(dir, "nope.yaml")
    const r = rwpsim(["run", f])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`${f}: no such file`)
    noStack(r)
  })

  it("a usage error", () => {
    const r = rwpsim(["run", "--seed", "minus-one", "x.yaml"])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain("--seed")
    noStack(r)
  })

  it("an arch that cannot have RWP with USERFAULTFD_RWP turned on is an invalid scenario", () => {
    const f = file(
      "ppc.yaml",
      `name: x\nmachine: { arch: ppc64le, kernel: { config: { USERFAULTFD_RWP: true } } }\nsteps: []\n`
    )
    const r = rwpsim(["run", f])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain("ppc64le")
  })

  it("check validates without running", () => {
    expect(rwpsim(["check", file("c1.yaml", FAILING)]).status).toBe(0)
    expect(rwpsim(["check", file("c2.yaml", `name: x\nsteps:\n  - mmapp: {}\n`)]).status).toBe(2)
  })
})

describe("rwpsim run --json and --trace", () => {
  it("--json prints one object per file, invalid files included, and only JSON", () => {
    const r = rwpsim(["run", "--json", file("j1.yaml", GOOD), file("j2.yaml", "name: [\n")])
    const lines = r.stdout.trim().split("\n")
    expect(lines).toHaveLength(2)
    const [a, b] = lines.map((l) => JSON.parse(l))
    expect(Object.keys(a)).toEqual(["scenario", "name", "seed", "ok", "failures", "metrics", "trace_sha256"])
    expect(a.ok).toBe(true)
    expect(a.metrics).toHaveProperty("simulated_ns")
    expect(a.metrics).toHaveProperty("hung_vcpus", 0)
    expect(a.trace_sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(b.ok).toBe(false)
    expect(b.failures[0]).toMatchObject({ step: null, op: null, invariant: null })
  })

  it("the same scenario and seed give byte-identical traces, and trace_sha256 is their hash", () => {
    const f = file("det.yaml", GOOD)
    const t1 = join(dir, "t1.jsonl")
    const t2 = join(dir, "t2.jsonl")
    const r1 = rwpsim(["run", f, "--trace", t1, "--json"])
    const r2 = rwpsim(["run", f, "--trace", t2, "--json"])
    const a = readFileSync(t1)
    expect(a.equals(readFileSync(t2))).toBe(true)
    const header = JSON.parse(a.toString("utf8").split("\n")[0]!)
    expect(header).toEqual({ rwpsim: expect.any(String), scenario: "tiny", seed: 0 })
    expect(JSON.parse(r1.stdout).trace_sha256).toBe(JSON.parse(r2.stdout).trace_sha256)
    // The hash is computed with or without --trace.
    expect(JSON.parse(rwpsim(["run", f, "--json"]).stdout).trace_sha256).toBe(JSON.parse(r1.stdout).trace_sha256)
  })

  it("with several files --trace names a directory and each trace is named after its file", () => {
    const out = join(dir, "traces")
    const r = rwpsim(["run", file("one.yaml", GOOD), file("two.yaml", GOOD), "--trace", out])
    expect(r.status).toBe(0)
    expect(readFileSync(join(out, "one.jsonl"), "utf8")).toContain('"scenario":"tiny"')
    expect(readFileSync(join(out, "two.jsonl"), "utf8")).toContain('"scenario":"tiny"')
  })
})

describe("rwpsim schema", () => {
  it("prints a JSON Schema of scenario files", () => {
    const r = rwpsim(["schema"])
    expect(r.status).toBe(0)
    const schema = JSON.parse(r.stdout)
    expect(schema.type).toBe("object")
    expect(JSON.stringify(schema)).toContain("UFFDIO_RWPROTECT")
  })
})
