// Model check of the userfaultfd RWP state machine (issue 5): random sequences of register,
// protect, resolve, faults, mode switches, swap-out, migration, DONTNEED, hole punch, unregister and close
// against the independent reference model in model/reference.ts. A failure prints the seed and
// the fast-check path: `fc.assert(..., { seed, path })` replays it.
import fc from "fast-check"
import { describe, it } from "vitest"
import { modelProperty } from "./model/commands.ts"

const runs = process.env.RWPSIM_SWEEP === "1" ? 2000 : 150

describe("model check: kernel RWP vs the reference model", () => {
  it.each(["anon", "shmem"] as const)(
    "every command sequence agrees on protection, sleepers, messages and values [%s]",
    (b) => {
      fc.assert(modelProperty(b), { numRuns: runs })
    }
  )
})
