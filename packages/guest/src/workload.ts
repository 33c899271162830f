// Sets up the guest side of a workload run: one Vcpu per machine vCPU over one ground truth, each
// with its own phase list (per_vcpu or phases) and its own PRNG stream.
import { assert } from "./assert.ts"
import type { GroundTruth } from "./ground_truth.ts"
import type { AccessCharge } from "./memory.ts"
import { type GuestSpec, workloadPhases } from "./phase.ts"
import type { RandomSource } from "./random.ts"
import { Vcpu } from "./vcpu.ts"

/** What createVcpus needs: the parsed `workload.guest`, the guest memory's layout and the streams. */
export interface GuestWorkloadOptions {
  readonly guest: GuestSpec
  readonly vcpus: number
  /** Guest memory in tracking pages (huge pages for hugetlb); page p is at base_addr + p * page_bytes. */
  readonly guest_pages: number
  readonly base_addr: number
  readonly page_bytes: number
  /** The stream of vCPU i, e.g. `(i) => streams.stream(\`guest.vcpu${i}\`)`. */
  readonly rng: (vcpu: number) => RandomSource
  readonly ground_truth: GroundTruth
  readonly charge?: AccessCharge | undefined
}

/** One Vcpu per vCPU, numbered 0..vcpus-1 (also their kernel task ids), sharing the ground truth. */
export function createVcpus(o: GuestWorkloadOptions): Vcpu[] {
  assert(Number.isInteger(o.vcpus) && o.vcpus >= 1, `vcpus ${o.vcpus}`)
  assert(o.guest.per_vcpu === undefined || o.guest.per_vcpu.length === o.vcpus, "per_vcpu needs one list per vCPU")
  return Array.from(
    { length: o.vcpus },
    (_, index) =>
      new Vcpu({
        index,
        vcpus: o.vcpus,
        phases: workloadPhases(o.guest, index),
        guest_pages: o.guest_pages,
        base_addr: o.base_addr,
        page_bytes: o.page_bytes,
        rng: o.rng(index),
        ground_truth: o.ground_truth,
        charge: o.charge
      })
  )
}
