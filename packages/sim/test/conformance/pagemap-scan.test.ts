// PAGEMAP_SCAN with PAGE_IS_ACCESSED (seed 004, patch 10: PAGE_IS_ACCESSED only in VM_UFFD_RWP VMAs,
// PAGE_IS_WRITTEN narrowed to VM_UFFD_WP VMAs; seed 001 "Cold Page Detection with PAGEMAP_SCAN"; the
// spec's PAGEMAP_SCAN op; rwp-semantics.md §10 and §17.7 M1-M16). M7 (size) and M10 (vec pointer)
// have no scenario fields.
import { describe, it } from "vitest"
import {
  BACKINGS,
  expectFailAt,
  expectPass,
  mem,
  pagemap,
  populate,
  PROTECT,
  RWP,
  RWP_ASYNC,
  read,
  registered,
  rwprotect,
  type Step,
  scan,
  uffd,
  word,
  write
} from "./run.ts"

const ACC = "PAGE_IS_ACCESSED"
const PRESENT = "PAGE_IS_PRESENT"
type M = ReturnType<typeof mem>

// n test pages in one RWP VMA (async), the first `populated` of them written, all protected, and
// the pages in `touched` read afterwards (so they are accessed again).
function tracked(m: M, n: number, populated: number, touched: number[]): Step[] {
  const steps: Step[] = [
    ...m.create(n),
    ...populate(m, populated),
    ...registered(m, n, [RWP, RWP_ASYNC]),
    rwprotect(m, 0, n, PROTECT)
  ]
  for (const k of touched) steps.push(read(0, m.at(k), { value: word(k), blocked: false }))
  return steps
}

const region = (m: M, from: number, to: number, categories: string[]) => ({
  start: m.at(from),
  end: m.at(to),
  categories
})

