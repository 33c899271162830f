// How a workload run names times, pages and addresses in its messages.

/** Virtual time for a message: exact ns, and a readable form. */
export function showTime(t_ns: number): string {
  return `t=${t_ns}ns (${showDuration(t_ns)})`
}

/** A duration in the largest unit that keeps it readable (integers stay exact in ns). */
export function showDuration(ns: number): string {
  if (ns < 1_000) return `${ns}ns`
  if (ns < 1_000_000) return `${trim(ns / 1_000)}us`
  if (ns < 1_000_000_000) return `${trim(ns / 1_000_000)}ms`
  return `${trim(ns / 1_000_000_000)}s`
}

function trim(x: number): string {
  return String(Math.round(x * 1000) / 1000)
}

/** The address of guest page p in the scenario's address syntax. */
export function showPage(page: number, page_bytes: number): string {
  return page === 0 ? "guest_mem (page 0)" : `guest_mem+0x${(page * page_bytes).toString(16)} (page ${page})`
}
