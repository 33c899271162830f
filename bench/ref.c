/*
 * rwpsim's physical-limit anchor: workloads W1 and W2 of ../shared/bench/README.md in plain C, one
 * byte of state per guest page. `npm run bench` builds it (cc -O2) and runs it beside rwpsim on the
 * same machine; the counts it prints must equal rwpsim's, or the comparison is void.
 *
 *   cc -O2 -o ref bench/ref.c
 *   ./ref [W1|W2] [accesses]          (accesses: a multiple of 1000; default 20,000,000)
 *
 * The workload (README.md, "W1: the reference workload"):
 * - N = 2^20 guest pages; each is not present, present, or present and RWP-protected; young.
 * - 4 vCPUs, each a 64-entry direct-mapped TLB: slot = page & 63, holding a page or -1.
 * - One xorshift32 stream (13, 17, 5), seed 0x9E3779B9. An access draws r1, then r2: hot when
 *   r1 % 10 != 0, page = r2 % 104857; else page = 104857 + r2 % 943719.
 *   W2 draws r0 first: unless it is the burst's first access, r0 & 7 != 0 re-touches the last page.
 * - An access: TLB hit, done. Miss: walk; not present: missing fault, populate; protected: async
 *   RWP fault, unprotect; then young, and the TLB slot takes the page.
 * - Bursts of 1000 accesses round robin (burst i on vCPU i % 4). After every 1,000,000 accesses a
 *   tracker cycle: count the cold pages (present, still protected), re-protect every present page
 *   (clearing young), flush every TLB.
 *
 * Output: one JSON line with the counts, the cold count of each cycle, and the seconds of the
 * access loop (cycles included) measured with CLOCK_MONOTONIC.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  PAGES = 1 << 20,
  HOT_PAGES = PAGES / 10,
  COLD_PAGES = PAGES - HOT_PAGES,
  VCPUS = 4,
  TLB_ENTRIES = 64,
  BURST = 1000,
  CYCLE_ACCESSES = 1000000,
  MAX_CYCLES = 4096
};

/* Page state bits. */
enum { PG_PRESENT = 1, PG_PROTECTED = 2, PG_YOUNG = 4 };

static uint32_t rng_state = 0x9E3779B9u;

static inline uint32_t next_u32(void) {
  uint32_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng_state = x;
  return x;
}

static inline uint32_t draw_page(void) {
  uint32_t r1 = next_u32();
  uint32_t r2 = next_u32();
  return r1 % 10u != 0 ? r2 % HOT_PAGES : HOT_PAGES + r2 % COLD_PAGES;
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct counts {
  uint64_t tlb_hits, tlb_misses, rwp_faults, missing_faults;
  uint32_t cold[MAX_CYCLES];
  int cycles;
};

/* One tracker cycle: the cold count, then re-protect every present page and flush the TLBs. */
static uint32_t tracker_cycle(uint8_t *state, int32_t *tlb) {
  uint32_t cold = 0;
  for (uint32_t p = 0; p < PAGES; p++) {
    uint8_t s = state[p];
    cold += (s & (PG_PRESENT | PG_PROTECTED)) == (PG_PRESENT | PG_PROTECTED);
    if (s & PG_PRESENT) state[p] = (uint8_t)((s | PG_PROTECTED) & ~PG_YOUNG);
  }
  for (int i = 0; i < VCPUS * TLB_ENTRIES; i++) tlb[i] = -1;
  return cold;
}

static void run(int locality, long accesses, uint8_t *state, int32_t *tlb, struct counts *c) {
  long done = 0;
  for (long burst = 0; done < accesses; burst++) {
    int32_t *t = tlb + (burst % VCPUS) * TLB_ENTRIES;
    uint32_t page = 0;
    for (int i = 0; i < BURST; i++) {
      if (!locality) page = draw_page();
      else {
        uint32_t r0 = next_u32();
        if (i == 0 || (r0 & 7u) == 0) page = draw_page();
      }
      uint32_t slot = page & (TLB_ENTRIES - 1);
      if (t[slot] == (int32_t)page) {
        c->tlb_hits++;
        continue;
      }
      c->tlb_misses++;
      uint8_t s = state[page];
      if (!(s & PG_PRESENT)) {
        c->missing_faults++;
        s = PG_PRESENT;
      } else if (s & PG_PROTECTED) {
        c->rwp_faults++;
        s &= (uint8_t)~PG_PROTECTED;
      }
      state[page] = (uint8_t)(s | PG_YOUNG);
      t[slot] = (int32_t)page;
    }
    done += BURST;
    if (done % CYCLE_ACCESSES == 0 && c->cycles < MAX_CYCLES) c->cold[c->cycles++] = tracker_cycle(state, tlb);
  }
}

int main(int argc, char **argv) {
  const char *workload = argc > 1 ? argv[1] : "W1";
  long accesses = argc > 2 ? atol(argv[2]) : 20000000L;
  int locality = strcmp(workload, "W2") == 0;
  if ((!locality && strcmp(workload, "W1") != 0) || accesses <= 0 || accesses % BURST != 0) {
    fprintf(stderr, "usage: %s [W1|W2] [accesses, a multiple of %d]\n", argv[0], BURST);
    return 2;
  }
  uint8_t *state = calloc(PAGES, 1);
  int32_t tlb[VCPUS * TLB_ENTRIES];
  if (state == NULL) return 1;
  for (int i = 0; i < VCPUS * TLB_ENTRIES; i++) tlb[i] = -1;
  static struct counts c;
  double t0 = seconds();
  run(locality, accesses, state, tlb, &c);
  double t1 = seconds();
  printf("{\"workload\":\"%s\",\"accesses\":%ld,\"rwp_faults\":%llu,\"missing_faults\":%llu,"
         "\"tlb_hits\":%llu,\"tlb_misses\":%llu,\"cold_per_cycle\":[",
         workload, accesses, (unsigned long long)c.rwp_faults, (unsigned long long)c.missing_faults,
         (unsigned long long)c.tlb_hits, (unsigned long long)c.tlb_misses);
  for (int i = 0; i < c.cycles; i++) printf("%s%u", i ? "," : "", c.cold[i]);
  printf("],\"seconds\":%.6f,\"state_bytes\":%d}\n", t1 - t0, PAGES);
  free(state);
  return 0;
}