describe.each(BACKINGS)("PAGEMAP_SCAN [%s]", (b) => {
  const m = mem(b)

  it(`seed 004: PAGE_IS_ACCESSED reports the pages touched since protection (M1) [${b}]`, async () => {
    await expectPass({
      name: `M1 ${b}`,
      steps: [
        ...tracked(m, 8, 8, [0, 1, 2, 3]),
        scan({
          start: m.at(0),
          end: m.at(8),
          category_mask: [ACC],
          return_mask: [ACC],
          expect: { count: 1, regions: [region(m, 0, 4, [ACC])], walk_end: m.at(8) }
        })
      ]
    })
  })

  it(`seed 001 Cold Page Detection: the inverted PAGE_IS_ACCESSED scan reports the still-protected pages (M2) [${b}]`, async () => {
    await expectPass({
      name: `M2 ${b}`,
      steps: [
        ...tracked(m, 8, 8, [0, 1, 2, 3]),
        scan({
          start: m.at(0),
          end: m.at(8),
          category_mask: [ACC],
          category_inverted: [ACC],
          return_mask: [ACC],
          expect: { count: 1, regions: [region(m, 4, 8, [])] }
        })
      ]
    })
  })

  it(`spec PAGEMAP_SCAN: an unpopulated page is never PAGE_IS_ACCESSED, so the inverted scan also matches holes (M3) [${b}]`, async () => {
    await expectPass({
      name: `M3 ${b}`,
      steps: [
        ...tracked(m, 10, 8, [0, 1, 2, 3]),
        scan({
          start: m.at(0),
          end: m.at(10),
          category_mask: [ACC],
          category_inverted: [ACC],
          return_mask: [ACC],
          expect: { count: 1, regions: [region(m, 4, 10, [])] }
        })
      ]
    })
  })

  it(`spec PAGEMAP_SCAN: adding PAGE_IS_PRESENT to category_mask keeps only resident protected pages (M4) [${b}]`, async () => {
    await expectPass({
      name: `M4 ${b}`,
      steps: [
        ...tracked(m, 10, 8, [0, 1, 2, 3]),
        scan({
          start: m.at(0),
          end: m.at(10),
          category_mask: [PRESENT, ACC],
          category_inverted: [ACC],
          return_mask: [PRESENT],
          expect: { count: 1, regions: [region(m, 4, 8, [PRESENT])], walk_end: m.at(10) }
        })
      ]
    })
  })

  it(`kernel pagemap_scan_test_walk: PM_SCAN_CHECK_WPASYNC over an RWP VMA is EPERM (M5) [${b}]`, async () => {
    await expectPass({
      name: `M5 ${b}`,
      steps: [
        ...tracked(m, 2, 2, [0]),
        scan({
          start: m.at(0),
          end: m.at(2),
          flags: ["PM_SCAN_CHECK_WPASYNC"],
          category_mask: [ACC],
          return_mask: [ACC],
          expect: { errno: "EPERM" }
        })
      ]
    })
  })

  it(`kernel pagemap_scan_test_walk: PM_SCAN_WP_MATCHING skips an RWP VMA silently and changes nothing (M6) [${b}]`, async () => {
    await expectPass({
      name: `M6 ${b}`,
      steps: [
        ...tracked(m, 2, 2, [0]),
        scan({
          start: m.at(0),
          end: m.at(2),
          flags: ["PM_SCAN_WP_MATCHING"],
          category_mask: [ACC],
          return_mask: [ACC],
          vec_len: 0,
          expect: { count: 0, walk_end: m.at(2) }
        }),
        scan({
          start: m.at(0),
          end: m.at(2),
          flags: ["PM_SCAN_WP_MATCHING"],
          category_mask: [ACC],
          return_mask: [ACC],
          expect: { count: 0, regions: [] }
        }),
        pagemap(m.at(0), { present: true, uffd: false }),
        pagemap(m.at(1), { present: true, uffd: true })
      ]
    })
  })

  it(`kernel pagemap_scan_get_args: a mask bit outside PM_SCAN_CATEGORIES (1<<10) and an unknown flag are EINVAL (M8) [${b}]`, async () => {
    await expectPass({
      name: `M8 ${b}`,
      steps: [
        ...tracked(m, 1, 1, []),
        scan({ start: m.at(0), end: m.at(1), return_mask: 1 << 10, expect: { errno: "EINVAL" } }),
        scan({ start: m.at(0), end: m.at(1), category_mask: 1 << 10, return_mask: [ACC], expect: { errno: "EINVAL" } }),
        scan({ start: m.at(0), end: m.at(1), flags: 4, return_mask: [ACC], expect: { errno: "EINVAL" } }),
        // PAGE_IS_ACCESSED is bit 9 (seed 004: include/uapi/linux/fs.h).
        scan({ start: m.at(0), end: m.at(1), category_mask: 1 << 9, return_mask: 1 << 9, expect: { count: 0 } })
      ]
    })
  })

  it(`kernel pagemap_scan_get_args: an unaligned start is EINVAL (M9) [${b}]`, async () => {
    await expectPass({
      name: `M9 ${b}`,
      steps: [
        ...tracked(m, 1, 1, []),
        scan({ start: `${m.name}+0x1`, end: m.at(1), return_mask: [ACC], expect: { errno: "EINVAL" } })
      ]
    })
  })

  it(`kernel pagemap_scan_output: max_pages truncates the region and sets walk_end (M11) [${b}]`, async () => {
    await expectPass({
      name: `M11 ${b}`,
      steps: [
        ...tracked(m, 8, 8, [0, 1, 2, 3]),
        scan({
          start: m.at(0),
          end: m.at(8),
          category_mask: [ACC],
          return_mask: [ACC],
          max_pages: b === "hugetlb" ? 1024 : 2,
          expect: { count: 1, regions: [region(m, 0, 2, [ACC])], walk_end: m.at(2) }
        })
      ]
    })
  })

  it(`kernel pagemap_scan_push_range: a full vector stops the walk at the next region (M12) [${b}]`, async () => {
    await expectPass({
      name: `M12 ${b}`,
      steps: [
        ...tracked(m, 4, 4, [0, 2]),
        scan({
          start: m.at(0),
          end: m.at(4),
          return_mask: [ACC],
          vec_len: 2,
          expect: { count: 2, regions: [region(m, 0, 1, [ACC]), region(m, 1, 2, [])], walk_end: m.at(2) }
        }),
        scan({
          start: m.at(2),
          end: m.at(4),
          return_mask: [ACC],
          vec_len: 2,
          expect: { count: 2, regions: [region(m, 2, 3, [ACC]), region(m, 3, 4, [])], walk_end: m.at(4) }
        })
      ]
    })
  })

  it(`seed 004: PAGE_IS_ACCESSED is never reported outside an RWP VMA (M13) [${b}]`, async () => {
    const n = mem(b, "n")
    await expectPass({
      name: `M13 ${b}`,
      steps: [
        ...n.create(2),
        ...populate(n, 2),
        scan({
          start: n.at(0),
          end: n.at(2),
          category_mask: [ACC],
          return_mask: [ACC],
          expect: { count: 0, regions: [] }
        }),
        scan({
          start: n.at(0),
          end: n.at(2),
          category_mask: [ACC],
          category_inverted: [ACC],
          return_mask: [PRESENT, ACC],
          expect: { count: 1, regions: [region(n, 0, 2, [PRESENT])] }
        })
      ]
    })
  })

  it(`seed 004: PAGE_IS_WRITTEN is not reported inside an RWP VMA (M15) [${b}]`, async () => {
    await expectPass({
      name: `M15 ${b}`,
      steps: [
        ...tracked(m, 2, 2, [0]),
        write(0, m.at(1), 3, { blocked: false }),
        scan({
          start: m.at(0),
          end: m.at(2),
          category_mask: ["PAGE_IS_WRITTEN"],
          return_mask: ["PAGE_IS_WRITTEN"],
          expect: { count: 0, regions: [] }
        })
      ]
    })
  })

  it(`spec PAGEMAP_SCAN: returned categories are the page's own (not inverted) masked by return_mask [${b}]`, async () => {
    const file = b !== "anon"
    // Listed in bit order (FILE 1<<2, PRESENT 1<<3, HUGE 1<<6, ACCESSED 1<<9).
    const cats = [...(file ? ["PAGE_IS_FILE"] : []), PRESENT, ...(b === "hugetlb" ? ["PAGE_IS_HUGE"] : [])]
    await expectPass({
      name: `return_mask ${b}`,
      steps: [
        ...tracked(m, 2, 2, [1]),
        scan({
          start: m.at(0),
          end: m.at(2),
          return_mask: [PRESENT, "PAGE_IS_FILE", "PAGE_IS_HUGE", ACC],
          expect: { count: 2, regions: [region(m, 0, 1, cats), region(m, 1, 2, [...cats, ACC])] }
        }),
        scan({ start: m.at(0), end: m.at(2), return_mask: [], expect: { count: 1, regions: [region(m, 0, 2, [])] } })
      ]
    })
  })

  it(`seed 004: PAGE_IS_ACCESSED clears again when the range is re-protected [${b}]`, async () => {
    await expectPass({
      name: `re-protect ${b}`,
      steps: [
        ...tracked(m, 2, 2, [0, 1]),
        rwprotect(m, 0, 2, PROTECT),
        read(0, m.at(1), { value: word(1), blocked: false }),
        scan({
          start: m.at(0),
          end: m.at(2),
          category_mask: [ACC],
          return_mask: [ACC],
          expect: { count: 1, regions: [region(m, 1, 2, [ACC])] }
        })
      ]
    })
  })

  it(`spec PAGEMAP_SCAN: regions merge across VMA boundaries when contiguous with equal categories [${b}]`, async () => {
    // Registering the two halves separately leaves two adjacent RWP VMAs.
    await expectPass({
      name: `merge ${b}`,
      steps: [
        ...m.create(4),
        ...populate(m, 4),
        ...uffd([RWP, RWP_ASYNC]),
        { UFFDIO_REGISTER: { fd: "u", range: m.range(0, 2), mode: ["UFFDIO_REGISTER_MODE_RWP"] } },
        {
          UFFDIO_REGISTER: {
            fd: "u",
            range: m.range(2, 2),
            mode: ["UFFDIO_REGISTER_MODE_RWP", "UFFDIO_REGISTER_MODE_MISSING"]
          }
        },
        rwprotect(m, 0, 4, PROTECT),
        read(0, m.at(1), { value: word(1) }),
        read(0, m.at(2), { value: word(2) }),
        scan({
          start: m.at(0),
          end: m.at(4),
          category_mask: [ACC],
          return_mask: [ACC],
          expect: { count: 1, regions: [region(m, 1, 3, [ACC])] }
        })
      ]
    })
  })
})

