/**
 * Script steps (spec "Script steps"): one strict argument mapping per op, each with its own
 * `expect`. A step is written `{ OP: ARGS }` and parsed into `{ op, args, expect }` (see schema.ts).
 */
import * as z from "zod"
import { expected } from "./messages.ts"
import { ONLY_VALID, strict, unknownKeys } from "./strict.ts"
import { address, duration, flags, ioctls, name, range, size, word } from "./values.ts"

/** Errno names a step may expect (spec "Errno names are the kernel's", plus a few more of mainline). */
export const ERRNO_NAMES = [
  "EINVAL",
  "ENOENT",
  "EBUSY",
  "EAGAIN",
  "EEXIST",
  "EFAULT",
  "ENOMEM",
  "EPERM",
  "ESRCH",
  "EBADF",
  "ENOTTY",
  "EOPNOTSUPP",
  "ENOSPC",
  "EACCES",
  "EIO",
  "ENODEV",
  "ENOSYS",
  "ENXIO",
  "EOVERFLOW",
  "ESPIPE",
  "EINTR",
  "EMFILE"
] as const
export type ErrnoName = (typeof ERRNO_NAMES)[number]

export const SIGNALS = ["SIGSEGV", "SIGBUS"] as const
export const VCPU_STATES = ["running", "blocked", "idle"] as const
export const MADVISE_ADVICE = ["MADV_DONTNEED", "MADV_PAGEOUT", "MADV_HUGEPAGE", "MADV_NOHUGEPAGE"] as const
export const UFFD_EVENTS = [
  "UFFD_EVENT_PAGEFAULT",
  "UFFD_EVENT_FORK",
  "UFFD_EVENT_REMAP",
  "UFFD_EVENT_REMOVE",
  "UFFD_EVENT_UNMAP"
] as const

const enumOf = <const T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, { error: expected(`${what}: ${values.join(", ")}`) })

const bool = z.boolean({ error: expected("true or false") })
const vcpuNumber = z
  .int({ error: expected("a vCPU number (0 to machine.vcpus - 1)") })
  .min(0, { error: expected("a vCPU number (0 to machine.vcpus - 1)") })
const count = z
  .int({ error: expected("a count (an integer >= 0)") })
  .min(0, { error: expected("a count (an integer >= 0)") })

/** Field docs: every field says whether it is required or what it defaults to. */
const req = <T extends z.ZodType>(schema: T, text: string) => schema.meta({ description: `${text} Required.` })
const opt = <T extends z.ZodType>(schema: T, text: string) =>
  schema.optional().meta({ description: text.includes("Default:") ? text : `${text} Optional.` })

/** The `expect` fields every op accepts. */
const baseExpect = {
  errno: opt(enumOf(ERRNO_NAMES, "an errno name"), "The errno the op must fail with; without it the op must succeed."),
  blocked: opt(
    bool,
    "For a vCPU access: whether it must block. For an op of the VMM that would block: true abandons it instead of failing the step."
  )
}

function expectOf<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  return strict({ ...baseExpect, ...shape }, `an expect mapping like ${what}`)
}

const plainExpect = expectOf({}, "{ errno: EINVAL }")
const optionalExpect = opt(
  plainExpect,
  "What the step must do: { errno?, blocked? }. Default: it must succeed (and not block)."
)

function args<T extends z.core.$ZodLooseShape>(op: string, shape: T, example: string) {
  return strict(shape, `the arguments of ${op}: a mapping like ${example}`).meta({
    description: `The ${op} op; its arguments, e.g. ${example}.`
  })
}

const fd = (text: string) => req(name, text)
const rangeField = req(range, "The range { start, len }.")

const hugetlbSize = size.superRefine((_, ctx) => {
  if (ctx.value !== 2 << 20 && ctx.value !== 1 << 30) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: `expected "2MiB" or "1GiB", got ${ctx.value}` })
  }
}, ONLY_VALID)

