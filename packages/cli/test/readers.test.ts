// rwpsim trace, diff, why, report and the progress bar, on traces of bundled scenarios (written by
// the same code as `rwpsim run --trace`), in process; one child process checks exit 2 end to end.
import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it, vi } from "vitest"
import { parseCommand } from "../src/args.ts"
import { diffCommand } from "../src/commands/diff.ts"
import { reportCommand, reportData } from "../src/commands/report.ts"
import { traceCommand } from "../src/commands/trace.ts"
import { whyCommand } from "../src/commands/why.ts"
import { memoryIo } from "../src/output.ts"
import { Progress } from "../src/progress.ts"
import { dir, root, SCRIPT, traceOf, WORKLOAD } from "./traces.ts"

// traces are generated on first use, and two tests start the CLI in a child process
vi.setConfig({ testTimeout: 30_000 })

const RACE = join(root, "scenarios", "race", "seed-001-cold-scan.yaml")

function cmd(argv: string[]) {
  const c = parseCommand(argv)
  if ("_tag" in c) throw new Error(c.message)
  return c
}

async function run(argv: string[]) {
  const io = memoryIo()
  const c = cmd(argv)
  let exit: number
  if (c.cmd === "trace") exit = await traceCommand(c, io)
  else if (c.cmd === "diff") exit = await diffCommand(c, io)
  else if (c.cmd === "why") exit = await whyCommand(c, io)
  else if (c.cmd === "report") exit = await reportCommand(c, io)
  else throw new Error(`not a reader: ${c.cmd}`)
  return { exit, out: io.stdout.join("\n"), err: io.stderr.join("\n"), lines: io.stdout }
}

function write(name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

describe("rwpsim trace", () => {
  it("shows every event with aligned time, thread, name and fields", async () => {
    const t = traceOf(SCRIPT)
    const r = await run(["trace", t])
    expect(r.exit).toBe(0)
    const events = readFileSync(t, "utf8").trimEnd().split("\n").length - 1
    expect(r.lines.length).toBe(events + 1)
    expect(r.out).toContain("# VMM workflow")
    expect(r.out).toMatch(/^ {2}10\.000 ms {2}vcpu1 {5}k\.userfault {9}task=1 addr=guest_mem\+0x6000 reason=rwp/m)
    expect(r.out).not.toContain("\x1b[")
  })

  it("--page follows one page under its name, including io_mem and the file offset", async () => {
    const r = await run(["trace", traceOf(SCRIPT), "--page", "guest_mem+0x3000"])
    expect(r.exit).toBe(0)
    expect(r.out).toContain("pwrite              storage=storage offset=0x3000 from=io_mem+0x3000")
    expect(r.out).toContain("k.punch_hole        file=guest off=0x3000")
    expect(r.out).toContain("k.uffd_copy         fd=4 dst=guest_mem+0x3000")
    expect(r.out).not.toContain("guest_mem+0x6000")
  })

  it("--vcpu, --ev (globs) and --from/--to narrow the view", async () => {
    const t = traceOf(WORKLOAD)
    const v = await run(["trace", t, "--vcpu", "1", "--ev", "vcpu.*"])
    expect(v.lines.slice(1).every((l) => /vcpu1 +vcpu\.\w+ +vcpu(s)?=/.test(l) || l.includes("vcpus=["))).toBe(true)
    const w = await run(["trace", t, "--from", "20ms", "--to", "30ms", "--ev", "vmm.pagemap_scan"])
    expect(w.lines.slice(1)).toHaveLength(1)
    expect(w.lines[1]).toMatch(/^ {2}2\d\.\d{3} ms {2}tracker {3}vmm\.pagemap_scan/)
  })

  it("colours only when asked or on a terminal", async () => {
    const c = cmd(["trace", traceOf(SCRIPT), "--ev", "step"])
    if (c.cmd !== "trace") throw new Error()
    const tty = memoryIo(true)
    expect(await traceCommand(c, tty, {})).toBe(0)
    expect(tty.stdout.join("\n")).toContain("\x1b[")
    const noColor = memoryIo(true)
    await traceCommand(c, noColor, { NO_COLOR: "1" })
    expect(noColor.stdout.join("\n")).not.toContain("\x1b[")
  })

  it("--perfetto writes trace-event JSON: vCPU tracks with blocked intervals, tracker phases, I/O, counters", async () => {
    const out = join(dir, "p.json")
    const r = await run(["trace", traceOf(WORKLOAD), "--perfetto", out])
    expect(r.exit).toBe(0)
    const d = JSON.parse(readFileSync(out, "utf8")) as {
      traceEvents: { ph: string; name: string; pid: number; tid?: number; args?: { name?: string } }[]
    }
    const names = new Set(d.traceEvents.map((e) => `${e.ph}:${e.name}`))
    for (const n of [
      "X:detect",
      "X:scan",
      "X:sync-evict",
      "X:resume",
      "X:blocked: MISSING fault",
      "X:pwrite",
      "X:pread",
      "C:WSS (pages)",
      "C:resident pages"
    ])
      expect(names).toContain(n)
    const threads = d.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => e.args?.name)
    expect(threads).toEqual(expect.arrayContaining(["vCPU 0", "vCPU 1", "tracker phases", "fault handler", "I/O"]))
  })

  it("a malformed or truncated trace: exit 2 and the line, never a stack", async () => {
    const good = readFileSync(traceOf(SCRIPT), "utf8")
    const lines = good.split("\n")
    const bad = write("bad.jsonl", [...lines.slice(0, 10), "{oops", ...lines.slice(10)].join("\n"))
    const r = await run(["trace", bad])
    expect(r.exit).toBe(2)
    expect(r.err).toMatch(/bad\.jsonl:11: not a JSON line/)
    const cut = write("cut.jsonl", good.slice(0, good.length - 30))
    const c = await run(["trace", cut])
    expect(c.exit).toBe(2)
    expect(c.err).toMatch(/cut\.jsonl:\d+: truncated: the last line has no end of line/)
    const gap = write("gap.jsonl", [...lines.slice(0, 5), ...lines.slice(6)].join("\n"))
    expect((await run(["why", "--page", "guest_mem", gap])).err).toMatch(/gap\.jsonl:6: seq 5 where 4 was expected/)
    expect((await run(["report", cut, "--html", join(dir, "x.html")])).exit).toBe(2)
    expect((await run(["trace", join(dir, "none.jsonl")])).err).toMatch(/none\.jsonl: no such file/)
  })
})

