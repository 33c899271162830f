// CheckedMemory's flag byte: what the checker's scan_soundness and protection checks read instead of
// a time per page. A fake kernel answers each access with the code the test sets.
import * as K from "@rwpsim/kernel"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { CheckedMemory, PF_ARMED, PF_PROTECTED, PF_TOUCHED_AT_SCAN, PF_UNTOUCHED } from "../../src/workload/memory.ts"

const PAGE = 4096
const BASE = 0x10000000

function setup(pages = 8) {
  const kernel = {
    page_size: PAGE,
    code: K.ACCESS_DONE as number,
    access_flags: 0,
    access_value: 0,
    window_page: (addr: number) => addr / PAGE,
    access_window(_task: number, _page: number) {
      return this.code
    },
    access(_task: number, _addr: number) {
      return this.code
    }
  }
  const heard: string[] = []
  const mem = new CheckedMemory(
    kernel as unknown as K.Kernel,
    BASE,
    PAGE,
    pages,
    { tlb_miss: 0, page_fault: 0 },
    () => 0,
    {
      armedAccess: (task, page, faulted) => heard.push(`armed ${task} ${page} ${faulted}`),
      watchedWrite: (task, page, value) => heard.push(`write ${task} ${page} ${value}`)
    }
  )
  return { kernel, mem, heard }
}

const touchedAtScan = (mem: CheckedMemory) =>
  [...mem.flags].flatMap((f, p) => ((f & PF_TOUCHED_AT_SCAN) !== 0 ? [p] : []))

describe("CheckedMemory flags", () => {
  it("a protected page counts as touched at the scan only after an access to it completed", () => {
    const { kernel, mem } = setup()
    mem.access_page(0, 1, false, 0) // before any protection: never touched-since
    mem.protect(0, 4)
    expect(mem.flags[2]! & (PF_PROTECTED | PF_UNTOUCHED)).toBe(PF_PROTECTED | PF_UNTOUCHED)
    mem.access_page(0, 2, false, 0)
    kernel.code = K.ACCESS_BLOCKED // a sync fault that sleeps did not complete: not touched
    mem.access_page(1, 3, true, 9)
    kernel.code = K.ACCESS_DONE
    mem.access_page(0, 6, false, 0) // never protected
    expect(mem.snapshotTouched()).toBe(1)
    expect(touchedAtScan(mem)).toEqual([2])
    // the retry completes after the scan: the next scan sees it, and a new protection resets both
    mem.access_page(1, 3, true, 9)
    expect(touchedAtScan(mem)).toEqual([2])
    expect(mem.snapshotTouched()).toBe(2)
    expect(touchedAtScan(mem)).toEqual([2, 3])
    mem.protect(0, 8)
    expect(mem.snapshotTouched()).toBe(0)
    expect(touchedAtScan(mem)).toEqual([])
  })

  it("an access pays the cold path once per protection, then only for armed or watched pages", () => {
    const { mem, heard } = setup()
    mem.protect(0, 2)
    mem.armRange(0, 1)
    mem.access_page(0, 0, false, 0)
    mem.access_page(0, 0, false, 0)
    expect(heard).toEqual(["armed 0 0 false"])
    expect(mem.flags[0]! & (PF_ARMED | PF_UNTOUCHED)).toBe(0)
    mem.watch(1, true)
    mem.access_page(2, 1, true, 5)
    expect(heard).toEqual(["armed 0 0 false", "write 2 1 5"])
    expect(mem.flags[1]! & PF_UNTOUCHED).toBe(0)
  })

  it("protect(), snapshotTouched() and armRange(), four pages a word, do what a loop over the bytes does", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.array(fc.integer({ min: 0, max: 31 }), { maxLength: 70 }),
        fc.nat(),
        fc.nat({ max: 80 }),
        (pages, start, first0, count) => {
          const { mem } = setup(pages)
          for (let p = 0; p < pages; p++) mem.flags[p] = start[p] ?? 0
          const model = Uint8Array.from(mem.flags)
          const first = first0 % (pages + 2)
          mem.protect(first, count)
          for (let p = first; p < Math.min(pages, first + count); p++) model[p]! |= PF_PROTECTED | PF_UNTOUCHED
          expect([...mem.flags], "after protect").toEqual([...model])
          let n = 0
          for (let p = 0; p < pages; p++) {
            const f = model[p]!
            if ((f & (PF_PROTECTED | PF_UNTOUCHED)) === PF_PROTECTED) {
              model[p] = f | PF_TOUCHED_AT_SCAN
              n++
            } else model[p] = f & ~PF_TOUCHED_AT_SCAN
          }
          expect(mem.snapshotTouched(), "pages touched since their protection").toBe(n)
          expect([...mem.flags], "after the snapshot").toEqual([...model])
          // arming counts each page it arms once
          const armed0 = mem.armed
          mem.armRange(first, first + count)
          let newly = 0
          for (let p = first; p < Math.min(pages, first + count); p++) {
            if ((model[p]! & PF_ARMED) === 0) newly++
            model[p]! |= PF_ARMED
          }
          expect([...mem.flags], "after armRange").toEqual([...model])
          expect(mem.armed - armed0, "pages armed").toBe(newly)
        }
      )
    )
  })
})