const copySource = strict(
  {
    value: opt(word, "Fill every page of `len` with this word."),
    storage: opt(name, "Copy from this storage object."),
    offset: opt(size, "Byte offset in the storage object (with `storage`).")
  },
  "a source like { value: 7 } or { storage: disk, offset: 0 }"
)
  .superRefine((_, ctx) => {
    const { value, storage, offset } = ctx.value
    const message =
      value !== undefined
        ? storage !== undefined || offset !== undefined
          ? "expected either { value } or { storage, offset }, not both"
          : undefined
        : storage === undefined
          ? "expected a source { value: N } or { storage: NAME, offset }"
          : offset === undefined
            ? "required: offset (a size) with storage"
            : undefined
    if (message !== undefined) ctx.issues.push({ code: "custom", input: ctx.value, message })
  }, ONLY_VALID)
  .transform((s): { readonly value: number } | { readonly storage: string; readonly offset: number } =>
    s.value !== undefined ? { value: s.value } : { storage: s.storage!, offset: s.offset! }
  )

const scanRegion = strict(
  {
    start: req(address, "First byte of the region."),
    end: req(address, "End of the region (exclusive)."),
    categories: req(flags, "The region's categories masked by return_mask (PAGE_IS_* names).")
  },
  "a region like { start: buf, end: buf+4KiB, categories: [PAGE_IS_PRESENT] }"
)

const defaultFlags = (text: string) => flags.prefault([]).meta({ description: `${text} Default: [].` })

