// Property tests: random sequences of protect / resolve / access / reclaim / migrate / DONTNEED / mode
// switches against a model of what the man pages promise (seed 002: protection only on populated pages,
// kept across anon reclaim and migration, dropped by shmem reclaim, MADV_DONTNEED and hole punch;
// rwp-semantics §9-§10). fast-check prints the seed and the shrunk counterexample on failure; replay
// with FC_SEED=<seed>.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { NO_TABLE } from "../src/mm/pgtable.ts"
import * as U from "../src/uapi.ts"
import {
  type Backing,
  ctxOf,
  MODE_RWP,
  map,
  newKernel,
  nextMsg,
  ok,
  PROTECT,
  RESOLVE,
  RWP,
  RWP_ASYNC,
  scan,
  uffd
} from "./helpers.ts"

const PAGES = 8

type RangeOp = { t: "protect" | "resolve" | "pageout" | "migrate" | "dontneed" | "punch"; lo: number; n: number }
type Op = RangeOp | { t: "access"; task: number; p: number; write: boolean; v: number } | { t: "mode"; async: boolean }

const range = fc
  .tuple(fc.nat(PAGES - 1), fc.nat(PAGES - 1))
  .map(([a, b]) => ({ lo: Math.min(a, b), n: Math.abs(a - b) + 1 }))

function opArb(backing: Backing): fc.Arbitrary<Op> {
  const kinds: RangeOp["t"][] = ["protect", "resolve", "pageout", "migrate", "dontneed"]
  if (backing !== "anon") kinds.push("punch")
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ t: fc.constantFrom(...kinds), r: range }).map(({ t, r }) => ({ t, ...r })) },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant("access" as const),
        task: fc.integer({ min: 0, max: 2 }),
        p: fc.nat(PAGES - 1),
        write: fc.boolean(),
        v: fc.integer({ min: 1, max: 0xffff })
      })
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("mode" as const), async: fc.boolean() }) }
  )
}

interface PageModel {
  /** anon: the page exists (present or swapped); shmem: a PTE maps it */
  mapped: boolean
  protected: boolean
  /** the last word written (0 for a new page) */
  value: number
}

/**
 * Runs the ops on a fresh kernel and checks after every step: pagemap bit 57 set <=> the page is
 * protected; a protected page stays present or swapped (anon) / present (shmem); every access returns
 * the last write; a sync RWP fault queues exactly one message with the right flags; nothing stays blocked.
 */
