/** @rwpsim/scenario/testing: fast-check arbitraries of valid scenarios, for property tests. */
export {
  type ArbMachineOptions,
  arbMachine,
  arbStepScript,
  type ArbWorkloadOptions,
  arbWorkloadScenario,
  addressForms,
  durationForms,
  percentageForms,
  sizeForms,
  spellAddress,
  spellDuration,
  spellPercentage,
  spellSize
} from "./arbitraries.ts"