/** Each op's argument mapping, `expect` included. Keys are the op names of the spec. */
export const OPS = {
  memfd_create: args(
    "memfd_create",
    {
      as: req(name, "Name of the file."),
      size: req(size, "Size of the file (ftruncate after memfd_create)."),
      hugetlb: opt(hugetlbSize, 'A hugetlbfs file with this huge page size: "2MiB" or "1GiB". Default: shmem.'),
      expect: optionalExpect
    },
    "{ as: f, size: 2MiB }"
  ).meta({ description: "A shmem (or hugetlbfs) file named `as`." }),
  mmap: args(
    "mmap",
    {
      as: req(name, "Name of the mapping."),
      length: req(size, "Length of the mapping."),
      fd: opt(name, "A file to map; without it, private anonymous memory."),
      offset: size.prefault(0).meta({ description: "Offset in the file. Default: 0." }),
      addr: opt(address, "Address for MAP_FIXED (or a hint). Default: placed upward from 0x7f0000000000."),
      prot: flags
        .prefault(["PROT_READ", "PROT_WRITE"])
        .meta({ description: "Protection, PROT_* names or PROT_NONE. Default: [PROT_READ, PROT_WRITE]." }),
      flags: opt(
        flags,
        "MAP_SHARED, MAP_PRIVATE, MAP_FIXED... Default: none given (the runner uses MAP_SHARED with fd, else MAP_PRIVATE|MAP_ANONYMOUS)."
      ),
      expect: optionalExpect
    },
    "{ as: m, length: 4KiB }"
  ).meta({ description: "Map memory: anonymous, or the file `fd`." }),
  mprotect: args(
    "mprotect",
    {
      addr: req(address, "Start address."),
      length: req(size, "Length."),
      prot: req(flags, "New protection (PROT_* names)."),
      expect: optionalExpect
    },
    "{ addr: m, length: 4KiB, prot: PROT_NONE }"
  ),
  munmap: args(
    "munmap",
    { addr: req(address, "Start address."), length: req(size, "Length."), expect: optionalExpect },
    "{ addr: m, length: 4KiB }"
  ),
  madvise: args(
    "madvise",
    {
      addr: req(address, "Start address."),
      length: req(size, "Length."),
      advice: req(
        z.union([z.enum(MADVISE_ADVICE), z.int().min(0)], {
          error: expected(`an advice: ${MADVISE_ADVICE.join(", ")} or an integer`)
        }),
        `The advice: ${MADVISE_ADVICE.join(", ")}, or an integer.`
      ),
      expect: optionalExpect
    },
    "{ addr: m, length: 4KiB, advice: MADV_PAGEOUT }"
  ),
  fallocate: args(
    "fallocate",
    {
      fd: fd("The file."),
      mode: req(flags, "FALLOC_FL_* names, e.g. [FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE]."),
      offset: req(size, "Offset in the file."),
      len: req(size, "Length."),
      expect: optionalExpect
    },
    "{ fd: f, mode: [FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE], offset: 0, len: 4KiB }"
  ),
  ftruncate: args(
    "ftruncate",
    { fd: fd("The file."), length: req(size, "New size."), expect: optionalExpect },
    "{ fd: f, length: 8KiB }"
  ),
  close: args("close", { fd: fd("The file or userfaultfd."), expect: optionalExpect }, "{ fd: uffd }"),
  migrate: args(
    "migrate",
    { addr: req(address, "Start address."), length: req(size, "Length."), expect: optionalExpect },
    "{ addr: m, length: 4KiB }"
  ).meta({ description: "Migrate the present pages of the range (as NUMA balancing or compaction would)." }),
  pagemap: args(
    "pagemap",
    {
      addr: req(address, "The page to read the /proc/pid/pagemap entry of."),
      expect: req(
        expectOf(
          {
            present: opt(bool, "Bit 63."),
            swapped: opt(bool, "Bit 62."),
            uffd: opt(bool, "Bit 57 (PM_UFFD_WP: the page is protected)."),
            file_or_shared: opt(bool, "Bit 61 (file page or shared anon).")
          },
          "{ present: true, uffd: true }"
        ),
        "The bits the entry must have."
      )
    },
    "{ addr: m, expect: { present: true } }"
  ),
  read: args(
    "read",
    {
      vcpu: req(vcpuNumber, "The vCPU that reads."),
      addr: req(address, "The address read."),
      expect: opt(
        expectOf(
          {
            value: opt(word, "The word read (checked when the access completes)."),
            signal: opt(enumOf(SIGNALS, "a signal"), "The signal the access must deliver.")
          },
          "{ value: 42 }"
        ),
        "What the access must do. Default: complete without blocking or a signal."
      )
    },
    "{ vcpu: 0, addr: m }"
  ),
  write: args(
    "write",
    {
      vcpu: req(vcpuNumber, "The vCPU that writes."),
      addr: req(address, "The address written."),
      value: req(word, "The word written (unsigned 32-bit)."),
      expect: opt(
        expectOf(
          { signal: opt(enumOf(SIGNALS, "a signal"), "The signal the access must deliver.") },
          "{ blocked: true }"
        ),
        "What the access must do. Default: complete without blocking or a signal."
      )
    },
    "{ vcpu: 0, addr: m, value: 1 }"
  ),
  vcpu: args(
    "vcpu",
    {
      vcpu: req(vcpuNumber, "The vCPU observed."),
      expect: req(
        expectOf(
          {
            state: req(enumOf(VCPU_STATES, "a vCPU state"), "running, blocked or idle."),
            blocked_on: opt(address, "The page-aligned fault address it is blocked on.")
          },
          "{ state: blocked }"
        ),
        "The state it must be in."
      )
    },
    "{ vcpu: 0, expect: { state: idle } }"
  ),
  sleep: args(
    "sleep",
    { duration: req(duration, "Virtual time to let pass."), expect: optionalExpect },
    "{ duration: 1ms }"
  ),
  wait: args(
    "wait",
    {
      vcpu: req(vcpuNumber, "The vCPU whose access must complete."),
      expect: opt(
        expectOf({ value: opt(word, "The word its read returns.") }, "{ value: 42 }"),
        "What the completed access must return."
      )
    },
    "{ vcpu: 0 }"
  ),
  pwrite: args(
    "pwrite",
    {
      storage: req(name, "The storage object (created by its first pwrite)."),
      offset: req(size, "Offset in the storage object (a multiple of the page size)."),
      from: req(address, "Memory to write from."),
      len: req(size, "Length (a multiple of the page size)."),
      expect: optionalExpect
    },
    "{ storage: disk, offset: 0, from: m, len: 4KiB }"
  ),
  pread: args(
    "pread",
    {
      storage: req(name, "The storage object (never-written parts read as zeros)."),
      offset: req(size, "Offset in the storage object (a multiple of the page size)."),
      to: req(address, "Memory to read into."),
      len: req(size, "Length (a multiple of the page size)."),
      expect: optionalExpect
    },
    "{ storage: disk, offset: 0, to: m, len: 4KiB }"
  ),
  userfaultfd: args(
    "userfaultfd",
    {
      as: req(name, "Name of the userfaultfd."),
      flags: defaultFlags("O_CLOEXEC, O_NONBLOCK."),
      expect: optionalExpect
    },
    "{ as: uffd, flags: [O_NONBLOCK] }"
  ),
  UFFDIO_API: args(
    "UFFDIO_API",
    {
      fd: fd("The userfaultfd."),
      features: req(flags, "UFFD_FEATURE_* names requested."),
      expect: opt(
        expectOf(
          {
            features: opt(flags, "The exact set of features returned."),
            features_include: opt(flags, "Features that must be returned."),
            features_exclude: opt(flags, "Features that must not be returned."),
            ioctls_include: opt(ioctls, "Ioctls (_UFFDIO_*) that must be returned."),
            ioctls_exclude: opt(ioctls, "Ioctls (_UFFDIO_*) that must not be returned.")
          },
          "{ features_include: [UFFD_FEATURE_RWP] }"
        ),
        "What the ioctl must return. Default: it must succeed."
      )
    },
    "{ fd: uffd, features: [UFFD_FEATURE_RWP] }"
  ),
  UFFDIO_REGISTER: args(
    "UFFDIO_REGISTER",
    {
      fd: fd("The userfaultfd."),
      range: rangeField,
      mode: req(flags, "UFFDIO_REGISTER_MODE_* names."),
      expect: opt(
        expectOf(
          {
            ioctls_include: opt(ioctls, "Ioctls (_UFFDIO_*) that must be returned."),
            ioctls_exclude: opt(ioctls, "Ioctls (_UFFDIO_*) that must not be returned.")
          },
          "{ ioctls_include: [_UFFDIO_RWPROTECT] }"
        ),
        "What the ioctl must return. Default: it must succeed."
      )
    },
    "{ fd: uffd, range: { start: m, len: 4KiB }, mode: [UFFDIO_REGISTER_MODE_RWP] }"
  ),
  UFFDIO_UNREGISTER: args(
    "UFFDIO_UNREGISTER",
    { fd: fd("The userfaultfd."), range: rangeField, expect: optionalExpect },
    "{ fd: uffd, range: { start: m, len: 4KiB } }"
  ),
  UFFDIO_WAKE: args(
    "UFFDIO_WAKE",
    { fd: fd("The userfaultfd."), range: rangeField, expect: optionalExpect },
    "{ fd: uffd, range: { start: m, len: 4KiB } }"
  ),
  UFFDIO_RWPROTECT: args(
    "UFFDIO_RWPROTECT",
    {
      fd: fd("The userfaultfd."),
      range: rangeField,
      mode: req(
        flags,
        "[UFFDIO_RWPROTECT_MODE_RWP] protects, [] resolves, UFFDIO_RWPROTECT_MODE_DONTWAKE resolves without waking."
      ),
      expect: optionalExpect
    },
    "{ fd: uffd, range: { start: m, len: 4KiB }, mode: [UFFDIO_RWPROTECT_MODE_RWP] }"
  ),
  UFFDIO_WRITEPROTECT: args(
    "UFFDIO_WRITEPROTECT",
    {
      fd: fd("The userfaultfd."),
      range: rangeField,
      mode: req(flags, "UFFDIO_WRITEPROTECT_MODE_* names."),
      expect: optionalExpect
    },
    "{ fd: uffd, range: { start: m, len: 4KiB }, mode: [UFFDIO_WRITEPROTECT_MODE_WP] }"
  ),
  UFFDIO_SET_MODE: args(
    "UFFDIO_SET_MODE",
    {
      fd: fd("The userfaultfd."),
      enable: defaultFlags("Features to enable (UFFD_FEATURE_RWP_ASYNC)."),
      disable: defaultFlags("Features to disable."),
      expect: optionalExpect
    },
    "{ fd: uffd, enable: [UFFD_FEATURE_RWP_ASYNC] }"
  ),
  UFFDIO_COPY: args(
    "UFFDIO_COPY",
    {
      fd: fd("The userfaultfd."),
      dst: req(address, "Destination address."),
      len: req(size, "Length."),
      src: req(copySource, "{ value: N } fills every page; { storage: NAME, offset } copies from storage."),
      mode: defaultFlags("UFFDIO_COPY_MODE_* names."),
      expect: optionalExpect
    },
    "{ fd: uffd, dst: m, len: 4KiB, src: { value: 7 } }"
  ),
  read_msg: args(
    "read_msg",
    {
      fd: fd("The userfaultfd."),
      expect: opt(
        expectOf(
          {
            event: opt(enumOf(UFFD_EVENTS, "an event"), "The message's event."),
            flags_include: opt(flags, "UFFD_PAGEFAULT_FLAG_* that must be set."),
            flags_exclude: opt(flags, "UFFD_PAGEFAULT_FLAG_* that must be clear."),
            address: opt(address, "The fault address.")
          },
          "{ event: UFFD_EVENT_PAGEFAULT }"
        ),
        "What the message must be. Default: a message must be read."
      )
    },
    "{ fd: uffd }"
  ),
  PAGEMAP_SCAN: args(
    "PAGEMAP_SCAN",
    {
      start: req(address, "Start of the scan."),
      end: req(address, "End of the scan (exclusive)."),
      category_mask: defaultFlags("PAGE_IS_* a page must have (after inversion)."),
      category_inverted: defaultFlags("PAGE_IS_* inverted before matching."),
      category_anyof_mask: defaultFlags("PAGE_IS_* of which a page must have one."),
      return_mask: req(flags, "PAGE_IS_* returned in each region's categories."),
      flags: defaultFlags("PM_SCAN_* names (PM_SCAN_WP_MATCHING, PM_SCAN_CHECK_WPASYNC)."),
      vec_len: z
        .int({ error: expected("a number of regions (an integer >= 0)") })
        .min(0, { error: expected("a number of regions (an integer >= 0)") })
        .nullable()
        .default(null)
        .meta({ description: "Regions the output buffer holds; 0 means no buffer. Default: null (unlimited)." }),
      max_pages: count.default(0).meta({ description: "Pages to report at most; 0 means no limit. Default: 0." }),
      expect: opt(
        expectOf(
          {
            regions: opt(
              z.array(scanRegion, { error: expected("a list of regions") }),
              "The exact list of regions returned."
            ),
            count: opt(count, "The ioctl's return value."),
            walk_end: opt(address, "Where the walk ended.")
          },
          "{ count: 1 }"
        ),
        "What the scan must return. Default: it must succeed."
      )
    },
    "{ start: m, end: m+8KiB, return_mask: [PAGE_IS_PRESENT] }"
  )
}

