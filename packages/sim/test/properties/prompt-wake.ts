// prompt_wake, a liveness property over a workload's trace, stronger than no_lost_wakeup: a vCPU
// blocked on a page while the tracker evicts it is released by the UFFDIO_WAKE of that page's
// range, right after its punch (or MADV_PAGEOUT), not later by whatever wakes every waiter (the
// SET_MODE(async) that ends the cycle). A tracker that forgets the wake loses no data and hangs
// nobody (SET_MODE heals it), so none of the six invariants sees it; its vCPUs stall through every
// later range's pwrite instead. Read from the trace: each vcpu.wake line comes just before the
// line of the VMM call that woke it.

interface Ev {
  readonly t: number
  readonly ev: string
  readonly [k: string]: unknown
}

/** Why the trace breaks prompt_wake (the first time), or null. */
export function promptWake(lines: readonly string[]): string | null {
  const evs = lines.slice(1).map((l) => JSON.parse(l) as Ev)
  let guest = 0
  let pb = 4096
  /** vCPU -> the page it is blocked on */
  const blocked = new Map<number, number>()
  /** vCPU -> the page and time of the eviction that dropped the page it is blocked on */
  const evicted = new Map<number, { page: number; t: number; how: string }>()
  const dropped = (first: number, count: number, t: number, how: string) => {
    for (const [v, p] of blocked) if (p >= first && p < first + count) evicted.set(v, { page: p, t, how })
  }
  for (let i = 0; i < evs.length; i++) {
    const e = evs[i]!
    switch (e.ev) {
      case "workload.setup":
        guest = e.guest_mem as number
        pb = e.page_bytes as number
        break
      case "vcpu.block":
      case "vcpu.block_again":
        blocked.set(e.vcpu as number, e.page as number)
        break
      case "vcpu.done":
        blocked.delete(e.vcpu as number)
        evicted.delete(e.vcpu as number)
        break
      case "vmm.punch_hole":
        dropped((e.offset as number) / pb, (e.len as number) / pb, e.t, "punched it")
        break
      case "vmm.madvise_pageout":
        dropped(((e.start as number) - guest) / pb, (e.len as number) / pb, e.t, "paged it out")
        break
      case "vcpu.wake": {
        // the call that woke them: the next VMM call's line
        let by: Ev | undefined
        for (let j = i + 1; j < evs.length && by === undefined; j++) if (evs[j]!.ev.startsWith("vmm.")) by = evs[j]
        for (const v of e.vcpus as number[]) {
          const x = evicted.get(v)
          evicted.delete(v)
          blocked.delete(v)
          if (x === undefined) continue
          const start = (by?.start as number | undefined) ?? -1
          const len = (by?.len as number | undefined) ?? 0
          const page = guest + x.page * pb
          if (by?.ev === "vmm.wake" && start <= page && page < start + len) continue
          return (
            `vCPU ${v}, blocked on page ${x.page} when the tracker ${x.how} at t=${x.t}ns, was released at ` +
            `t=${e.t}ns by ${by?.ev ?? "nothing the VMM called"}, not by the UFFDIO_WAKE of its range`
          )
        }
        break
      }
    }
  }
  return null
}
