/** The JSON Schema of scenario files, generated from the zod schemas (input side: what users write). */
import * as z from "zod"
import { scenarioSchema } from "./schema.ts"

/** The JSON Schema (draft 2020-12) of scenario files, for `rwpsim schema`. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(scenarioSchema, { io: "input", target: "draft-2020-12", unrepresentable: "any" }) as Record<
    string,
    unknown
  >
}
