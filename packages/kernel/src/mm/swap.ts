// mm/swapfile.c: one swap area. A slot holds the word of the page written to it. Slots are reused
// last-in first-out, so slot numbers are a pure function of the run.

export class SwapArea {
  word: Uint32Array = new Uint32Array(256)
  private free_stack: number[] = []
  private next = 0
  used = 0

  /** get_swap_page() + swap_writepage(): a slot now holding `word`. */
  store(word: number): number {
    const slot = this.free_stack.length > 0 ? this.free_stack.pop()! : this.next++
    if (slot >= this.word.length) {
      const w = new Uint32Array(this.word.length * 2)
      w.set(this.word)
      this.word = w
    }
    this.word[slot] = word
    this.used++
    return slot
  }

  load(slot: number): number {
    return this.word[slot]!
  }

  /** swap_free() */
  free(slot: number): void {
    this.used--
    this.free_stack.push(slot)
  }
}
