// The human summary of a run: what a user reads first, so the verdict and the replay command lead.
import type { RunResult } from "@rwpsim/sim"

function metricLines(metrics: RunResult["metrics"]): string[] {
  const keys = Object.keys(metrics)
  if (keys.length === 0) return []
  const width = Math.max(...keys.map((k) => k.length))
  return keys.map((k) => `  ${k.padEnd(width)}  ${String(metrics[k])}`)
}

export function formatRun(
  file: string,
  name: string,
  seed: number,
  result: RunResult,
  replay: string
): { stdout: string[]; stderr: string[] } {
  const head = `${result.ok ? "PASS" : "FAIL"}  ${name}  (${file}, seed ${seed})`
  const stdout = [head, ...metricLines(result.metrics)]
  const stderr: string[] = []
  for (const f of result.failures) {
    const where = f.step !== null ? `step ${f.step} (${f.op})` : `invariant ${f.invariant}`
    stderr.push(`${file}: ${name}, seed ${seed}: ${where}: ${f.message}`)
  }
  if (!result.ok) stderr.push(`  replay: ${replay}`)
  return { stdout, stderr }
}
