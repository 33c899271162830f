// The VmmHost the VMM's threads run against (@rwpsim/vmm): the kernel, the guest memory's layout,
// the storage tier and the VMM's page bookkeeping, and the simulation around them: after every
// kernel call the vCPUs the kernel woke are queued to retry, a queued userfaultfd message unparks
// the fault handler (poll), and the fallback trackers pause and resume the vCPUs through the driver.
import type { Kernel } from "@rwpsim/kernel"
import type { Machine, Workload } from "@rwpsim/scenario"
import type { SimEngine } from "@rwpsim/sched"
import {
  type GuestLayout,
  StorageDevice,
  StorageObject,
  type TrackerKind,
  type VmmHost,
  type VmmObserver,
  type VmmPages
} from "@rwpsim/vmm"
import type { VcpuDriver } from "./driver.ts"
import type { WorkloadEvent } from "./events.ts"

/** The wait key the fault handler parks on (its poll(2) of the userfaultfd). */
export const UFFD_POLL_KEY = "uffd.poll"

export interface HostParts {
  readonly engine: SimEngine<WorkloadEvent>
  readonly kernel: Kernel
  readonly machine: Machine
  readonly workload: Workload
  readonly layout: GuestLayout
  readonly tracker: TrackerKind
  readonly end_ns: number
  readonly driver: () => VcpuDriver
  readonly observer: VmmObserver
  readonly pages: VmmPages
  /** After each kernel call by a VMM thread (the run schedules its hang check). */
  readonly afterKernelCall: () => void
}

/** The storage tier of the workload (or, for anonymous memory, its swap device). */
export function storageDevice(w: Workload): StorageDevice {
  return new StorageDevice({
    latency: w.storage.latency,
    bandwidth: w.storage.bandwidth,
    queue_depth: w.storage.queue_depth
  })
}

export function makeHost(p: HostParts, device: StorageDevice): VmmHost {
  const { engine, kernel, machine, workload, layout } = p
  const c = machine.costs
  return {
    kernel,
    costs: {
      ioctl: c.ioctl,
      scan_per_page: c.scan_per_page,
      tlb_shootdown: c.tlb_shootdown,
      uffd_round_trip: c.uffd_round_trip
    },
    layout,
    config: {
      tracker: p.tracker,
      strategy: workload.vmm.strategy,
      interval: workload.vmm.interval,
      cold_age: workload.vmm.cold_age,
      end_ns: p.end_ns,
      bug: workload.vmm.bug
    },
    device,
    store: new StorageObject(layout.pages),
    pages: p.pages,
    tasks: { tracker: machine.vcpus, handler: machine.vcpus + 1 },
    uffd_poll_key: UFFD_POLL_KEY,
    kernelCalled() {
      p.driver().wakeFromKernel(engine.now_ns)
      if (layout.uffd >= 0 && kernel.uffd_has_messages(layout.uffd)) engine.unpark(UFFD_POLL_KEY)
      p.afterKernelCall()
    },
    pauseVcpus: () => p.driver().pause(),
    resumeVcpus: () => p.driver().resume(),
    observer: p.observer
  }
}