export type OpName = keyof typeof OPS
export const OP_NAMES = Object.keys(OPS) as OpName[]

type OpOutput<K extends OpName> = z.output<(typeof OPS)[K]>

/** One parsed step: the op, its arguments (defaults filled) and its expectation (undefined: must succeed). */
export type StepOf<K extends OpName> = {
  readonly op: K
  readonly args: Omit<OpOutput<K>, "expect">
  readonly expect: OpOutput<K>["expect"]
}
export type Step = { [K in OpName]: StepOf<K> }[OpName]
export type StepArgs<K extends OpName> = StepOf<K>["args"]
export type StepExpect<K extends OpName> = StepOf<K>["expect"]

function optionalAll<T extends Record<string, z.ZodType>>(shape: T): { [K in keyof T]: z.ZodOptional<T[K]> } {
  const out: Record<string, z.ZodType> = {}
  for (const [k, v] of Object.entries(shape)) out[k] = v.optional()
  return out as { [K in keyof T]: z.ZodOptional<T[K]> }
}

const STEP_WHAT = "a step: a one-key mapping { OP: ARGS }"

function stepKeyMessage(keys: readonly string[]): string {
  if (keys.includes("expect")) {
    return 'unknown op "expect": expect goes inside the op\'s arguments, as in { read: { vcpu: 0, addr: m, expect: { value: 1 } } }'
  }
  return unknownKeys(keys, OP_NAMES, "op")
}

