// Where a command's text goes: stdout and stderr as sinks a test can replace. Stdout is buffered
// and written synchronously in large chunks (a million-line view stays fast); a reader that went
// away (`rwpsim trace big.jsonl | head`) ends the command quietly.
import { writeSync } from "node:fs"

export interface Io {
  /** One line to stdout. */
  readonly out: (line: string) => void
  /** One line to stderr. */
  readonly err: (line: string) => void
  /** Flushes stdout. */
  readonly flush: () => void
  /** Whether stdout is a terminal (colour). */
  readonly stdoutTTY: boolean
  /** Whether stderr is a terminal (progress). */
  readonly stderrTTY: boolean
}

/** Thrown by `out` once stdout's reader has gone; commands let it through to main. */
export class OutputClosed {
  readonly _tag = "OutputClosed"
}

const CHUNK = 1 << 16

/** The process's stdout and stderr. */
export function processIo(): Io {
  let pending: string[] = []
  let bytes = 0
  let closed = false
  const flush = () => {
    if (pending.length === 0 || closed) return
    const text = pending.join("")
    pending = []
    bytes = 0
    try {
      let buf = Buffer.from(text)
      while (buf.length > 0) {
        const n = writeSync(1, buf)
        buf = buf.subarray(n)
      }
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code === "EPIPE") {
        closed = true
        throw new OutputClosed()
      }
      if (code === "EAGAIN") return void process.stdout.write(text)
      throw e
    }
  }
  return {
    out: (line) => {
      pending.push(line, "\n")
      bytes += line.length + 1
      if (bytes >= CHUNK) flush()
    },
    err: (line) => {
      flush()
      process.stderr.write(`${line}\n`)
    },
    flush,
    stdoutTTY: process.stdout.isTTY === true,
    stderrTTY: process.stderr.isTTY === true
  }
}

/** An Io that keeps the lines (tests). */
export function memoryIo(tty = false): Io & { readonly stdout: string[]; readonly stderr: string[] } {
  const stdout: string[] = []
  const stderr: string[] = []
  return {
    stdout,
    stderr,
    out: (l) => void stdout.push(l),
    err: (l) => void stderr.push(l),
    flush: () => {},
    stdoutTTY: tty,
    stderrTTY: tty
  }
}
