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

/* Below this many element-operations a kernel runs single-threaded (measured: a 2-thread OpenMP
 * region costs ~2-5 us here, about what one core needs for 32K simple float operations). */
#define ST_PARALLEL_MIN_WORK 32768

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

#include <stdlib.h>
int st_threads_for(int64_t work) {
  static int64_t minw = -1;
  if (minw < 0) { const char *e = getenv("ST_MINW"); minw = e ? atoll(e) : ST_PARALLEL_MIN_WORK; }
  int t = st_threads();
  return work < minw ? 1 : t;
}
