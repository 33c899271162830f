import { it } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { stringify } from "yaml"
import { formatScenarioError, parseScenario, type Scenario } from "../../src/index.ts"
import { arbMachine, arbStepScript, arbWorkloadScenario } from "../../src/testing/index.ts"

function parsed(input: unknown, file: string): Scenario {
  const text = file.endsWith(".json") ? JSON.stringify(input, null, 2) : stringify(input)
  const r = parseScenario(text, file)
  if (!r.ok) throw new Error(`${r.errors.map(formatScenarioError).join("\n")}\n${text}`)
  return r.scenario
}

describe("arbitraries round-trip through parseScenario", () => {
  it.prop([arbMachine()])("arbMachine gives a valid machine", (machine) => {
    const s = parsed({ name: "m", machine, steps: [] }, "m.yaml")
    expect(s.machine.vcpus).toBe(machine.vcpus)
    expect(s.machine.arch).toBe(machine.arch ?? "x86_64")
  })

  it.prop([arbStepScript()])("arbStepScript stringified as YAML parses", (input) => {
    const s = parsed(input, "script.yaml")
    expect(s.steps.length).toBe(input.steps!.length)
    expect(s.steps.some((st) => st.op === "UFFDIO_REGISTER")).toBe(true)
    for (const st of s.steps) if ("vcpu" in st.args) expect(st.args.vcpu).toBeLessThan(s.machine.vcpus)
  })

  it.prop([arbStepScript()])("arbStepScript as JSON parses to the same scenario", (input) => {
    expect(parsed(input, "script.json")).toEqual(parsed(input, "script.yaml"))
  })

  it.prop([arbWorkloadScenario()])("arbWorkloadScenario stringified as YAML parses", (input) => {
    const s = parsed(input, "workload.yaml")
    expect(s.workload).toBeDefined()
    expect(s.expect.invariants.length).toBe(6)
  })
})
