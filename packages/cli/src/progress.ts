// The progress bar of a long `rwpsim run` on a terminal's stderr: virtual time reached (against the
// workload's duration when there is one) and trace events per wall-clock second. It is fed by the
// trace sink, line by line, so the simulation knows nothing of it; the wall clock is read here only
// (the CLI may read it; simulation packages may not).

/** Virtual time with 3 decimals in the unit that suits it. */
function showTime(ns: number): string {
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(3)} us`
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(3)} ms`
  return `${(ns / 1_000_000_000).toFixed(3)} s`
}

const WIDTH = 24
const EVERY_LINES = 2048
const REDRAW_MS = 100

export interface ProgressStream {
  write(s: string): boolean
  readonly columns?: number
}

export class Progress {
  readonly #out: ProgressStream
  readonly #now: () => number
  #file = ""
  #label = ""
  #total_ns = 0
  #lines = 0
  #t_ns = 0
  #since = 0
  #started_ms = 0
  #drawn_ms = 0
  #shown = false

  constructor(out: ProgressStream, now: () => number = () => performance.now()) {
    this.#out = out
    this.#now = now
  }

  /** A new file (`i` of `n`). */
  start(file: string, i: number, n: number): void {
    this.#file = file
    this.#label = n > 1 ? `[${i + 1}/${n}] ` : ""
    this.#total_ns = 0
    this.#lines = 0
    this.#since = 0
    this.#t_ns = 0
    this.#started_ms = this.#now()
    this.#drawn_ms = this.#started_ms
  }

  /** The virtual time the run will reach (0: unknown, no percentage). */
  total(ns: number): void {
    this.#total_ns = ns
  }

  /** One trace line written (cheap: the clock is read every EVERY_LINES lines). */
  line(s: string): void {
    this.#lines++
    if (++this.#since < EVERY_LINES) return
    this.#since = 0
    const now = this.#now()
    if (now - this.#drawn_ms < REDRAW_MS) return
    // the line starts {"t":NS,
    const comma = s.indexOf(",")
    if (s.startsWith('{"t":') && comma > 5) this.#t_ns = Number(s.slice(5, comma))
    this.#draw(now)
  }

  #draw(now: number): void {
    this.#drawn_ms = now
    const secs = Math.max((now - this.#started_ms) / 1000, 1e-3)
    const rate = this.#lines / secs
    const rateText =
      rate >= 1e6 ? `${(rate / 1e6).toFixed(1)}M` : rate >= 1e3 ? `${(rate / 1e3).toFixed(0)}k` : `${Math.round(rate)}`
    let bar = ""
    if (this.#total_ns > 0) {
      const f = Math.min(1, this.#t_ns / this.#total_ns)
      const n = Math.round(f * WIDTH)
      bar = `[${"#".repeat(n)}${"-".repeat(WIDTH - n)}] ${String(Math.floor(f * 100)).padStart(3)}%  `
    }
    const of = this.#total_ns > 0 ? ` / ${showTime(this.#total_ns)}` : ""
    let text = `${this.#label}${bar}t=${showTime(this.#t_ns)}${of}  ${rateText} events/s  ${this.#file}`
    const cols = this.#out.columns ?? 100
    if (text.length >= cols) text = text.slice(0, cols - 1)
    this.#out.write(`\r${text}\x1b[K`)
    this.#shown = true
  }

  /** Removes the bar (before the run's summary is printed). */
  clear(): void {
    if (this.#shown) this.#out.write("\r\x1b[K")
    this.#shown = false
  }
}
