// `rwpsim sweep FILE... --seeds 1..10000 [--jobs N] [--shard I/N] [--out PATH]`: every file under
// every seed, on worker threads (one per core by default). One JSONL row per run, in run order
// (files x seeds, file-major) whatever the number of jobs, so that a sweep's output is a pure
// function of its arguments; a progress bar on a terminal's stderr; at the end, on stderr, a summary
// with each failure's replay command. `--shard I/N` keeps the runs r with r % N == I (the index may
// come from JOB_COMPLETION_INDEX: `--shard /N`); the rows of N shards, merged by their `run`
// (`sort -t: -k2,2n`), are the rows of the unsharded sweep.
import { closeSync, openSync, writeSync } from "node:fs"
import { availableParallelism } from "node:os"
import { unknownMutant } from "../args.ts"
import type { ScenarioError } from "@rwpsim/scenario"
import type { Io } from "../output.ts"
import { inShard, type ShardSpec, shardIndex } from "../seeds.ts"
import { spawnWorker } from "../worker.ts"
import type { RunFailure, RunTask, WorkerInit, WorkerMessage } from "./sweepWorker.ts"

export interface SweepCommand {
  readonly cmd: "sweep"
  readonly files: readonly string[]
  readonly seeds: readonly number[]
  /** Worker threads; undefined: one per core. */
  readonly jobs: number | undefined
  readonly shard: ShardSpec | undefined
  /** Where the rows go (default stdout). */
  readonly out: string | undefined
  /** --progress / --no-progress; undefined: a bar when stderr is a terminal. */
  readonly progress: boolean | undefined
  /** --hash: each row's trace_sha256 (the run is traced and hashed; slower). */
  readonly hash: boolean
  readonly mutants: readonly string[]
}

/** Failures listed in the summary (all are in the rows). */
const SUMMARY_MAX = 50
/** Characters of a failure's message in the summary (the row has all of it). */
const MESSAGE_MAX = 200
const REDRAW_MS = 200

const showDuration = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`

/** The progress bar on stderr (a terminal): redrawn in place with \r, at most every REDRAW_MS. */
class Bar {
  readonly #total: number
  readonly #t0 = performance.now()
  #drawn = 0
  #shown = false

  constructor(total: number) {
    this.#total = total
  }

  update(done: number, failed: number, force = false): void {
    const now = performance.now()
    if (!force && now - this.#drawn < REDRAW_MS) return
    this.#drawn = now
    const width = 30
    const fill = this.#total === 0 ? width : Math.round((done / this.#total) * width)
    const rate = done / Math.max(1e-3, (now - this.#t0) / 1000)
    const eta = rate > 0 ? ((this.#total - done) / rate) * 1000 : 0
    process.stderr.write(
      `\r[${"#".repeat(fill)}${" ".repeat(width - fill)}] ${done}/${this.#total} runs, ${failed} failed, ${rate.toFixed(1)} runs/s, ETA ${showDuration(eta)}  `
    )
    this.#shown = true
  }

  clear(): void {
    if (this.#shown) process.stderr.write(`\r${" ".repeat(100)}\r`)
    this.#shown = false
  }
}

