/**
 * PTE bit layouts of the arches with RWP (rwp-semantics.md §15). Each arch is a namespace, since
 * the kernel reuses names (_PAGE_PRESENT, PAGE_NONE, ...) with different values per arch.
 */

import type { CpuFeatures } from "../cpufeature.ts"
import * as arm64 from "./arm64.ts"
import type { PteLayout } from "./pte.ts"
import * as riscv64 from "./riscv64.ts"
import * as x86_64 from "./x86_64.ts"

export type { PteFields, PteLayout } from "./pte.ts"
export { PTE_NONE_FIELDS } from "./pte.ts"
export { arm64, riscv64, x86_64 }

/**
 * The leaf-entry layout of this machine, with its uffd bit where pgtable_supports_uffd() holds.
 * null for ppc64le, s390x, loongarch64, i386 and armv7: they have no uffd bit (§2.3), only their
 * feature facts are simulated.
 */
export function pte_layout(features: CpuFeatures): PteLayout | null {
  const uffd = features.pgtable_supports_uffd
  switch (features.arch) {
    case "x86_64":
      return x86_64.layout(uffd)
    case "arm64":
      return arm64.layout(features.page_shift, uffd)
    case "riscv64":
      return riscv64.layout(features.has_svrsw60t59b, uffd)
    case "ppc64le":
    case "s390x":
    case "loongarch64":
    case "i386":
    case "armv7":
      return null
  }
}