describe("PAGEMAP_SCAN: backing-specific cases", () => {
  const m = mem("anon")

  it("rwp-semantics.md §10.3: swapped pages carry PAGE_IS_ACCESSED by the swap uffd bit; anyof selects present or swapped", async () => {
    await expectPass({
      name: "swap categories",
      steps: [
        ...tracked(m, 4, 4, [2]),
        { madvise: { addr: m.at(1), length: m.len(1), advice: "MADV_PAGEOUT" } },
        { madvise: { addr: m.at(2), length: m.len(1), advice: "MADV_PAGEOUT" } },
        scan({
          start: m.at(0),
          end: m.at(4),
          return_mask: [PRESENT, "PAGE_IS_SWAPPED", ACC],
          expect: {
            count: 4,
            regions: [
              region(m, 0, 1, [PRESENT]),
              region(m, 1, 2, ["PAGE_IS_SWAPPED"]),
              region(m, 2, 3, ["PAGE_IS_SWAPPED", ACC]),
              region(m, 3, 4, [PRESENT])
            ]
          }
        }),
        scan({
          start: m.at(0),
          end: m.at(5),
          category_mask: [ACC],
          category_inverted: [ACC],
          category_anyof_mask: [PRESENT, "PAGE_IS_SWAPPED"],
          return_mask: [],
          expect: { count: 2, regions: [region(m, 0, 2, []), region(m, 3, 4, [])] }
        })
      ]
    })
  })

  it("kernel pagemap_scan_get_args: end is rounded up to a page boundary (M16)", async () => {
    await expectPass({
      name: "M16",
      steps: [
        ...tracked(m, 4, 4, [0, 1, 2, 3]),
        scan({
          start: m.at(0),
          end: `${m.name}+0x2001`,
          category_mask: [ACC],
          return_mask: [ACC],
          expect: { count: 1, regions: [region(m, 0, 3, [ACC])], walk_end: m.at(3) }
        })
      ]
    })
  })

  it("kernel pagemap_scan_get_args: end below start is EFAULT (access_ok)", async () => {
    await expectPass({
      name: "end < start",
      steps: [
        ...tracked(m, 2, 2, []),
        scan({ start: m.at(1), end: m.at(0), return_mask: [ACC], expect: { errno: "EFAULT" } })
      ]
    })
  })

  it("seed 004: PAGE_IS_WRITTEN is reported inside a VM_UFFD_WP VMA only, not in RWP or unregistered memory (M14, M15)", async () => {
    const w = mem("anon", "w")
    const n = mem("anon", "n")
    const WRITTEN = "PAGE_IS_WRITTEN"
    await expectPass({
      name: "M14",
      steps: [
        ...w.create(2),
        ...populate(w, 2),
        ...n.create(2),
        ...populate(n, 2),
        ...tracked(m, 2, 2, [0]),
        ...uffd(["UFFD_FEATURE_PAGEFAULT_FLAG_WP", "UFFD_FEATURE_WP_ASYNC"], "wp"),
        { UFFDIO_REGISTER: { fd: "wp", range: w.range(0, 2), mode: ["UFFDIO_REGISTER_MODE_WP"] } },
        { UFFDIO_WRITEPROTECT: { fd: "wp", range: w.range(0, 2), mode: ["UFFDIO_WRITEPROTECT_MODE_WP"] } },
        write(0, w.at(0), 1, { blocked: false }),
        scan({
          start: w.at(0),
          end: w.at(2),
          category_mask: [WRITTEN],
          return_mask: [WRITTEN],
          expect: { count: 1, regions: [region(w, 0, 1, [WRITTEN])] }
        }),
        scan({
          start: m.at(0),
          end: m.at(2),
          category_mask: [WRITTEN],
          return_mask: [WRITTEN],
          expect: { count: 0, regions: [] }
        }),
        // The narrowing: present pages outside WP VMAs used to be "written"; no longer.
        scan({
          start: n.at(0),
          end: n.at(2),
          category_mask: [WRITTEN],
          return_mask: [WRITTEN],
          expect: { count: 0, regions: [] }
        }),
        // And PAGE_IS_ACCESSED is not reported in the WP VMA (seed 004).
        scan({
          start: w.at(0),
          end: w.at(2),
          category_mask: [ACC],
          return_mask: [ACC],
          expect: { count: 0, regions: [] }
        })
      ]
    })
  })
})

describe("PAGEMAP_SCAN negative cases (the suite can fail)", () => {
  it("fails at the scan when a scenario expects an unpopulated page to be reported as accessed", async () => {
    const m = mem("anon")
    const steps: Step[] = [
      ...tracked(m, 2, 1, [0]),
      scan({
        start: m.at(0),
        end: m.at(2),
        category_mask: [ACC],
        return_mask: [ACC],
        expect: { count: 1, regions: [region(m, 0, 2, [ACC])] }
      })
    ]
    await expectFailAt({ name: "neg M3", steps }, steps.length - 1, "PAGEMAP_SCAN")
  })

  it("fails at the scan when a scenario expects the wrong walk_end after max_pages", async () => {
    const m = mem("shmem")
    const steps: Step[] = [
      ...tracked(m, 4, 4, [0, 1, 2, 3]),
      scan({
        start: m.at(0),
        end: m.at(4),
        category_mask: [ACC],
        return_mask: [ACC],
        max_pages: 2,
        expect: { walk_end: m.at(4) }
      })
    ]
    await expectFailAt({ name: "neg M11", steps }, steps.length - 1, "PAGEMAP_SCAN")
  })
})
