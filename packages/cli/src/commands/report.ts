import type { Command } from "../args.ts"
import type { Io } from "../output.ts"
import type { ExitCode } from "./run.ts"
export async function reportCommand(_c: Extract<Command, { cmd: "report" }>, _io: Io): Promise<ExitCode> {
  return 2
}
