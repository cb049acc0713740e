/* Row-wise kernels over the last dimension: softmax, log-softmax, layer norm, and backwards.
 * Rows are independent, so threads split rows; layer norm's dgamma/dbeta (a sum over rows) is a
 * second pass split by columns instead, so no two threads add into the same element. */
#include <math.h>
#include "kernels.h"
#include "fastmath.h"
#include "parallel.h"
#include "simd.h"

static inline float row_max(int64_t n, const float *x) {
  float m = -__builtin_inff();
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
  return m;
}

ST_HOT static void softmax_row(int64_t n, const float *x, float *y) {
  const float m = row_max(n, x);
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) {
    const float e = st_expf(x[j] - m);
    y[j] = e;
    s += e;
  }
  const float inv = 1.0f / s;
  for (int64_t j = 0; j < n; j++) y[j] *= inv;
}

ST_HOT static void log_softmax_row(int64_t n, const float *x, float *y) {
  const float m = row_max(n, x);
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) s += st_expf(x[j] - m);
  const float lse = m + logf(s);
  for (int64_t j = 0; j < n; j++) y[j] = x[j] - lse;
}

ST_HOT static void softmax_backward_row(int64_t n, const float *y, const float *dy, float *dx) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) s += dy[j] * y[j];
  for (int64_t j = 0; j < n; j++) dx[j] += y[j] * (dy[j] - s);
}

ST_HOT static void log_softmax_backward_row(int64_t n, const float *y, const float *dy, float *dx) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) s += dy[j];
  for (int64_t j = 0; j < n; j++) dx[j] += dy[j] - st_expf(y[j]) * s;
}

typedef void (*RowFn)(int64_t, const float *, float *);
typedef void (*RowBackFn)(int64_t, const float *, const float *, float *);

static void each_row(int64_t rows, int64_t cols, int64_t cost, RowFn fn, const float *x, float *y) {
  const int nt = st_threads_for(rows * cols * cost);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t r = 0; r < rows; r++) fn(cols, x + r * cols, y + r * cols);
}

static void each_row_back(int64_t rows, int64_t cols, int64_t cost, RowBackFn fn, const float *y, const float *dy,
                          float *dx) {
  const int nt = st_threads_for(rows * cols * cost);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t r = 0; r < rows; r++) fn(cols, y + r * cols, dy + r * cols, dx + r * cols);
}

void st_softmax(int64_t rows, int64_t cols, const float *x, float *y) {
  each_row(rows, cols, 8, softmax_row, x, y);
}

void st_log_softmax(int64_t rows, int64_t cols, const float *x, float *y) {
  each_row(rows, cols, 8, log_softmax_row, x, y);
}

void st_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx) {
  each_row_back(rows, cols, 2, softmax_backward_row, y, dy, dx);
}

void st_log_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx) {
  each_row_back(rows, cols, 8, log_softmax_backward_row, y, dy, dx);
}

/* One row of layer norm; returns mean and rstd through the pointers. In place (x == y) works:
 * x[j] is read before y[j] is written. */
ST_HOT static void layer_norm_row(int64_t n, const float *x, const float *gamma, const float *beta, float eps,
                                  float *y, float *mean, float *rstd) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) s += x[j];
  const float mu = s / (float)n;
  float v = 0.0f;
#pragma omp simd reduction(+ : v)
  for (int64_t j = 0; j < n; j++) v += (x[j] - mu) * (x[j] - mu);
  const float rs = 1.0f / sqrtf(v / (float)n + eps);
  for (int64_t j = 0; j < n; j++) y[j] = (x[j] - mu) * rs * gamma[j] + beta[j];
  *mean = mu;
  *rstd = rs;
}

void st_layer_norm(int64_t rows, int64_t cols, const float *x, const float *gamma, const float *beta,
                   float eps, float *y, float *mean, float *rstd) {
  const int nt = st_threads_for(rows * cols * 4);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t r = 0; r < rows; r++) layer_norm_row(cols, x + r * cols, gamma, beta, eps, y + r * cols, mean + r, rstd + r);
}

/* dx += rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma, xhat = (x - mean) * rstd. */
ST_HOT static void layer_norm_dx_row(int64_t n, const float *x, const float *gamma, float mu, float rs,
                                     const float *dy, float *dx) {
  float sg = 0.0f, sgx = 0.0f;
#pragma omp simd reduction(+ : sg, sgx)
  for (int64_t j = 0; j < n; j++) {
    const float g = dy[j] * gamma[j];
    sg += g;
    sgx += g * (x[j] - mu) * rs;
  }
  const float mg = sg / (float)n, mgx = sgx / (float)n;
  for (int64_t j = 0; j < n; j++) dx[j] += rs * (dy[j] * gamma[j] - mg - (x[j] - mu) * rs * mgx);
}

/* Columns per block in the dgamma/dbeta pass (double accumulators live on the stack). */
#define LN_COL_BLOCK 512

/* dgamma/dbeta for columns [c0, c0 + w) summed over all rows, in double (sums over 1e4+ rows). */
ST_HOT static void layer_norm_params_block(int64_t rows, int64_t cols, int64_t c0, int64_t w, const float *x,
                                           const float *mean, const float *rstd, const float *dy, float *dgamma,
                                           float *dbeta) {
  double ag[LN_COL_BLOCK], ab[LN_COL_BLOCK];
  for (int64_t j = 0; j < w; j++) ag[j] = ab[j] = 0.0;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols + c0, *gr = dy + r * cols + c0;
    const float mu = mean[r], rs = rstd[r];
    for (int64_t j = 0; j < w; j++) {
      ag[j] += (double)(gr[j] * ((xr[j] - mu) * rs));
      ab[j] += (double)gr[j];
    }
  }
  if (dgamma) for (int64_t j = 0; j < w; j++) dgamma[c0 + j] += (float)ag[j];
  if (dbeta) for (int64_t j = 0; j < w; j++) dbeta[c0 + j] += (float)ab[j];
}

void st_layer_norm_backward(int64_t rows, int64_t cols, const float *x, const float *gamma,
                            const float *mean, const float *rstd, const float *dy,
                            float *dx, float *dgamma, float *dbeta) {
  if (dx) {
    const int nt = st_threads_for(rows * cols * 6);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t r = 0; r < rows; r++)
      layer_norm_dx_row(cols, x + r * cols, gamma, mean[r], rstd[r], dy + r * cols, dx + r * cols);
  }
  if (!dgamma && !dbeta) return;
  const int nt0 = st_threads_for(rows * cols * 4);
  int64_t block = (cols + nt0 - 1) / nt0;
  block = (block + 15) / 16 * 16;
  if (block > LN_COL_BLOCK) block = LN_COL_BLOCK;
  const int64_t nblocks = (cols + block - 1) / block;
  const int nt = nblocks < nt0 ? (int)nblocks : nt0;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
  for (int64_t bk = 0; bk < nblocks; bk++) {
    const int64_t c0 = bk * block, w = (cols - c0) < block ? (cols - c0) : block;
    layer_norm_params_block(rows, cols, c0, w, x, mean, rstd, dy, dgamma, dbeta);
  }
}
