/* OpenMP helpers, with a single-threaded fallback when the addon is built without -fopenmp. */
#ifndef SLIMTEXT_PARALLEL_H
#define SLIMTEXT_PARALLEL_H

#include <stdint.h>
#ifdef _OPENMP
#include <omp.h>
#else
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
#endif

/* This thread's share [*lo, *hi) of [0, n), in chunks that are multiples of `align` elements so
 * that no two threads write the same cache line of a float array when align = 16. */
static inline void st_share(int64_t n, int64_t align, int64_t *lo, int64_t *hi) {
  const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
  int64_t chunk = (n + nt - 1) / nt;
  chunk = (chunk + align - 1) / align * align;
  int64_t a = t * chunk, b = a + chunk;
  *lo = a < n ? a : n;
  *hi = b < n ? b : n;
}

#endif
