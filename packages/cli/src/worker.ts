// Starts a worker thread on one of the CLI's modules: compiled (.js, in dist/), or source (.ts,
// under tsx) in development and in the tests.
import { Worker } from "node:worker_threads"

/** `name`: the module's path from this directory, without its extension ("./commands/sweepWorker"). */
export function spawnWorker(name: string, workerData: unknown): Worker {
  const here = import.meta.url
  if (here.endsWith(".ts")) {
    // a worker thread does not inherit the parent's tsx loader: it registers it, then loads the worker
    // (and the workspace packages resolve to their sources, as in the tests)
    const url = new URL(`${name}.ts`, here).href
    const code = `import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(url)}) })`
    const source = "--conditions=@rwpsim/source"
    const execArgv = process.execArgv.includes(source) ? process.execArgv : [...process.execArgv, source]
    return new Worker(code, { eval: true, workerData, execArgv })
  }
  return new Worker(new URL(`${name}.js`, here), { workerData })
}
