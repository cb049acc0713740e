/* Whole-array reductions, accumulated in double (the contract asks for it: losses and gradient
 * norms over 1e8 parameters would lose digits in float). */
#include <string.h>
#include "kernels.h"
#include "parallel.h"

double st_sum(int64_t n, const float *x) {
  double s = 0.0;
  const int nt = st_threads_for(n);
#pragma omp parallel for simd num_threads(nt) if (nt > 1) reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += x[i];
  return s;
}

double st_dot(int64_t n, const float *x, const float *y) {
  double s = 0.0;
  const int nt = st_threads_for(n);
#pragma omp parallel for simd num_threads(nt) if (nt > 1) reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += (double)x[i] * (double)y[i];
  return s;
}

double st_sum_squares(int64_t n, const float *x) {
  double s = 0.0;
  const int nt = st_threads_for(n);
#pragma omp parallel for simd num_threads(nt) if (nt > 1) reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
  return s;
}

int st_all_finite(int64_t n, const float *x) {
  /* Exponent bits all ones means inf or NaN; tested on the bits so no float flag can fold it. */
  int bad = 0;
  const int nt = st_threads_for(n);
#pragma omp parallel for simd num_threads(nt) if (nt > 1) reduction(| : bad)
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &x[i], sizeof u);
    bad |= (u & 0x7F800000u) == 0x7F800000u;
  }
  return !bad;
}
