import { prepareAccessBench, ACCESS_BENCH_DEFAULTS } from "@rwpsim/sim"
const w = process.argv[2] ?? "W1"
const b = prepareAccessBench({ ...ACCESS_BENCH_DEFAULTS, workload: w })
const t0 = performance.now()
const r = b.run()
console.log(w, (performance.now() - t0).toFixed(0), "ms", r.rwp_faults, r.missing_faults, r.tlb_hits)
