// The HTML report in a real headless Chromium (Debian's chromium, driven by playwright-core; no
// browser download): no console errors, no network request, and the charts drew what the trace
// holds (the page's own account in window.__rwpsim, checked against the trace, and canvas pixels).
// Saves docs/report.png. Run with `npm run test:browser`.
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { reportData, uplotAssets } from "../src/commands/report.ts"
import { renderReport, type ReportData } from "@rwpsim/trace"
import { dir, root, SCRIPT, traceOf } from "./traces.ts"

/** A bundled workload whose hot set moves: the heatmap shows it (and the README's screenshot). */
const PHASES = join(root, "scenarios", "workloads", "x86-shmem-phase-shift.yaml")

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium"
const have = existsSync(CHROMIUM)
if (!have) process.stderr.write(`report.browser.test: ${CHROMIUM} not found: install Debian's chromium\n`)

interface Drawn {
  ready: boolean
  heatmap: {
    cols: number
    rows: number
    cellsWithAccess: number
    cellsWithHot: number
    cellsWithEvict: number
    maxAccessed: number
  }
  wss: { points: number; truth: number[]; estimated: number[] }
  stalls: { bars: number; total: number; max: number }
  invariants: { name: string; status: string; violations: number }[]
}

let browser: Browser

async function open(
  data: ReportData,
  name: string
): Promise<{ page: Page; errors: string[]; requests: string[]; drawn: Drawn }> {
  const file = join(dir, `${name}.html`)
  writeFileSync(file, renderReport(data, uplotAssets()))
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
  const errors: string[] = []
  const requests: string[] = []
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(m.text())
  })
  page.on("pageerror", (e) => errors.push(e.message))
  page.on("request", (r) => {
    if (r.url() !== `file://${file}`) requests.push(r.url())
  })
  await page.goto(`file://${file}`)
  await page.waitForFunction(() => (window as unknown as { __rwpsim?: Drawn }).__rwpsim?.ready === true, null, {
    timeout: 30_000
  })
  const drawn = await page.evaluate(() => (window as unknown as { __rwpsim: Drawn }).__rwpsim)
  return { page, errors, requests, drawn }
}

const cellsWhere = (d: ReportData, f: (c: ReportData["columns"][number], r: number) => boolean) =>
  d.columns.reduce((n, c) => n + c.accessed.filter((_, r) => f(c, r)).length, 0)