describe("rwpsim diff", () => {
  it("exit 0 for identical traces", async () => {
    const r = await run(["diff", traceOf(SCRIPT), traceOf(SCRIPT)])
    expect(r.exit).toBe(0)
    expect(r.out).toContain("are identical")
  })

  it("exit 1 at the first divergent event, with context, what differs and the state", async () => {
    // the same run with one scheduler choice flipped: the scenario's schedule replays the others
    const a = traceOf(WORKLOAD)
    const picks = readFileSync(a, "utf8")
      .split("\n")
      .filter((l) => l.includes('"ev":"choice"'))
      .map((l) => (JSON.parse(l) as { pick: number }).pick)
    expect(picks.length).toBeGreaterThan(1)
    const last = picks.length - 1
    picks[last] = 1 - picks[last]!
    const scenario = readFileSync(WORKLOAD, "utf8").replace(
      "seed: 5\n",
      `seed: 5\nschedule: ${JSON.stringify(picks)}\n`
    )
    const b = traceOf(write("flipped.yaml", scenario))
    const r = await run(["diff", a, b])
    expect(r.exit).toBe(1)
    expect(r.out).toMatch(/differ: line \d+ \(seq \d+, t = /)
    expect(r.out).toContain("choice")
    expect(r.out).toMatch(/what differs:\n {2}pick: [01] → [01]/)
    expect(r.out).toContain("context (the 5 events before):")
    expect(r.out).toMatch(/state just before[^\n]*\n {2}vcpu0: /)
  })

  it("different seeds diverge early; malformed input is exit 2", async () => {
    expect((await run(["diff", traceOf(SCRIPT), traceOf(SCRIPT, 8)])).out).toContain("line 1 (the header)")
    const good = readFileSync(traceOf(SCRIPT), "utf8")
    const cut = write("cut2.jsonl", good.slice(0, good.length - 10))
    const r = await run(["diff", traceOf(SCRIPT), cut])
    expect(r.exit).toBe(2)
    expect(r.err).toMatch(/cut2\.jsonl.*truncated/)
  })

  it("finds a divergence late in a long trace fast (compares bytes, parses only the window)", async () => {
    const lines = [`{"rwpsim":"0.1.0","scenario":"long","seed":1}`]
    for (let i = 0; i < 400_000; i++)
      lines.push(`{"t":${i * 100},"seq":${i},"ev":"vcpu.done","vcpu":${i % 2},"page":${i % 977},"stalled_ns":5000}`)
    const n = lines.length
    lines.push(`{"t":${n * 100},"seq":${n - 1},"ev":"end","ok":true}`)
    const a = write("long-a.jsonl", `${lines.join("\n")}\n`)
    lines[n - 3] = lines[n - 3]!.replace('"page":', '"page":1')
    const b = write("long-b.jsonl", `${lines.join("\n")}\n`)
    const t0 = performance.now()
    const r = await run(["diff", a, b])
    const ms = performance.now() - t0
    expect(r.exit).toBe(1)
    expect(r.out).toContain(`line ${n - 2} `)
    expect(ms).toBeLessThan(1000)
  })
})

describe("rwpsim why", () => {
  it("tells the story of the page the cold-scan race loses", async () => {
    const r = await run(["why", "--page", "guest_mem+0x30000", traceOf(RACE)])
    expect(r.exit).toBe(0)
    const s = r.out
    expect(s).toContain("page guest_mem+0x30000 (guest page 48)")
    const order = [
      "populated: UFFDIO_COPY into guest_mem+0x30000 with a zero page",
      "PAGEMAP_SCAN !PAGE_IS_ACCESSED",
      "UFFDIO_SET_MODE disable RWP_ASYNC",
      "reported cold and evicted: pwrite",
      "wrote 50042 without a fault",
      "hole punched",
      "LOST WRITE",
      "faulted back: UFFDIO_COPY into guest_mem+0x30000 with word 49707",
      "violation of no_data_loss"
    ].map((x) => s.indexOf(x))
    expect(order.every((i) => i >= 0)).toBe(true)
    expect([...order].sort((x, y) => x - y)).toEqual(order)
    expect(s).toMatch(/reported cold and evicted[^\n]*\[tracker cycle 1, sync-evict, sync mode\]/)
    expect(s).toMatch(/summary: .*evicted 1x, faulted back 1x, LOST WRITES 1/)
  })

  it("names the step that did each thing in a script, and refuses unknown names", async () => {
    const r = await run(["why", "--page", "guest_mem+0x6000", traceOf(SCRIPT)])
    expect(r.out).toMatch(/RWP fault by vcpu1 \(read\)[^\n]*\[step 22 \(read\), sync mode\]/)
    expect(r.out).toMatch(/hole punched[^\n]*\[step 33 \(fallocate\)\]/)
    const bad = await run(["why", "--page", "nope+0x1000", traceOf(SCRIPT)])
    expect(bad.exit).toBe(2)
    expect(bad.err).toContain('no mapping named "nope"')
  })
})

describe("rwpsim report", () => {
  it("writes one self-contained HTML file with the trace's data", async () => {
    const out = join(dir, "r.html")
    const r = await run(["report", traceOf(WORKLOAD), "--html", out])
    expect(r.exit).toBe(0)
    const html = readFileSync(out, "utf8")
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/)
    expect(html).toContain("uPlot")
    const d = await reportData(traceOf(WORKLOAD))
    if ("_tag" in d) throw new Error(d.message)
    expect(d.kind).toBe("workload")
    expect(d.columns.length).toBe(d.wss.t.length)
    expect(d.columns.length).toBeGreaterThan(5)
    expect(d.stalls.total).toBe(Number(d.end.metrics.stall_episodes))
    expect(d.invariants.map((i) => i.name)).toEqual([
      "no_data_loss",
      "no_lost_wakeup",
      "protection",
      "scan_soundness",
      "mode",
      "accounting"
    ])
  })
})

