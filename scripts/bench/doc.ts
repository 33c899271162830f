// docs/performance.md, written by the bench: the scaling section (`--scaling`) and the cases'
// table (`--doc`), each between its own markers, so that one run rewrites only its part.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import type { ScalingRow } from "./scaling.ts"

const HEADER = `# Performance

Written by \`npm run bench\` (scripts/bench/): \`npm run bench -- --doc\` rewrites the cases' section,
\`npm run bench -- --scaling\` the scaling section. How to read the numbers, what the cases are and
what limits them: scripts/bench/README.md.
`

function replaceSection(path: string, name: string, body: string): void {
  const begin = `<!-- bench:${name} begin -->`
  const end = `<!-- bench:${name} end -->`
  let text = existsSync(path) ? readFileSync(path, "utf8") : HEADER
  const block = `${begin}\n${body.trimEnd()}\n${end}`
  const i = text.indexOf(begin)
  const j = text.indexOf(end)
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length)
  else text = `${text.trimEnd()}\n\n${block}\n`
  writeFileSync(path, text.endsWith("\n") ? text : `${text}\n`)
}

const machine = (): string => `${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}`

export function writeCasesSection(path: string, table: readonly string[], targets: readonly string[]): void {
  replaceSection(
    path,
    "cases",
    `## The cases (last \`npm run bench -- --doc\`, ${machine()})\n\n${table.join("\n")}\n\nTargets:\n\n${targets.join("\n")}\n`
  )
}

/** The exponent k of wall ∝ x^k between two points. */
const exponent = (x0: number, y0: number, x1: number, y1: number): number => Math.log(y1 / y0) / Math.log(x1 / x0)

interface Derived {
  readonly label: string
  readonly x: number
  readonly wall_s: number
  readonly accesses: number
  readonly ns_per_access: number
  readonly us_per_fault: number
  readonly rss_mib: number
  readonly m: Record<string, number>
}

function derive(r: ScalingRow, label: string, x: number): Derived {
  const m = (r.row.metrics ?? {}) as Record<string, number>
  const accesses = Number(m.guest_accesses ?? 0)
  const faults = Number(m.missing_faults ?? 0) + Number(m.rwp_faults_sync ?? 0)
  return {
    label,
    x,
    wall_s: r.row.wall_ms / 1000,
    accesses,
    ns_per_access: (r.row.wall_ms * 1e6) / Math.max(1, accesses),
    us_per_fault: faults === 0 ? 0 : (r.row.wall_ms * 1e3) / faults,
    rss_mib: r.row.rss_bytes / 2 ** 20,
    m
  }
}

function series(rows: readonly Derived[], what: string): string[] {
  const out = [
    `| ${what} | wall s | growth exponent | guest accesses | MISSING faults | pages evicted | cycles | wall ns / access | peak RSS MiB |`,
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  rows.forEach((d, i) => {
    const k = i === 0 ? "-" : exponent(rows[i - 1]!.x, rows[i - 1]!.wall_s, d.x, d.wall_s).toFixed(2)
    out.push(
      `| ${d.label} | ${d.wall_s.toFixed(1)} | ${k} | ${d.accesses.toLocaleString("en-US")} | ${Number(d.m.missing_faults ?? 0).toLocaleString("en-US")} | ${Number(d.m.pages_evicted ?? 0).toLocaleString("en-US")} | ${d.m.cycles ?? 0} | ${d.ns_per_access.toFixed(0)} | ${d.rss_mib.toFixed(0)} |`
    )
  })
  return out
}

export function writeScalingSection(path: string, rows: readonly ScalingRow[], duration: string): void {
  const sizes = rows
    .filter((r) => r.vcpus === 4)
    .sort((a, b) => a.size_gib - b.size_gib)
    .map((r) => derive(r, `${r.size_gib} GiB`, r.size_gib))
  const vcpus = rows
    .filter((r) => r.size_gib === 4)
    .sort((a, b) => a.vcpus - b.vcpus)
    .map((r) => derive(r, `${r.vcpus}`, r.vcpus))
  const kSize = sizes.length > 1 ? exponent(sizes[0]!.x, sizes[0]!.wall_s, sizes.at(-1)!.x, sizes.at(-1)!.wall_s) : 1
  const kVcpu = vcpus.length > 1 ? exponent(vcpus[0]!.x, vcpus[0]!.wall_s, vcpus.at(-1)!.x, vcpus.at(-1)!.wall_s) : 1
  const body = [
    `## Scaling (last \`npm run bench -- --scaling\`, ${machine()})`,
    "",
    `One workload run per point, each in a fresh process, through the workload runner without a trace:`,
    `a shmem guest, hot_cold (10% of memory hot, 90% of accesses there), 30% writes, access_ns 1000,`,
    `RWP hot-scan every 1 s, ${duration} of virtual time. "growth exponent" is k in wall ∝ x^k from the row`,
    `above: 1 is linear. Over the whole range: k = ${kSize.toFixed(2)} in guest size, ${kVcpu.toFixed(2)} in vCPUs.`,
    "",
    "### Wall time against guest size (4 vCPUs)",
    "",
    ...series(sizes, "guest"),
    "",
    "### Wall time against vCPUs (4 GiB)",
    "",
    ...series(vcpus, "vCPUs"),
    "",
    "### What grows faster than linearly, and why",
    "",
    ...SCALING_NOTES
  ]
  replaceSection(path, "scaling", body.join("\n"))
}

/** The reading of the tables (scripts/bench/README.md has the measurements behind it). */
const SCALING_NOTES = [
  "- Guest size, with the virtual duration and the vCPUs fixed: the guest's accesses are fixed by",
  "  vCPUs x duration / access_ns, so any growth is work per page. Three kinds: (1) first touches:",
  "  every page the guest reaches for the first time is a MISSING fault the fault handler answers",
  "  (a userfault round trip through the VMM's Effect fibers, tens of microseconds of wall time",
  "  each), and a larger guest has more distinct pages under the same access stream, so more of",
  "  the fixed accesses are faults; (2) the tracker's per-cycle walks (UFFDIO_RWPROTECT, PAGEMAP_SCAN)",
  "  and the checker's per-cycle sweeps over every page, linear in pages per cycle; (3) memory: the",
  "  state (page tables of two mappings, frames, page cache, ground truth, checker and VMM arrays)",
  "  outgrows the caches and the TLB, so every access and every walk costs more: that is the part",
  "  that makes the wall time per access rise with the guest, i.e. faster than the work alone.",
  "- vCPUs, at a fixed guest: accesses grow linearly with vCPUs, and so would the wall time if the",
  "  vCPUs did not interact. They do: more vCPUs mean more faults in flight for the one fault",
  "  handler, more rounds cut short by VMM events, and a sync-mode eviction that blocks more vCPUs",
  "  (each block and wake is a scheduler event). The exponent shows how much of that is above linear."
]
