/*
 * How many threads the kernels use. One number governs both OpenBLAS's pool (gemm) and the
 * OpenMP teams of the other kernels, so the two never ask for more threads than the user allowed;
 * small work stays on the calling thread because a fork/join costs a few microseconds.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include <cblas.h>
#include "kernels.h"

/* Below this many element-operations a kernel runs single-threaded. A 2-thread OpenMP region
 * costs ~2-5 us when the other core is free, but the other core is often busy (shared machines), and
 * then every region waits for a worker the OS has not scheduled. Memory-bound kernels gain little
 * from a second core anyway. Measured on the 2-core dev machine, BERT-layer training step on 2
 * threads in idle moments: 63.5 ms at 32K, 62.5 at 256K, 60.9 at 1M (and less CPU spent). */
#define ST_PARALLEL_MIN_WORK (1 << 20)

static atomic_int g_threads = 1;

static int available_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

void st_threads_init(void) { st_set_threads(available_cpus()); }

int st_threads(void) { return atomic_load(&g_threads); }

void st_set_threads(int n) {
  if (n < 1) n = 1;
  atomic_store(&g_threads, n);
  st_blas_threads(n);
}

void st_blas_threads(int n) { openblas_set_num_threads(n); }

int st_threads_for(int64_t work) {
  int t = st_threads();
  return work < ST_PARALLEL_MIN_WORK ? 1 : t;
}
