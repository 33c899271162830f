// The raw PTE of an RWP-protected page on each arch with a uffd bit (rwp-semantics.md §15, §8.1:
// "an RWP-protected entry = PAGE_NONE protection + uffd software bit"), through the kernel's own
// page tables and @rwpsim/hw's layouts.
import { type Arch, default_kernel_config, detect_cpu_features } from "@rwpsim/hw"
import * as K from "@rwpsim/kernel"
import { describe, expect, it } from "vitest"

function protectedPage(arch: Arch, ext: string[]) {
  const f = detect_cpu_features({
    arch,
    isa_extensions: ext,
    page_size: 4096,
    kernel: { major: 7, minor: 2, config: default_kernel_config(arch) }
  })
  const k = new K.Kernel(f, { vcpus: 1, tlb: { entries: 64, ways: 4 } })
  const m = k.mmap(0, 4096, K.PROT_READ | K.PROT_WRITE, K.MAP_PRIVATE | K.MAP_ANONYMOUS, -1, 0)
  if (!m.ok) throw new Error("mmap")
  expect(k.access(0, m.addr, true, 5, true)).toBe(K.ACCESS_DONE)
  const before = k.pte_raw(m.addr)
  const u = k.userfaultfd(0)
  if (!u.ok) throw new Error("userfaultfd")
  expect(k.uffdio_api(u.fd, K.UFFD_API, K.UFFD_FEATURE_RWP).ok).toBe(true)
  expect(k.uffdio_register(u.fd, m.addr, 4096, K.UFFDIO_REGISTER_MODE_RWP).ok).toBe(true)
  expect(k.uffdio_rwprotect(u.fd, m.addr, 4096, K.UFFDIO_RWPROTECT_MODE_RWP).ok).toBe(true)
  return { before, after: k.pte_raw(m.addr), k, addr: m.addr, fd: u.fd }
}

describe("raw PTEs of RWP-protected pages", () => {
  it("x86_64 §15.1: PROTNONE (bit 8) + _PAGE_UFFD (bit 10), PRESENT/RW/USER/NX clear", () => {
    const { before, after } = protectedPage("x86_64", [])
    // pfn 1, PRESENT|RW|USER|ACCESSED|DIRTY, soft-dirty (bit 11), NX
    expect(before).toBe(0x8000000000001867n)
    expect(after).toBe(0x1000n | 0x100n | 0x400n | 0x800n | 0x40n | 0x20n)
  })

  it("riscv64+svrsw60t59b §15.3: V clear, R|G(PROT_NONE), uffd bit 60, soft-dirty bit 59", () => {
    const { after } = protectedPage("riscv64", ["svrsw60t59b"])
    expect(after).toBe((1n << 60n) | (1n << 59n) | (1n << 10n) | 0x80n | 0x40n | 0x20n | 0x2n)
  })

  it("arm64 §15.2: VALID clear, PTE_PRESENT_INVALID (nG) and PTE_UFFD (bit 58) set", () => {
    const { after } = protectedPage("arm64", [])
    expect(after! & 1n).toBe(0n)
    expect((after! >> 11n) & 1n).toBe(1n)
    expect((after! >> 58n) & 1n).toBe(1n)
  })

  it("UFFDIO_RWPROTECT.2const: resolving restores an accessible entry without the uffd bit", () => {
    const { k, addr, fd } = protectedPage("x86_64", [])
    expect(k.uffdio_rwprotect(fd, addr, 4096, 0).ok).toBe(true)
    const raw = k.pte_raw(addr)!
    expect(raw & 0x1n).toBe(1n) // present
    expect(raw & 0x400n).toBe(0n) // no uffd bit
  })
})
