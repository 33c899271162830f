// The trace sink of one run: hashes every byte (trace_sha256 is reported with or without --trace)
// and, with --trace, appends to a file with synchronous writes so nothing is lost on failure or
// interrupt (at most one buffered chunk; flush() is called from the exit and SIGINT paths).
//
// Lines are joined into a batch of about 8 K characters, each batch is encoded into a 64 KiB
// buffer, and the buffer is hashed (and written) when the next batch does not fit: sha256 over
// the chunks is sha256 over the lines. One hash update (or one encode) per line cost more than
// the hash itself, each a call into C++ that first flattens the line (a rope of its pieces); a
// 64 KiB string of lines is flattened long after its pieces have left the cache.
import { createHash, type Hash } from "node:crypto"
import { closeSync, openSync, writeSync } from "node:fs"

const CHUNK_BYTES = 1 << 16
const BATCH_CHARS = 1 << 13
// UTF-8 takes at most 3 bytes per UTF-16 code unit.
const MAX_BYTES_PER_CHAR = 3

export class TraceFile {
  private readonly hash: Hash = createHash("sha256")
  private readonly fd: number | undefined
  private readonly chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES)
  private used = 0
  private batch = ""
  private closed = false

  readonly #onLine: ((s: string) => void) | undefined

  /** `onLine` sees every line written (the progress bar). */
  constructor(path: string | undefined, onLine?: (s: string) => void) {
    this.fd = path === undefined ? undefined : openSync(path, "w")
    this.#onLine = onLine
  }

  write(s: string): void {
    this.#onLine?.(s)
    this.batch += s
    if (this.batch.length >= BATCH_CHARS) this.#encodeBatch()
  }

  /** Moves the batch into the chunk, emptying the chunk first if it might not fit. */
  #encodeBatch(): void {
    const batch = this.batch
    this.batch = ""
    const most = batch.length * MAX_BYTES_PER_CHAR
    if (most > CHUNK_BYTES - this.used) {
      this.#emptyChunk()
      if (most > CHUNK_BYTES) {
        // longer than a chunk (a huge line): on its own
        this.#out(Buffer.from(batch, "utf8"))
        return
      }
    }
    this.used += this.chunk.write(batch, this.used)
  }

  #emptyChunk(): void {
    if (this.used === 0) return
    const bytes = this.chunk.subarray(0, this.used)
    this.used = 0
    this.#out(bytes)
  }

  #out(bytes: Buffer): void {
    this.hash.update(bytes)
    if (this.fd === undefined) return
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done)
  }

  /** Hashes (and writes, with a file) every line written so far. */
  flush(): void {
    if (this.batch.length > 0) this.#encodeBatch()
    this.#emptyChunk()
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
