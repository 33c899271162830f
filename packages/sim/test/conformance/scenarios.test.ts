// The bundled scenarios (scenarios/**): each must validate and pass, as `rwpsim run --json` would
// report it. Negative copies of a few prove that a wrong expectation inside them is caught.
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { parseScenario } from "@rwpsim/scenario"
import { describe, expect, it } from "vitest"
import { runText } from "./run.ts"

const root = fileURLToPath(new URL("../../../../", import.meta.url))
const dir = join(root, "scenarios")

function yamlFiles(d: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(d, e.name)
    if (e.isDirectory()) out.push(...yamlFiles(p))
    else if (/\.ya?ml$/.test(e.name)) out.push(p)
  }
  return out
}

const all = yamlFiles(dir).map((p) => relative(root, p))
// scenarios/failing/ holds runs that must fail (a deliberately buggy VMM): they show the report;
// scenarios/scale/ holds runs of tens of seconds, measured by `npm run bench` (case scale-4g), so
// the default test only validates them
const files = all.filter((f) => !f.startsWith("scenarios/failing/") && !f.startsWith("scenarios/scale/"))
const failing = all.filter((f) => f.startsWith("scenarios/failing/"))
const scale = all.filter((f) => f.startsWith("scenarios/scale/"))

describe("bundled scenarios", () => {
  it("include the quickstart, the VMM workflow and the seed 003 error cases", () => {
    expect(files).toContain("scenarios/quickstart.yaml")
    expect(files).toContain("scenarios/vmm-workflow.yaml")
    for (const name of [
      "register-wp-and-rwp",
      "reregister-drop-rwp",
      "reregister-drop-wp",
      "unregister-resolves-protection",
      "rwprotect-non-rwp-vma",
      "rwprotect-no-vma",
      "rwprotect-hugetlb-misaligned",
      "rwp-feature-absent"
    ])
      expect(files).toContain(`scenarios/errors/${name}.yaml`)
  })

  it.each(files)("%s passes", async (file) => {
    const r = await runText(readFileSync(join(root, file), "utf8"), file)
    expect(r.failures).toEqual([])
    expect(r.ok).toBe(true)
    // ok already means the hung vCPUs are exactly the scenario's expect.hung_vcpus (default 0)
    expect(typeof r.metrics.hung_vcpus).toBe("number")
    expect(typeof r.metrics.simulated_ns).toBe("number")
  })

  it.each(scale)("%s is a valid workload (run by the bench)", (file) => {
    const r = parseScenario(readFileSync(join(root, file), "utf8"), file)
    expect(r.ok).toBe(true)
  })

  it.each(failing)("%s fails, naming the invariant", async (file) => {
    const r = await runText(readFileSync(join(root, file), "utf8"), file)
    expect(r.ok).toBe(false)
    expect(r.failures.length).toBeGreaterThan(0)
    expect(r.failures[0].invariant).not.toBeNull()
  })

  it("spec --trace: the same scenario and seed give byte-identical traces", async () => {
    const file = "scenarios/vmm-workflow.yaml"
    const text = readFileSync(join(root, file), "utf8")
    const traces: string[][] = [[], []]
    const a = await runText(text, file, { sink: { write: (line) => traces[0].push(line) } })
    const b = await runText(text, file, { sink: { write: (line) => traces[1].push(line) } })
    expect(traces[0].length).toBeGreaterThan(1)
    expect(traces[0].join("")).toBe(traces[1].join(""))
    // The header names the scenario (never its path) and the seed.
    expect(JSON.parse(traces[0][0])).toMatchObject({
      scenario: "VMM workflow - detect, scan, sync-evict, async-resume (admin guide)",
      seed: 7
    })
    expect(a.trace_sha256).toBe(b.trace_sha256)
    // --seed overrides the scenario's seed, and the header says so.
    const traceC: string[] = []
    await runText(text, file, { seed: 8, sink: { write: (line) => traceC.push(line) } })
    expect(JSON.parse(traceC[0])).toMatchObject({ seed: 8 })
  })
})

// Replace one expectation in a bundled file and check the run fails at that step.
async function failsAt(file: string, from: string, to: string, step: number): Promise<void> {
  const text = readFileSync(join(root, file), "utf8")
  expect(text).toContain(from)
  const r = await runText(text.replace(from, to), file)
  expect(r.ok).toBe(false)
  expect(r.failures[0].step, r.failures[0].message).toBe(step)
}

describe("bundled scenarios, negative copies (the suite can fail)", () => {
  it("the VMM workflow fails at the wait when vCPU 1 is expected to get a different value back", async () => {
    const file = "scenarios/vmm-workflow.yaml"
    const steps = stepLines(file)
    await failsAt(
      file,
      "- wait: { vcpu: 1, expect: { value: 106 } }",
      "- wait: { vcpu: 1, expect: { value: 107 } }",
      steps.indexOf("wait")
    )
  })

  it("the non-RWP-VMA error case fails at RWPROTECT when it expects EINVAL instead of ENOENT", async () => {
    const file = "scenarios/errors/rwprotect-non-rwp-vma.yaml"
    const steps = stepLines(file)
    await failsAt(file, "expect: { errno: ENOENT }", "expect: { errno: EINVAL }", steps.indexOf("UFFDIO_RWPROTECT"))
  })

  it("the quickstart fails at the scan when the cold page is expected to be page 0", async () => {
    const file = "scenarios/quickstart.yaml"
    const steps = stepLines(file)
    await failsAt(
      file,
      'regions: [{ start: "buf+4KiB", end: "buf+8KiB", categories: [PAGE_IS_PRESENT] }]',
      'regions: [{ start: buf, end: "buf+4KiB", categories: [PAGE_IS_PRESENT] }]',
      steps.indexOf("PAGEMAP_SCAN")
    )
  })
})

// The op of every step, in order, read from the YAML text ("  - OP:" at the steps' indentation).
function stepLines(file: string): string[] {
  const ops: string[] = []
  for (const line of readFileSync(join(root, file), "utf8").split("\n")) {
    const m = /^ {2}- ([A-Za-z_]+):/.exec(line)
    if (m) ops.push(m[1])
  }
  return ops
}
