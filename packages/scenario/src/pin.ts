// A scenario text with its `seed` and `schedule` keys set, comments and layout kept: how rwpsim
// writes a run that only its recorded scheduler choices reproduce (explore, shrunk failures).
import { parseDocument } from "yaml"

/** `text` (YAML or JSON) as YAML with `seed` and a flow `schedule` list set (replaced if present). */
export function pinSchedule(text: string, seed: number, schedule: readonly number[]): string {
  const doc = parseDocument(text)
  doc.set("seed", seed)
  const seq = doc.createNode([...schedule])
  seq.flow = true
  doc.set("schedule", seq)
  return doc.toString({ lineWidth: 0 })
}
