// `rwpsim report FILE --html OUT.html`: one self-contained HTML file (uPlot inlined, no fetches).
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { AddressSpace, ReportBuilder, type ReportData, renderReport, TraceError } from "@rwpsim/trace"
import type { Command } from "../args.ts"
import type { Io } from "../output.ts"
import { readTrace } from "../traceInput.ts"
import type { ExitCode } from "./run.ts"

type ReportCommand = Extract<Command, { cmd: "report" }>

/** uPlot's bundle and stylesheet, from its package. */
export function uplotAssets(): { uplotJs: string; uplotCss: string } {
  const require = createRequire(import.meta.url)
  return {
    uplotJs: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
    uplotCss: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8")
  }
}

/** The report's data, from one pass over the trace. */
export async function reportData(file: string): Promise<ReportData | TraceError> {
  const space = new AddressSpace()
  let builder: ReportBuilder | undefined
  const r = await readTrace(file, (e, header) => {
    builder ??= new ReportBuilder(header)
    space.learn(e)
    builder.event(e, space)
    return undefined
  })
  if (r instanceof TraceError) return r
  return (builder ?? new ReportBuilder(r.header)).finish()
}

export async function reportCommand(c: ReportCommand, io: Io): Promise<ExitCode> {
  const data = await reportData(c.file)
  if (data instanceof TraceError) {
    io.err(`rwpsim: ${data.format()}`)
    return 2
  }
  const html = renderReport(data, uplotAssets())
  try {
    writeFileSync(c.html, html)
  } catch (e) {
    io.err(`rwpsim: --html ${c.html}: cannot write (${(e as { code?: string }).code ?? "EIO"})`)
    return 2
  }
  io.err(
    `wrote ${c.html}: ${data.columns.length} columns x ${data.rows} rows, ${data.wss.t.length} WSS points, ${data.stalls.total} stalls, ` +
      `${data.violations.length} violations (${Math.round(html.length / 1024)} KiB)`
  )
  return 0
}