export async function sweepCommand(
  c: SweepCommand,
  io: Io,
  env: Readonly<Record<string, string | undefined>>,
  /** Aborted on Ctrl-C: no further runs, the runs in flight are dropped, and the summary says so (exit 130). */
  interrupt?: AbortSignal
): Promise<0 | 1 | 2 | 130> {
  const unknown = await unknownMutant(c.mutants)
  if (unknown !== undefined) {
    io.err(`rwpsim: ${unknown.message}`)
    return 2
  }
  let shard: { index: number; count: number } | undefined
  if (c.shard !== undefined) {
    const i = shardIndex(c.shard, env)
    if (typeof i === "string") {
      io.err(`rwpsim: ${i}`)
      return 2
    }
    shard = { index: i, count: c.shard.count }
  }
  const tasks: RunTask[] = []
  let run = 0
  for (const file of c.files) {
    for (const seed of c.seeds) {
      if (shard === undefined || inShard(run, shard.index, shard.count)) tasks.push({ run, file, seed })
      run++
    }
  }
  const jobs = Math.max(1, Math.min(c.jobs ?? availableParallelism(), tasks.length))
  // opened once the files are known valid (an invalid sweep leaves --out as it was)
  let fd: number | undefined
  const write = (line: string) => {
    if (fd === undefined) io.out(line)
    else writeSync(fd, `${line}\n`)
  }
  // every file must be a valid scenario before anything runs: the workers start at once, each reads
  // and validates the files (the main thread never loads the simulator), and the first to be ready
  // reports; the runs start when it found none invalid
  const init: WorkerInit = { files: [...new Set(c.files)], mutants: c.mutants, hash: c.hash }
  const workers = Array.from({ length: jobs }, () => spawnWorker("./commands/sweepWorker", init))
  const t0 = performance.now()
  const rows: (string | undefined)[] = new Array(tasks.length)
  const position = new Map<number, number>(tasks.map((t, i) => [t.run, i]))
  let next = 0
  let emitted = 0
  let done = 0
  const failures: { run: number; failure: RunFailure }[] = []
  let worst: 0 | 1 | 2 = 0
  let bar: Bar | undefined

  let interrupted = false
  const invalid = await new Promise<readonly ScenarioError[]>((resolve, reject) => {
    interrupt?.addEventListener("abort", () => {
      interrupted = true
      next = tasks.length
      resolve([])
    })
    let checked = false
    let finished = 0
    for (const w of workers) {
      let inflight = 0
      const give = () => {
        if (next < tasks.length) {
          w.postMessage(tasks[next++])
          inflight++
        }
      }
      const retireIfIdle = () => {
        if (inflight > 0) return
        w.postMessage(null)
        if (++finished === workers.length) resolve([])
      }
      w.on("message", (m: WorkerMessage) => {
        if (interrupted) return
        if (m.kind === "ready") {
          if (!checked) {
            checked = true
            if (m.errors.length > 0) return resolve(m.errors)
            try {
              if (c.out !== undefined) fd = openSync(c.out, "w")
            } catch (e) {
              return reject(e)
            }
            bar = (c.progress ?? io.stderrTTY) ? new Bar(tasks.length) : undefined
          }
          // two runs in flight per worker: the next one is there when the current one ends
          give()
          give()
          retireIfIdle()
          return
        }
        inflight--
        rows[position.get(m.run)!] = m.line
        done++
        if (m.failure !== undefined) failures.push({ run: m.run, failure: m.failure })
        if (m.exit > worst) worst = m.exit as 0 | 1 | 2
        // rows leave in run order: the prefix that is complete
        while (emitted < rows.length && rows[emitted] !== undefined) {
          write(rows[emitted]!)
          rows[emitted] = undefined
          emitted++
        }
        bar?.update(done, failures.length)
        give()
        retireIfIdle()
      })
      w.on("error", reject)
    }
  })
  if (interrupted) await Promise.all(workers.map((w) => w.terminate()))
  if (invalid.length > 0) {
    await Promise.all(workers.map((w) => w.terminate()))
    if (fd !== undefined) closeSync(fd)
    for (const e of invalid) io.err(`${e.file}${e.path.length > 0 ? `: ${e.path.join(".")}` : ""}: ${e.message}`)
    return 2
  }
  bar?.update(done, failures.length, true)
  bar?.clear()
  if (fd !== undefined) closeSync(fd)
  io.flush()

  const ms = performance.now() - t0
  const where = shard === undefined ? "" : `, shard ${shard.index}/${shard.count}`
  const runs = `${tasks.length} runs (${c.files.length} file(s) x ${c.seeds.length} seed(s)${where})`
  const rate = `${showDuration(ms)} (${((done * 1000) / Math.max(1, ms)).toFixed(1)} runs/s)`
  io.err(
    interrupted
      ? `rwpsim sweep: interrupted after ${done} of ${runs}: the first ${emitted} rows in run order are written; ${failures.length} failed, ${jobs} job(s), ${rate}`
      : `rwpsim sweep: ${runs}, ${failures.length} failed, ${jobs} job(s), ${rate}`
  )
  failures.sort((a, b) => a.run - b.run)
  for (const { failure: f } of failures.slice(0, SUMMARY_MAX)) {
    const why = f.message
    io.err(`  FAIL ${f.scenario} seed ${f.seed}: ${why.length > MESSAGE_MAX ? `${why.slice(0, MESSAGE_MAX)}...` : why}`)
    io.err(`    replay: ${f.replay}`)
  }
  if (failures.length > SUMMARY_MAX) io.err(`  ... and ${failures.length - SUMMARY_MAX} more (every run has its row)`)
  return interrupted ? 130 : worst
}
