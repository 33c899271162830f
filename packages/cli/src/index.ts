export { parseCommand, USAGE } from "./args.ts"
