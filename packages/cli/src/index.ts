export { parseCommand, USAGE } from "./args.ts"
export { TraceFile } from "./traceFile.ts"
