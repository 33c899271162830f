import { describe, expect, it } from "vitest"
import { HandlerAction, HandlerNotes, HandlerState } from "../src/handler.ts"

describe("HandlerNotes (the fault handler's last action per page)", () => {
  it("a page never noted has no note; a noted one reads back its time, kind and action text", () => {
    const notes = new HandlerNotes()
    expect(notes.get(3)).toBeUndefined()
    notes.set(3, 1_000, 0, HandlerAction.ZeroFilled)
    expect(notes.get(3)).toEqual({ t_ns: 1_000, kind: "missing", action: "answered with UFFDIO_COPY of a zero page" })
    notes.set(3, 2_000, 1, HandlerAction.RwpResolved)
    expect(notes.get(3)).toEqual({ t_ns: 2_000, kind: "rwp", action: "resolved with UFFDIO_RWPROTECT(!RWP)" })
    expect(notes.has(3)).toBe(true)
    expect(notes.has(4)).toBe(false)
  })

  it("every action reads back as the text the handler wrote before", () => {
    const notes = new HandlerNotes()
    const texts: [number, number, string, string][] = [
      [1, HandlerAction.LeftToWake, "rwp", "left to the wake after the punch (page under eviction)"],
      [0, HandlerAction.IgnoredMissing, "missing", "read and never answered (deliberate bug handler-ignores-missing)"],
      [0, HandlerAction.ReadSubmitted, "missing", "storage read submitted"],
      [2, HandlerAction.WpResolved, "wp", "resolved with UFFDIO_WRITEPROTECT(!WP)"],
      [0, HandlerAction.CopiedFromStorage, "missing", "answered with UFFDIO_COPY from storage"]
    ]
    for (const [i, [kind, action]] of texts.entries()) notes.set(i, 10 * i, kind, action)
    for (const [i, [, , kind, action]] of texts.entries()) expect(notes.get(i)).toEqual({ t_ns: 10 * i, kind, action })
  })

  it("keeps the last `kept` notes: an older one is dropped, and kept_since_ns says from when", () => {
    const notes = new HandlerNotes(3)
    expect(notes.kept_since_ns).toBe(Number.NEGATIVE_INFINITY)
    notes.set(5, 7, 0, HandlerAction.ZeroFilled)
    notes.set(1_000_000, 9, 0, HandlerAction.ReadSubmitted)
    notes.set(5, 11, 1, HandlerAction.RwpResolved)
    expect(notes.get(5)?.t_ns).toBe(11) // the newest note of a page
    expect(notes.kept_since_ns).toBe(Number.NEGATIVE_INFINITY)
    notes.set(6, 13, 0, HandlerAction.ZeroFilled) // drops (5, 7)
    expect(notes.kept_since_ns).toBe(9)
    expect(notes.get(1_000_000)?.action).toBe("storage read submitted")
    notes.set(7, 15, 0, HandlerAction.ZeroFilled) // drops (1_000_000, 9)
    expect(notes.get(1_000_000)).toBeUndefined()
    expect(notes.kept_since_ns).toBe(11)
    expect([notes.get(5)?.t_ns, notes.get(6)?.t_ns, notes.get(7)?.t_ns, notes.get(999_999)]).toEqual([
      11,
      13,
      15,
      undefined
    ])
  })

  it("the ring grows past its first room without losing a note, then drops the oldest at `kept`", () => {
    const kept = 1_000 // more than the 256 slots it starts with, and not a power of two
    const notes = new HandlerNotes(kept)
    for (let i = 0; i < kept; i++) notes.set(i, 10 * i, 0, HandlerAction.ZeroFilled)
    expect(notes.kept_since_ns).toBe(Number.NEGATIVE_INFINITY)
    for (const i of [0, 255, 256, 511, 512, 999]) expect(notes.get(i)?.t_ns).toBe(10 * i)
    for (let i = kept; i < kept + 300; i++) notes.set(i, 10 * i, 1, HandlerAction.RwpResolved)
    expect(notes.get(299)).toBeUndefined()
    expect(notes.get(300)?.t_ns).toBe(3_000)
    expect(notes.get(1_299)?.kind).toBe("rwp")
    expect(notes.kept_since_ns).toBe(3_000)
  })

  it("a message of another kind keeps its own text, also for an address outside guest memory", () => {
    const notes = new HandlerNotes()
    notes.setOther(2, 50, "ignored a message at 4096")
    expect(notes.get(2)).toEqual({ t_ns: 50, kind: "other", action: "ignored a message at 4096" })
    notes.set(2, 60, 0, HandlerAction.ZeroFilled)
    expect(notes.get(2)?.kind).toBe("missing")
    notes.setOther(-3, 70, "ignored a message at 0")
    expect(notes.get(-3)).toEqual({ t_ns: 70, kind: "other", action: "ignored a message at 0" })
    expect(notes.get(-4)).toBeUndefined()
  })
})

describe("HandlerState.doing", () => {
  it("reads as the text of what the handler does now, built when read", () => {
    const s = new HandlerState()
    expect(s.doing).toBe("starting")
    s.parked(4_000)
    expect(s.doing).toBe("parked on the userfaultfd (poll) since t=4000")
    s.resolvingRwp(7)
    expect(s.doing).toBe("resolving an RWP fault at page 7")
    s.zeroFilling(8)
    expect(s.doing).toBe("zero-filling page 8")
    s.waitingForRead(9, 123_456)
    expect(s.doing).toBe("waiting for the storage read of page 9 (done at t=123456)")
    s.doing = "anything else"
    expect(s.doing).toBe("anything else")
  })
})
