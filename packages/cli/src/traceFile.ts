// The trace sink of one run: hashes every byte (trace_sha256 is reported with or without --trace)
// and, with --trace, appends to a file with synchronous writes so nothing is lost on failure or
// interrupt (at most one buffered chunk; flush() is called from the exit and SIGINT paths).
import { createHash, type Hash } from "node:crypto"
import { closeSync, openSync, writeSync } from "node:fs"

const CHUNK_BYTES = 1 << 16

export class TraceFile {
  private readonly hash: Hash = createHash("sha256")
  private readonly fd: number | undefined
  private pending: string[] = []
  private pendingBytes = 0
  private closed = false

  readonly #onLine: ((s: string) => void) | undefined

  /** `onLine` sees every line written (the progress bar). */
  constructor(path: string | undefined, onLine?: (s: string) => void) {
    this.fd = path === undefined ? undefined : openSync(path, "w")
    this.#onLine = onLine
  }

  write(s: string): void {
    this.hash.update(s)
    this.#onLine?.(s)
    if (this.fd === undefined) return
    this.pending.push(s)
    this.pendingBytes += s.length
    if (this.pendingBytes >= CHUNK_BYTES) this.flush()
  }

  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return
    writeSync(this.fd, this.pending.join(""))
    this.pending = []
    this.pendingBytes = 0
  }

  /** Flushes, closes and returns the hex sha256 of everything written. */
  close(): string {
    if (!this.closed) {
      this.flush()
      if (this.fd !== undefined) closeSync(this.fd)
      this.closed = true
    }
    return this.hash.copy().digest("hex")
  }
}