function runOps(backing: Backing, startAsync: boolean, ops: Op[]): void {
  const k = newKernel()
  const m = map(k, backing, PAGES)
  const fd = uffd(k, startAsync ? RWP | RWP_ASYNC : RWP)
  const pb = m.pb
  ok(k.uffdio_register(fd, m.addr, m.len, MODE_RWP))
  const model: PageModel[] = Array.from({ length: PAGES }, () => ({ mapped: false, protected: false, value: 0 }))
  const data: number[] = Array(PAGES).fill(0) // shmem: the file's content survives unmapping
  let async = startAsync

  const step = (op: Op, where: string): void => {
    switch (op.t) {
      case "protect":
      case "resolve": {
        ok(k.uffdio_rwprotect(fd, m.at(op.lo), op.n * pb, op.t === "protect" ? PROTECT : RESOLVE))
        for (let p = op.lo; p < op.lo + op.n; p++) model[p]!.protected = op.t === "protect" && model[p]!.mapped
        break
      }
      case "pageout":
        if (backing === "hugetlb") {
          expect(k.madvise(m.at(op.lo), op.n * pb, U.MADV_PAGEOUT)).toEqual({ ok: false, errno: "EINVAL" })
          break
        }
        ok(k.madvise(m.at(op.lo), op.n * pb, U.MADV_PAGEOUT))
        if (backing === "shmem")
          for (let p = op.lo; p < op.lo + op.n; p++) model[p] = { ...model[p]!, mapped: false, protected: false }
        break
      case "migrate":
        ok(k.migrate(m.at(op.lo), op.n * pb))
        break
      case "dontneed":
        ok(k.madvise(m.at(op.lo), op.n * pb, U.MADV_DONTNEED))
        for (let p = op.lo; p < op.lo + op.n; p++) {
          model[p] = { mapped: false, protected: false, value: backing === "anon" ? 0 : data[p]! }
        }
        break
      case "punch":
        ok(k.fallocate(m.fd, U.FALLOC_FL_PUNCH_HOLE | U.FALLOC_FL_KEEP_SIZE, op.lo * pb, op.n * pb))
        for (let p = op.lo; p < op.lo + op.n; p++) {
          model[p] = { mapped: false, protected: false, value: 0 }
          data[p] = 0
        }
        break
      case "mode":
        ok(k.uffdio_set_mode(fd, op.async ? RWP_ASYNC : 0, op.async ? 0 : RWP_ASYNC))
        async = op.async
        break
      case "access": {
        const pg = model[op.p]!
        const addr = m.at(op.p) + 0x10
        let code = k.access(op.task, addr, op.write, op.v, true)
        if (pg.protected && !async) {
          expect(code, `${where}: sync access of a protected page blocks`).toBe(U.ACCESS_BLOCKED)
          const msg = nextMsg(k, fd)
          expect(msg.flags, where).toBe(U.UFFD_PAGEFAULT_FLAG_RWP | (op.write ? U.UFFD_PAGEFAULT_FLAG_WRITE : 0))
          expect(msg.address, where).toBe(m.at(op.p))
          expect(k.uffd_has_messages(fd), `${where}: one message per fault`).toBe(false)
          k.drain_woken()
          ok(k.uffdio_rwprotect(fd, m.at(op.p), pb, RESOLVE))
          expect(k.drain_woken(), where).toEqual([op.task])
          code = k.access(op.task, addr, op.write, op.v, true)
        }
        expect(code, `${where}: access completes`).toBe(U.ACCESS_DONE)
        if (!op.write) expect(k.access_value >>> 0, `${where}: read returns the last write`).toBe(pg.value)
        pg.mapped = true
        pg.protected = false
        if (op.write) {
          pg.value = op.v
          data[op.p] = op.v
        }
        break
      }
    }
  }

  const check = (where: string): void => {
    expect(k.uffd_has_messages(fd), `${where}: no message left queued`).toBe(false)
    expect([NO_TABLE.flags[0], NO_TABLE.val[0]], `${where}: nothing wrote through a Slot no lookup filled`).toEqual([
      0, 0
    ])
    expect(k.mm.blocked.size, `${where}: nothing blocked`).toBe(0)
    for (let p = 0; p < PAGES; p++) {
      const pm = k.pagemap_read(m.at(p))
      const at = `${where}, page ${p}`
      expect(k.pagemap_flags(m.at(p)), `${at}: pagemap_flags() is the entry's bits 55-63`).toBe(Number(pm.raw >> 55n))
      expect(pm.uffd, `${at}: bit 57 <=> protected`).toBe(model[p]!.protected)
      if (backing === "anon")
        expect(pm.present || pm.swapped, `${at}: present or swapped <=> populated`).toBe(model[p]!.mapped)
      else expect(pm.present, `${at}: present <=> mapped`).toBe(model[p]!.mapped)
    }
    // PAGE_IS_ACCESSED <=> populated (mapped) and not protected (seed 004)
    const r = ok(scan(k, m.addr, m.end, { category_mask: U.PAGE_IS_ACCESSED, return_mask: U.PAGE_IS_ACCESSED }))
    const accessed = Array<boolean>(PAGES).fill(false)
    for (const g of r.regions) for (let a = g.start; a < g.end; a += pb) accessed[(a - m.addr) / pb] = true
    expect(accessed, `${where}: ACCESSED pages`).toEqual(model.map((x) => x.mapped && !x.protected))
  }

  ops.forEach((op, i) => {
    const where = `op ${i} ${JSON.stringify(op)}`
    step(op, where)
    check(where)
  })
  // finally every page reads its last write (async, so protected pages resolve in place)
  ok(k.uffdio_set_mode(fd, RWP_ASYNC, 0))
  expect(ctxOf(k, fd).features & RWP_ASYNC).toBe(RWP_ASYNC)
  for (let p = 0; p < PAGES; p++) {
    expect(k.access(p % 3, m.at(p), false, 0, true)).toBe(U.ACCESS_DONE)
    expect(k.access_value >>> 0, `final read of page ${p}`).toBe(model[p]!.value)
  }
}

describe("property: protect/resolve/access/reclaim/migrate sequences (seed 002 man pages; rwp-semantics §9)", () => {
  it("UFFDIO_RWPROTECT.2const / rwp-semantics §9: on anon memory, bit 57 <=> protected, protected pages stay present or swapped, reads return the last write (async start)", () => {
    fc.assert(
      fc.property(fc.array(opArb("anon"), { maxLength: 30 }), (ops) => runOps("anon", true, ops)),
      { numRuns: 150 }
    )
  })

  it("userfaultfd.2 / rwp-semantics §8.3: the same on anon memory starting in sync mode (each protected access blocks, one message, resolved by UFFDIO_RWPROTECT)", () => {
    fc.assert(
      fc.property(fc.array(opArb("anon"), { maxLength: 30 }), (ops) => runOps("anon", false, ops)),
      { numRuns: 150 }
    )
  })

  it("UFFDIO_RWPROTECT.2const: on shmem, reclaim, DONTNEED and punch drop protection; bit 57 <=> protected; data survives everything but punch", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(opArb("shmem"), { maxLength: 30 }), (a, ops) => runOps("shmem", a, ops)),
      { numRuns: 150 }
    )
  })

  it("UFFDIO_RWPROTECT.2const: on hugetlb 2 MiB, migration keeps protection, DONTNEED and punch drop it, reclaim is EINVAL", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(opArb("hugetlb"), { maxLength: 30 }), (a, ops) => runOps("hugetlb", a, ops)),
      { numRuns: 100 }
    )
  })
})
