// `rwpsim why --page ADDR FILE`: the story of one page, streamed from the trace.
import { AddressSpace, formatTime, type PageTarget, PageStory, TraceError } from "@rwpsim/trace"
import type { Command } from "../args.ts"
import type { Io } from "../output.ts"
import { readThreaded } from "../traceInput.ts"
import type { ExitCode } from "./run.ts"

type WhyCommand = Extract<Command, { cmd: "why" }>

export async function whyCommand(c: WhyCommand, io: Io): Promise<ExitCode> {
  const space = new AddressSpace()
  const story = new PageStory(() => space.guest !== null)
  let page: PageTarget | undefined
  let problem = "not in the trace"
  const r = await readThreaded(c.file, (e, thread) => {
    space.learn(e)
    if (page === undefined || e.ev === "k.mmap" || e.ev === "workload.setup") {
      const p = space.resolve(c.page.base, c.page.offset)
      if (typeof p === "string") problem = p
      else page = p
    }
    story.event(e, thread, space, page)
    return undefined
  })
  if (r instanceof TraceError) {
    io.err(`rwpsim: ${r.format()}`)
    return 2
  }
  if (page === undefined) {
    io.err(`rwpsim: --page ${c.page.text}: ${problem}`)
    return 2
  }
  const also = page.aliases.slice(1).map((a) => space.show(a))
  const file = page.file === null ? "anonymous" : `file ${page.file.name} at offset 0x${page.file.off.toString(16)}`
  io.out(`page ${page.label}: ${file}${also.length > 0 ? `, also mapped at ${also.join(", ")}` : ""}`)
  io.out(`trace: ${r.header.scenario}, seed ${r.header.seed}, ${r.lines - 1} events`)
  io.out("")
  if (story.lines.length === 0) io.out("  nothing in the trace concerns this page")
  for (const l of story.lines) {
    const rep =
      l.repeats > 0
        ? ` (and ${l.repeats} more time${l.repeats > 1 ? "s" : ""}, the last at ${formatTime(l.lastT, 0)})`
        : ""
    const why = l.why === "" ? "" : `  [${l.why}]`
    const mark = l.kind === "loss" ? "!!" : l.kind === "context" ? " ·" : "  "
    io.out(`${mark}${formatTime(l.t)}  ${l.thread.padEnd(8)}  ${l.text}${rep}${why}`)
  }
  const s = story.summary()
  io.out("")
  io.out(
    `summary: populated ${s.populated}x, protected ${s.protected}x, accessed by ${s.accessedBy.length > 0 ? s.accessedBy.join(", ") : "nobody traced"}, ` +
      `evicted ${s.evicted}x, faulted back ${s.faultedBack}x${s.losses > 0 ? `, LOST WRITES ${s.losses}` : ""}`
  )
  return 0
}
