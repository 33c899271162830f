// What the guest needs from the kernel: one access at a time by a task. @rwpsim/kernel's Kernel
// satisfies GuestMemory structurally (kernel.access(task, addr, write, value, user) and
// kernel.access_value); the guest codes against this so it builds and tests without the kernel.
/** The access completed; a read's value is in access_value. */
export const ACCESS_DONE = 0
/** The access sleeps (a sync userfault, a held mmap_lock...): retry it once the task is woken. */
export const ACCESS_BLOCKED = 1
/** The access raised SIGSEGV. */
export const ACCESS_SIGSEGV = 2
/** The access raised SIGBUS. */
export const ACCESS_SIGBUS = 3

/** The guest's view of memory: an access by a task (a vCPU is task `index`), allocation-free. */
export interface GuestMemory {
  /** Performs one access; returns ACCESS_DONE, ACCESS_BLOCKED, ACCESS_SIGSEGV or ACCESS_SIGBUS. */
  access(task: number, addr: number, write: boolean, value: number, user: boolean): number
  /**
   * A user access to the first byte of guest page `page` (the address base + page * page_bytes of
   * the vCPUs' view): what the burst loop calls, so that the page stays an int32 down to the kernel
   * and no address is built per access only to be taken apart again.
   */
  access_page(task: number, page: number, write: boolean, value: number): number
  /** After ACCESS_DONE on a read: the value read (a u32). */
  readonly access_value: number
}

/** Optional per-access cost hook: extra virtual time of the access just completed (TLB miss, fault). */
export interface AccessCharge {
  extra_ns(task: number): number
}