/** A step `{ OP: ARGS }`, parsed into `{ op, args, expect }`. */
export const step = z
  .strictObject(optionalAll(OPS), {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") return stepKeyMessage(issue.keys)
      if (issue.code === "invalid_type") return expected(STEP_WHAT)(issue)
      return undefined
    }
  })
  .superRefine((_, ctx) => {
    const ops = Object.keys(ctx.value).filter((k) => ctx.value[k as OpName] !== undefined)
    if (ops.length !== 1) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        message:
          ops.length === 0
            ? `expected ${STEP_WHAT}, got an empty mapping; valid ops: ${OP_NAMES.join(", ")}`
            : `expected one op per step, got ${ops.length}: ${ops.join(", ")}`
      })
    }
  }, ONLY_VALID)
  .transform((value): Step => {
    // An unknown op still reaches here (zod pipes past unrecognized keys); the parse fails anyway.
    const op = OP_NAMES.find((k) => value[k] !== undefined) ?? "sleep"
    const { expect, ...rest } = (value[op] ?? {}) as { expect?: unknown }
    return { op, args: rest, expect } as Step
  })
  .meta({
    description: `A step: a one-key mapping { OP: ARGS }. Ops: ${OP_NAMES.join(", ")}.`,
    minProperties: 1,
    maxProperties: 1
  })
