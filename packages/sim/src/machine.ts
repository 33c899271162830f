// The scenario's machine table → the hardware's facts (@rwpsim/hw), and the checks the spec makes
// on it ("turning on what the arch cannot have is an invalid scenario").
import {
  type CpuFeatures,
  default_kernel_config,
  detect_cpu_features,
  type KernelConfig,
  type MachineSpec,
  validate_machine
} from "@rwpsim/hw"
import type { Scenario } from "@rwpsim/scenario"

export type ScenarioMachine = Scenario["machine"]

export function machineSpec(m: ScenarioMachine): MachineSpec {
  const [major, minor] = m.kernel.version.split(".").map(Number) as [number, number]
  const config: KernelConfig = { ...default_kernel_config(m.arch), ...definedOnly(m.kernel.config) }
  return { arch: m.arch, isa_extensions: m.isa_extensions, page_size: m.page_size, kernel: { major, minor, config } }
}

function definedOnly(c: Partial<Record<keyof KernelConfig, boolean | undefined>>): Partial<KernelConfig> {
  const out: Partial<KernelConfig> = {}
  for (const k of Object.keys(c).sort() as (keyof KernelConfig)[]) {
    const v = c[k]
    if (v !== undefined) out[k] = v
  }
  return out
}

/** null when the machine is valid, else why not. */
export function machineProblem(m: ScenarioMachine): string | null {
  return validate_machine({
    arch: m.arch,
    isa_extensions: m.isa_extensions,
    page_size: m.page_size,
    config_explicit: definedOnly(m.kernel.config)
  })
}

export function machineFeatures(m: ScenarioMachine): CpuFeatures {
  return detect_cpu_features(machineSpec(m))
}
