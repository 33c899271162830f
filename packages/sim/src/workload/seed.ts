// When steps run before a workload, guest memory already holds what they wrote (a vCPU's write, the
// script's UFFDIO_COPY or pread). The guest's ground truth starts from that content, so a read of
// it is not a loss. The words are read from the frames the pagemap entries name (no access, so no
// fault, no TLB fill and no change of protection); pages in swap or not in memory start as 0.
import type { GroundTruth } from "@rwpsim/guest"
import type { Kernel } from "@rwpsim/kernel"
import type { GuestLayout } from "@rwpsim/vmm"

const PFN_MASK = (1n << 55n) - 1n

/** The word in memory at `addr` (its frame's), or null when no frame is mapped there. */
function wordAt(kernel: Kernel, addr: number): number | null {
  const e = kernel.pagemap_read(addr)
  if (!e.present) return null
  return kernel.mm.frames.word[Number(e.raw & PFN_MASK)] ?? 0
}

export function seedGroundTruth(kernel: Kernel, layout: GuestLayout, gt: GroundTruth): void {
  for (let p = 0; p < layout.pages; p++) {
    const off = p * layout.page_bytes
    const w =
      wordAt(kernel, layout.guest_mem + off) ?? (layout.io_mem >= 0 ? wordAt(kernel, layout.io_mem + off) : null)
    // a write "before time": it sets what a read must return without counting as an access
    if (w !== null && w !== 0) gt.recordAccess(p, -1, -1, true, w >>> 0, 0)
  }
}
