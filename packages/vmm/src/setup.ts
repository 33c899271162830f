// One-time setup of a VM's memory and userfaultfd, as in the admin guide: memfd_create("guest"),
// guest_mem and io_mem (both MAP_SHARED; anon: one private anonymous guest_mem), then the probe
// (UFFDIO_API with features = 0 on a throwaway userfaultfd, as the man page recommends), the choice
// of tracker among those the probe offers, and the userfaultfd `uffd` registered for it.
// Synchronous: it runs at time 0, before the steps and the workload.
import type { Kernel } from "@rwpsim/kernel"
import * as K from "@rwpsim/kernel"
import type { BackingKind, GuestLayout, TrackerKind } from "./host.ts"

/** What the probe found and what the VMM chose. */
export interface VmmSetup {
  readonly layout: GuestLayout
  /** The features the probe reported. */
  readonly probed: number
  readonly tracker: TrackerKind
  /** Why each tracker tried before the chosen one was not usable. */
  readonly skipped: readonly string[]
}

/** A failure of the setup: the system call and its errno (the run cannot start). */
export interface SetupError {
  readonly what: string
  readonly errno: string
}

export interface MemorySpec {
  readonly backing: BackingKind
  readonly size: number
  readonly hugepage_size: number
  readonly thp: boolean
}

/** The features one tracker needs on `backing`, from a probe; null if it needs none. */
function needs(tracker: TrackerKind, backing: BackingKind): number | null {
  const missing =
    backing === "shmem" ? K.UFFD_FEATURE_MISSING_SHMEM : backing === "hugetlb" ? K.UFFD_FEATURE_MISSING_HUGETLBFS : 0
  switch (tracker) {
    case "rwp":
      return K.UFFD_FEATURE_RWP | K.UFFD_FEATURE_RWP_ASYNC | missing
    case "uffd-wp":
      return K.UFFD_FEATURE_WP_ASYNC | (backing === "anon" ? 0 : K.UFFD_FEATURE_WP_HUGETLBFS_SHMEM | missing)
    case "idle-page":
    case "none":
      return backing === "anon" ? null : missing
  }
}

/**
 * The first of [wanted, ...fallback] the machine offers: rwp and uffd-wp by the probed features,
 * idle-page by `idle_page_ok` (CONFIG_IDLE_PAGE_TRACKING and a kernel that offers page_idle), none always.
 */
export function chooseTracker(
  wanted: TrackerKind,
  fallback: readonly TrackerKind[],
  probed: number,
  backing: BackingKind,
  idle_page_ok: boolean
): { tracker: TrackerKind; skipped: string[] } {
  const skipped: string[] = []
  for (const t of [wanted, ...fallback]) {
    const need = needs(t, backing)
    if (t === "idle-page" && !idle_page_ok) {
      skipped.push("idle-page: no page_idle tracking on this machine")
      continue
    }
    if (need !== null && (probed & need) >>> 0 !== need >>> 0) {
      skipped.push(`${t}: the probe lacks features 0x${((need & ~probed) >>> 0).toString(16)}`)
      continue
    }
    return { tracker: t, skipped }
  }
  skipped.push("none: used as the last resort")
  return { tracker: "none", skipped }
}

type Ok<T> = { ok: true; value: T } | { ok: false; error: SetupError }

const fail = (what: string, r: { ok: false; errno: string }): { ok: false; error: SetupError } => ({
  ok: false,
  error: { what, errno: r.errno }
})

