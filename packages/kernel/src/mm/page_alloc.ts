// mm/page_alloc.c, reduced to what the model needs: frames with one 32-bit word of content each
// (a huge folio is one frame: its word stands for the whole huge page) and a 16-bit reference
// count (a frame's references are its mappings and the page cache's: a handful; one that would
// pass 65535 is an error, as page_ref_inc()'s overflow check is in a real kernel). Typed arrays
// that grow by half. Freed frames are reused last-in first-out, then new ones taken in order, so
// every pfn is a pure function of the run and the table is as large as the most frames ever in use
// at once: a guest whose cold memory is evicted holds frames for its resident pages only. (Until
// 2026-12-04 a page-cache page asked for the frame at its file index, for locality of the frame
// words; W1 and W2 did not measurably gain from it, and it made the table as large as the largest
// file index touched: 6 B per page of a 64 GiB guest a tenth resident, instead of under 1.)

/** The shared zero page (mm/memory.c: my_zero_pfn). Always reads 0, never freed. */
export const ZERO_PFN = 0

export class FrameTable {
  word: Uint32Array
  refs: Uint16Array
  private free_stack: Int32Array
  private nfree = 0
  private next = 1
  /** Frames in use (not counting the zero page). */
  used = 0

  constructor(initial = 1024) {
    this.word = new Uint32Array(initial)
    this.refs = new Uint16Array(initial)
    this.free_stack = new Int32Array(64)
    this.refs[ZERO_PFN] = 1
  }

  /** alloc_pages(): a frame holding `word`, with one reference: the last freed, else the next never used. */
  alloc(word: number): number {
    const pfn = this.nfree > 0 ? this.free_stack[--this.nfree]! : this.next++
    if (pfn >= this.word.length) this.grow()
    this.word[pfn] = word
    this.refs[pfn] = 1
    this.used++
    return pfn
  }

  get(pfn: number): void {
    if (pfn === ZERO_PFN) return
    if (++this.refs[pfn]! > 0xffff) throw new Error(`get_page: pfn ${pfn} has 65536 references`)
  }

  /** put_page(): drops a reference; the frame is freed at zero. */
  put(pfn: number): void {
    if (pfn === ZERO_PFN) return
    const r = --this.refs[pfn]!
    if (r > 0) return
    if (r < 0) throw new Error(`put_page: pfn ${pfn} has no reference`)
    this.used--
    if (this.nfree === this.free_stack.length) {
      const s = new Int32Array(this.free_stack.length * 2)
      s.set(this.free_stack)
      this.free_stack = s
    }
    this.free_stack[this.nfree++] = pfn
  }

  /** Bytes of state held per frame slot. */
  bytes(): number {
    return this.word.byteLength + this.refs.byteLength + this.free_stack.byteLength
  }

  /** Half as large again (doubling would leave up to half of a large guest's frame state unused). */
  private grow(): void {
    const n = Math.ceil(this.word.length * 1.5)
    const w = new Uint32Array(n)
    w.set(this.word)
    this.word = w
    const r = new Uint16Array(n)
    r.set(this.refs)
    this.refs = r
  }
}
