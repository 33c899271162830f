// A tap on the kernel's system calls that the checker must see at the instant they take effect:
// the VMM's threads call the kernel, then sleep for the call's cost, and the VMM's observer hears
// of the call only after that sleep, while the vCPUs run on. The tap wraps these methods on the
// one Kernel instance of the run (any subclass: a test may pass a faulty kernel) and tells the
// listener before and after each call. It changes no argument and no result.
import type { Kernel } from "@rwpsim/kernel"

type ScanArgs = Parameters<Kernel["pagemap_scan"]>[0]
type Result = { readonly ok: boolean }

/** What the checker hears, at the current virtual time. */
export interface KernelTapListener {
  /** Before UFFDIO_RWPROTECT. */
  beforeRwprotect(fd: number, start: number, len: number, mode: number): void
  /** After UFFDIO_RWPROTECT returned. */
  rwprotected(fd: number, start: number, len: number, mode: number, ok: boolean): void
  /** After UFFDIO_SET_MODE returned. */
  modeSet(fd: number, enable: number, disable: number, ok: boolean): void
  /** After PAGEMAP_SCAN walked the page tables (its result is what the caller gets later). */
  scanned(args: ScanArgs, ok: boolean): void
  /** After fallocate() returned (a punched page is gone from this instant). */
  fallocated(fd: number, mode: number, off: number, len: number, ok: boolean): void
  /** After UFFDIO_COPY returned (the page is mapped from this instant, and the guest may write it). */
  copiedIn(fd: number, dst: number, len: number, ok: boolean): void
}

/** Installs the tap on `kernel` (once); returns a function that removes it. */
export function tapKernel(kernel: Kernel, l: KernelTapListener): () => void {
  const rwprotect = kernel.uffdio_rwprotect
  const setMode = kernel.uffdio_set_mode
  const scan = kernel.pagemap_scan
  const fallocate = kernel.fallocate
  const copy = kernel.uffdio_copy
  kernel.uffdio_rwprotect = function (this: Kernel, fd: number, start: number, len: number, mode: number) {
    l.beforeRwprotect(fd, start, len, mode)
    const r = rwprotect.call(this, fd, start, len, mode)
    l.rwprotected(fd, start, len, mode, (r as Result).ok)
    return r
  }
  kernel.uffdio_set_mode = function (this: Kernel, fd: number, enable: number, disable: number) {
    const r = setMode.call(this, fd, enable, disable)
    l.modeSet(fd, enable, disable, (r as Result).ok)
    return r
  }
  kernel.pagemap_scan = function (this: Kernel, args: ScanArgs) {
    const r = scan.call(this, args)
    l.scanned(args, (r as Result).ok)
    return r
  }
  kernel.fallocate = function (this: Kernel, fd: number, mode: number, off: number, len: number) {
    const r = fallocate.call(this, fd, mode, off, len)
    l.fallocated(fd, mode, off, len, (r as Result).ok)
    return r
  }
  kernel.uffdio_copy = function (
    this: Kernel,
    fd: number,
    dst: number,
    src: Uint32Array | null,
    fill: number,
    len: number,
    mode: number
  ) {
    const r = copy.call(this, fd, dst, src, fill, len, mode)
    l.copiedIn(fd, dst, len, (r as Result).ok)
    return r
  }
  return () => {
    kernel.uffdio_rwprotect = rwprotect
    kernel.uffdio_set_mode = setMode
    kernel.pagemap_scan = scan
    kernel.fallocate = fallocate
    kernel.uffdio_copy = copy
  }
}
