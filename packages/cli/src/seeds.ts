// `rwpsim sweep` arguments that need more than parseArgs: seed sets and shards. Light on purpose
// (args.ts loads it on every start).

/** Seeds in a sweep, at most this many (one JSONL row each, kept in order in memory). */
export const SEEDS_MAX = 10_000_000

/**
 * A seed set: comma-separated seeds and inclusive ranges, e.g. `1..10000` or `1,5,10..20`, in the
 * order written (a seed given twice runs twice). A string explains what is wrong.
 */
export function parseSeedSet(text: string): number[] | string {
  const out: number[] = []
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:\.\.(\d+))?$/.exec(part.trim())
    if (m === null) return `expected seeds like 1..10000 or 1,5,10..20, got "${text}"`
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) return `seed out of range in "${part}"`
    if (b < a) return `empty range "${part}" (the first seed is above the last)`
    if (out.length + (b - a + 1) > SEEDS_MAX) return `more than ${SEEDS_MAX} seeds`
    for (let s = a; s <= b; s++) out.push(s)
  }
  return out
}

/** `--shard I/N`: slice I (0-based) of N; I may be left out (`/N`) to take JOB_COMPLETION_INDEX. */
export interface ShardSpec {
  readonly index: number | "env"
  readonly count: number
}

export function parseShard(text: string): ShardSpec | string {
  const m = /^(\d*)\/(\d+)$/.exec(text)
  if (m === null) return `expected I/N (slice I of N, from 0), got "${text}"`
  const count = Number(m[2])
  if (count < 1) return `the shard count must be at least 1, got ${count}`
  if (m[1] === "") return { index: "env", count }
  const index = Number(m[1])
  if (index >= count) return `shard ${index} of ${count}: the index must be below the count`
  return { index, count }
}

/** The shard index: the given one, or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job's). */
export function shardIndex(spec: ShardSpec, env: Readonly<Record<string, string | undefined>>): number | string {
  if (spec.index !== "env") return spec.index
  const v = env.JOB_COMPLETION_INDEX
  if (v === undefined || !/^\d+$/.test(v))
    return "--shard /N takes the index from JOB_COMPLETION_INDEX, which is not set"
  const i = Number(v)
  if (i >= spec.count) return `JOB_COMPLETION_INDEX=${i} is not below the shard count ${spec.count}`
  return i
}

/** Run r (0-based, over files x seeds in order) belongs to shard i of n when r % n == i. */
export const inShard = (run: number, index: number, count: number): boolean => run % count === index
