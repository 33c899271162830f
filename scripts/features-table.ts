// Prints the README's table of what UFFDIO_API offers (a features = 0 probe) per arch and kernel,
// straight from the kernel model, so the table cannot drift from the code.
//   npx tsx --conditions=@rwpsim/source scripts/features-table.ts
import { ARCHES, type Arch, default_kernel_config, detect_cpu_features } from "@rwpsim/hw"
import * as K from "@rwpsim/kernel"

const machines: { label: string; arch: Arch; ext: string[]; version: [number, number] }[] = [
  ...ARCHES.map((arch) => ({ label: arch, arch, ext: [] as string[], version: [7, 2] as [number, number] })),
  { label: "riscv64 + svrsw60t59b", arch: "riscv64", ext: ["svrsw60t59b"], version: [7, 2] },
  { label: "x86_64, kernel 7.1", arch: "x86_64", ext: [], version: [7, 1] },
  { label: "x86_64, kernel 6.6", arch: "x86_64", ext: [], version: [6, 6] }
]

const names = Object.keys(K)
  .filter((n) => n.startsWith("UFFD_FEATURE_") && n !== "UFFD_FEATURE_TOGGLEABLE")
  .map((n) => [n, (K as unknown as Record<string, number>)[n]!] as const)
  .sort((a, b) => a[1] - b[1])

const rows: string[] = []
rows.push(`| machine | features (hex) | missing from the full set | ioctls |`)
rows.push(`| --- | --- | --- | --- |`)
for (const m of machines) {
  const f = detect_cpu_features({
    arch: m.arch,
    isa_extensions: m.ext,
    page_size: 4096,
    kernel: { major: m.version[0], minor: m.version[1], config: default_kernel_config(m.arch) }
  })
  const k = new K.Kernel(f, { vcpus: 1, tlb: { entries: 64, ways: 4 } })
  const u = k.userfaultfd(0)
  if (!u.ok) throw new Error("userfaultfd failed")
  const r = k.uffdio_api(u.fd, K.UFFD_API, 0)
  if (!r.ok) throw new Error(`UFFDIO_API failed on ${m.label}`)
  const missing = names.filter(([, v]) => (r.features & v) === 0).map(([n]) => n.replace("UFFD_FEATURE_", ""))
  const ioctls = Object.keys(K)
    .filter((n) => n.startsWith("_UFFDIO_"))
    .filter((n) => (r.ioctls & (1n << BigInt((K as unknown as Record<string, number>)[n]!))) !== 0n)
    .map((n) => n.slice(8))
  rows.push(`| ${m.label} | 0x${r.features.toString(16)} | ${missing.join(", ") || "—"} | ${ioctls.join(", ")} |`)
}
console.log(rows.join("\n"))
