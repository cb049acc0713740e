/* Dropout with the counter-based hash of src/engine/backend.ts (hashUniform), so every backend
 * and every thread count drops exactly the same elements. */
#include <math.h>
#include "kernels.h"
#include "parallel.h"
#include "simd.h"

static inline uint32_t hash24(uint32_t seed, uint32_t i) {
  uint32_t h = seed ^ (i * 0x9E3779B9u);
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h >> 8;
}

ST_HOT static void dropout_run(int64_t lo, int64_t hi, uint32_t threshold, float scale, uint32_t seed,
                               const float *x, float *y, float *mask) {
  for (int64_t i = lo; i < hi; i++) {
    const float m = hash24(seed, (uint32_t)i) >= threshold ? scale : 0.0f;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

void st_dropout(int64_t n, double p, uint32_t seed, const float *x, float *y, float *mask) {
  /* uniform = h24 / 2^24 >= p  <=>  h24 >= ceil(p * 2^24): an exact integer test. */
  const uint32_t threshold = (uint32_t)ceil(p * 16777216.0);
  const float scale = p < 1.0 ? (float)(1.0 / (1.0 - p)) : 0.0f;
  const int nt = st_threads_for(n * 4);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t lo, hi;
    st_share(n, 16, &lo, &hi);
    dropout_run(lo, hi, threshold, scale, seed, x, y, mask);
  }
}