/** The guest memory of a workload: memfd `guest` + guest_mem + io_mem, or anonymous guest_mem. */
export function setupMemory(
  kernel: Kernel,
  m: MemorySpec,
  page_size: number
): Ok<{ memfd: number; guest_mem: number; io_mem: number; page_bytes: number }> {
  const rw = K.PROT_READ | K.PROT_WRITE
  if (m.backing === "anon") {
    const g = kernel.mmap(0, m.size, rw, K.MAP_PRIVATE | K.MAP_ANONYMOUS, -1, 0)
    if (!g.ok) return fail("mmap(guest_mem)", g)
    // spec: content is one word per huge page in a THP mapping, so THP memory is tracked (judged,
    // evicted, checked) per PMD-sized page, like hugetlb. THP is asked for (MADV_HUGEPAGE) only when
    // the kernel has it and the guest is whole huge pages; otherwise the guest runs on base pages.
    const huge = kernel.features.pmd_size
    const thp = m.thp && kernel.features.transparent_hugepage && m.size % huge === 0
    if (thp) {
      const a = kernel.madvise(g.addr, m.size, K.MADV_HUGEPAGE)
      if (!a.ok) return fail("madvise(MADV_HUGEPAGE)", a)
    }
    return { ok: true, value: { memfd: -1, guest_mem: g.addr, io_mem: -1, page_bytes: thp ? huge : page_size } }
  }
  const huge = m.backing === "hugetlb" ? m.hugepage_size : undefined
  const f = kernel.memfd_create("guest", m.size, huge)
  if (!f.ok) return fail("memfd_create(guest)", f)
  const g = kernel.mmap(0, m.size, rw, K.MAP_SHARED, f.fd, 0)
  if (!g.ok) return fail("mmap(guest_mem)", g)
  const io = kernel.mmap(0, m.size, rw, K.MAP_SHARED, f.fd, 0)
  if (!io.ok) return fail("mmap(io_mem)", io)
  return { ok: true, value: { memfd: f.fd, guest_mem: g.addr, io_mem: io.addr, page_bytes: huge ?? page_size } }
}

/** UFFDIO_API with features = 0 on a throwaway userfaultfd: what the kernel offers. */
export function probeFeatures(kernel: Kernel): Ok<number> {
  const u = kernel.userfaultfd(K.O_CLOEXEC | K.O_NONBLOCK)
  if (!u.ok) return fail("userfaultfd (probe)", u)
  const a = kernel.uffdio_api(u.fd, K.UFFD_API, 0)
  kernel.close(u.fd)
  if (!a.ok) return fail("UFFDIO_API (probe)", a)
  return { ok: true, value: a.features >>> 0 }
}

/** The VMM's userfaultfd for `tracker`: UFFDIO_API with what it needs, registered over guest_mem. */
export function setupUffd(
  kernel: Kernel,
  tracker: TrackerKind,
  backing: BackingKind,
  guest_mem: number,
  size: number
): Ok<number> {
  const need = needs(tracker, backing)
  if (need === null) return { ok: true, value: -1 }
  const u = kernel.userfaultfd(K.O_CLOEXEC | K.O_NONBLOCK)
  if (!u.ok) return fail("userfaultfd", u)
  const a = kernel.uffdio_api(u.fd, K.UFFD_API, need)
  if (!a.ok) return fail("UFFDIO_API", a)
  const missing = backing === "anon" ? 0 : K.UFFDIO_REGISTER_MODE_MISSING
  const mode =
    tracker === "rwp"
      ? K.UFFDIO_REGISTER_MODE_RWP | missing
      : tracker === "uffd-wp"
        ? K.UFFDIO_REGISTER_MODE_WP | missing
        : missing
  const r = kernel.uffdio_register(u.fd, guest_mem, size, mode)
  if (!r.ok) return fail("UFFDIO_REGISTER", r)
  return { ok: true, value: u.fd }
}

/** Everything above: memory, probe, choice, userfaultfd. */
export function setupVmm(
  kernel: Kernel,
  m: MemorySpec,
  page_size: number,
  wanted: TrackerKind,
  fallback: readonly TrackerKind[],
  idle_page_ok: boolean
): Ok<VmmSetup> {
  const mem = setupMemory(kernel, m, page_size)
  if (!mem.ok) return mem
  const probe = probeFeatures(kernel)
  if (!probe.ok) return probe
  const { tracker, skipped } = chooseTracker(wanted, fallback, probe.value, m.backing, idle_page_ok)
  const uffd = setupUffd(kernel, tracker, m.backing, mem.value.guest_mem, m.size)
  if (!uffd.ok) return uffd
  const { memfd, guest_mem, io_mem, page_bytes } = mem.value
  return {
    ok: true,
    value: {
      layout: {
        backing: m.backing,
        guest_mem,
        io_mem,
        memfd,
        uffd: uffd.value,
        size: m.size,
        page_bytes,
        pages: m.size / page_bytes
      },
      probed: probe.value,
      tracker,
      skipped
    }
  }
}
