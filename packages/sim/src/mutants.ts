// Every named mutant a run can switch on (`rwpsim run FILE --mutant NAME`): the kernel's (deliberate
// bugs in @rwpsim/kernel) and the VMM's (`workload.vmm.bug`). Kernel mutants go to the kernel the run
// builds; a VMM mutant replaces the scenario's `workload.vmm.bug`.
import { KERNEL_MUTANTS, type KernelMutant, isKernelMutant } from "@rwpsim/kernel"
import { type Scenario, VMM_BUGS, type VmmBug } from "@rwpsim/scenario"

export type MutantName = KernelMutant | VmmBug

export const MUTANT_NAMES: readonly string[] = [...Object.keys(KERNEL_MUTANTS), ...VMM_BUGS]

export function isMutant(name: string): name is MutantName {
  return MUTANT_NAMES.includes(name)
}

export type Mutated =
  | { readonly ok: true; readonly scenario: Scenario; readonly kernel: readonly KernelMutant[] }
  | { readonly ok: false; readonly message: string }

/** The scenario and kernel mutants of a run with `names` switched on. */
export function applyMutants(scenario: Scenario, names: readonly string[]): Mutated {
  const kernel: KernelMutant[] = []
  let s = scenario
  for (const n of names) {
    if (isKernelMutant(n)) kernel.push(n)
    else if ((VMM_BUGS as readonly string[]).includes(n)) {
      const w = s.workload
      if (w === undefined) return { ok: false, message: `--mutant ${n} is a VMM bug: the scenario has no workload` }
      s = { ...s, workload: { ...w, vmm: { ...w.vmm, bug: n as VmmBug } } }
    } else return { ok: false, message: `unknown mutant "${n}" (known: ${MUTANT_NAMES.join(", ")})` }
  }
  return { ok: true, scenario: s, kernel }
}