describe("progress", () => {
  it("draws virtual time and events/s on a terminal, at most every 100 ms, and clears", () => {
    let text = ""
    let now = 0
    const write = (s: string) => {
      text += s
      return true
    }
    const p = new Progress({ write, columns: 200 }, () => now)
    p.start("x.yaml", 0, 1)
    p.total(10_000_000_000)
    for (let i = 0; i < 5000; i++) {
      now = i / 10
      p.line(`{"t":${i * 1_000_000},"seq":${i},"ev":"x"}`)
    }
    expect(text).toMatch(/\[#+-+\] +\d+% {2}t=\d\.\d{3} s \/ 10\.000 s {2}\d+k events\/s {2}x\.yaml/)
    p.clear()
    expect(text.endsWith("\r\x1b[K")).toBe(true)
  })

  it("rwpsim run prints no bar when stderr is not a terminal", () => {
    const r = spawnSync(
      process.execPath,
      [
        "--conditions=@rwpsim/source",
        "--import",
        "tsx",
        join(root, "packages/cli/src/main.ts"),
        "run",
        SCRIPT,
        "--json"
      ],
      { cwd: root, encoding: "utf8" }
    )
    expect(r.status).toBe(0)
    expect(r.stderr).toBe("")
    expect(JSON.parse(r.stdout).ok).toBe(true)
  })

  it("a user's malformed trace, end to end: exit 2, the line, no stack trace", () => {
    const bad = write(
      "e2e.jsonl",
      '{"rwpsim":"0.1.0","scenario":"x","seed":0}\n{"t":0,"seq":0,"ev":"a"}\n{"t":0,"seq":1,'
    )
    const r = spawnSync(
      process.execPath,
      ["--conditions=@rwpsim/source", "--import", "tsx", join(root, "packages/cli/src/main.ts"), "trace", bad],
      { cwd: root, encoding: "utf8" }
    )
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/e2e\.jsonl:3: truncated: the last line has no end of line \(not a JSON line/)
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
  })
})