describe.skipIf(!have)("rwpsim report in Chromium", () => {
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] })
  })
  afterAll(async () => {
    await browser?.close()
  })

  it("a workload run: heatmap, WSS, stalls and invariants drawn from the trace", async () => {
    const data = await reportData(traceOf(PHASES))
    if ("_tag" in data) throw new Error(data.message)
    const { page, errors, requests, drawn } = await open(data, "workload")
    expect(errors).toEqual([])
    expect(requests).toEqual([])
    // the heatmap: one column per cycle, one row per group of pages, the cells the trace fills
    expect(drawn.heatmap.cols).toBe(data.columns.length)
    expect(drawn.heatmap.rows).toBe(data.rows)
    expect(drawn.heatmap.cellsWithAccess).toBe(cellsWhere(data, (c, r) => c.accessed[r]! > 0))
    expect(drawn.heatmap.cellsWithHot).toBe(cellsWhere(data, (c, r) => c.hot[r]! > 0))
    expect(drawn.heatmap.cellsWithEvict).toBe(cellsWhere(data, (c, r) => c.evicted[r]! > 0))
    expect(drawn.heatmap.cellsWithEvict).toBeGreaterThan(0)
    // and the canvas holds it: the busiest cell is dark blue, an untouched one white
    const px = await page.evaluate(
      ({ hot, cold }) => {
        const c = document.getElementById("heatmap") as HTMLCanvasElement
        const g = c.getContext("2d")!
        const cw = c.width / hot.cols
        const ch = c.height / hot.rows
        const at = (col: number, row: number) =>
          Array.from(g.getImageData(Math.floor(col * cw + 1), Math.floor(row * ch + ch / 2), 1, 1).data)
        return { busy: at(hot.col, hot.row), idle: cold === null ? null : at(cold.col, cold.row) }
      },
      (() => {
        let best = { col: 0, row: 0, n: -1 }
        let idle: { col: number; row: number } | null = null
        for (const [i, c] of data.columns.entries()) {
          for (const [r, n] of c.accessed.entries()) {
            if (n > best.n && c.evicted[r] === 0 && c.refaulted[r] === 0) best = { col: i, row: r, n }
            if (n === 0 && c.evicted[r] === 0 && c.refaulted[r] === 0 && c.hot[r] === 0) idle ??= { col: i, row: r }
          }
        }
        return { hot: { cols: data.columns.length, rows: data.rows, col: best.col, row: best.row }, cold: idle }
      })()
    )
    expect(px.busy[2]).toBeGreaterThan(px.busy[0]! + 40)
    expect(px.busy[0]).toBeLessThan(120)
    if (px.idle !== null) expect(px.idle.slice(0, 3)).toEqual([255, 255, 255])
    // WSS: one point per cycle, the values of the trace's workload.cycle lines
    expect(drawn.wss.points).toBe(data.wss.t.length)
    expect(drawn.wss.truth).toEqual(data.wss.truth)
    expect(drawn.wss.estimated).toEqual(data.wss.estimated)
    // stalls: every vcpu.done episode is counted once
    expect(drawn.stalls.total).toBe(data.stalls.total)
    expect(drawn.stalls.total).toBe(Number(data.end.metrics.stall_episodes))
    // two uPlot charts, each with ink on its canvas
    const inked = await page.evaluate(() =>
      Array.from(document.querySelectorAll(".uplot canvas")).map((c) => {
        const cv = c as HTMLCanvasElement
        const d = cv.getContext("2d")!.getImageData(0, 0, cv.width, cv.height).data
        let ink = 0
        for (let i = 0; i < d.length; i += 4)
          if (d[i + 3]! > 0 && (d[i]! < 200 || d[i + 1]! < 200 || d[i + 2]! < 200)) ink++
        return ink
      })
    )
    expect(inked).toHaveLength(2)
    for (const n of inked) expect(n).toBeGreaterThan(100)
    // invariants: the six, each held or violated as the trace says, and the run's verdict
    expect(drawn.invariants.map((i) => [i.name, i.status])).toEqual(
      data.invariants.map((i) => [i.name, i.violations > 0 ? "violated" : "held"])
    )
    expect(await page.locator("#verdict").textContent()).toBe(data.end.ok === true ? "PASS" : "FAIL")
    await page.screenshot({ path: join(root, "docs", "report.png"), fullPage: true })
    await page.close()
  })

  it("a failing run shows its violations; a script its accesses", async () => {
    const race = await reportData(traceOf(join(root, "scenarios", "race", "seed-001-cold-scan.yaml")))
    if ("_tag" in race) throw new Error(race.message)
    const r = await open(race, "race")
    expect(r.errors).toEqual([])
    const loss = r.drawn.invariants.find((i) => i.name === "no_data_loss")!
    expect(loss.status).toBe("violated")
    expect(loss.violations).toBe(race.invariants.find((i) => i.name === "no_data_loss")!.violations)
    expect(await r.page.locator('tr[data-invariant="no_data_loss"] td.violated').textContent()).toMatch(
      /^violated \d+x$/
    )
    await r.page.close()
    const script = await reportData(traceOf(SCRIPT))
    if ("_tag" in script) throw new Error(script.message)
    const s = await open(script, "script")
    expect(s.errors).toEqual([])
    expect(s.drawn.heatmap.cellsWithAccess).toBeGreaterThan(0)
    expect(s.drawn.wss.points).toBe(0)
    expect(s.drawn.stalls.total).toBe(script.stalls.total)
    expect(s.drawn.invariants.every((i) => i.status === "na")).toBe(true)
    await s.page.close()
  })
})
