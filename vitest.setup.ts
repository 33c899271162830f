import fc from "fast-check"

// One place for fast-check defaults; FC_SEED replays a run, FC_NUM_RUNS widens it.
const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
const numRuns = process.env.FC_NUM_RUNS === undefined ? undefined : Number(process.env.FC_NUM_RUNS)
fc.configureGlobal({ ...(seed === undefined ? {} : { seed }), ...(numRuns === undefined ? {} : { numRuns }) })
