/* Kernels for tables of small integer codes (product quantisation and additive codes) and their
 * k-means fit. Rows are never expanded: a bag reads each id's M one-byte codes and adds the
 * codewords straight into its output, so a PQ lookup costs M small row reads per id instead of a
 * JS pass writing M codeword ids per id and a second pass over them (binding.c checked every id,
 * code and offset before calling these). */
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#include "parallel.h"

/* pq bag b, sub-vector by sub-vector: each slice sums in registers over the bag's ids (W a
 * constant where it can be, so the compiler unrolls and vectorises it). */
#define PQ_BAG(W)                                                          \
  for (int64_t m = 0; m < M; m++) {                                        \
    float acc[(W) > 0 ? (W) : 1];                                          \
    for (int64_t j = 0; j < (W); j++) acc[j] = 0.0f;                       \
    for (int32_t k = lo; k < hi; k++) {                                    \
      const int64_t id = ids[k];                                           \
      const float s = rowScale ? rowScale[id] : 1.0f;                      \
      const float *w = books + (m * K + codes[id * M + m]) * (W);          \
      for (int64_t j = 0; j < (W); j++) acc[j] += s * w[j];                \
    }                                                                      \
    float *om = o + m * (W);                                               \
    for (int64_t j = 0; j < (W); j++) om[j] = acc[j] * inv;                \
  }

/* out[b] = mean over ids i of bag b of s_i * row(i), row(i) = concat (pq, kind 0) or sum (codes,
 * kind 1) over m of codebooks[m*K + codes[i*M + m]], s_i = rowScale[i] or 1. */
void st_codes_bag_mean(int kind, int64_t nBags, int64_t dim, int64_t M, int64_t K, const uint8_t *codes,
                       const float *books, const float *rowScale, const int32_t *ids, const int32_t *offsets,
                       float *out) {
  const int64_t sub = kind == 0 ? dim / M : dim;
  const int64_t work = (int64_t)(offsets[nBags] - offsets[0]) * (kind == 0 ? dim : dim * M) + nBags * dim;
  const int nt = st_threads_for(work);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 16)
  for (int64_t b = 0; b < nBags; b++) {
    float *o = out + b * dim;
    const int32_t lo = offsets[b], hi = offsets[b + 1];
    const float inv = hi > lo ? 1.0f / (float)(hi - lo) : 0.0f;
    if (kind == 0) {
      switch (sub) {
        case 2: PQ_BAG(2); break;
        case 4: PQ_BAG(4); break;
        case 8: PQ_BAG(8); break;
        case 16: PQ_BAG(16); break;
        default: {
          for (int64_t j = 0; j < dim; j++) o[j] = 0.0f;
          for (int32_t k = lo; k < hi; k++) {
            const int64_t id = ids[k];
            const uint8_t *c = codes + id * M;
            const float s = rowScale ? rowScale[id] : 1.0f;
            for (int64_t m = 0; m < M; m++) {
              const float *w = books + (m * K + c[m]) * sub;
              float *om = o + m * sub;
              for (int64_t j = 0; j < sub; j++) om[j] += s * w[j];
            }
          }
          for (int64_t j = 0; j < dim; j++) o[j] *= inv;
        }
      }
      continue;
    }
    for (int64_t j = 0; j < dim; j++) o[j] = 0.0f;
    for (int32_t k = lo; k < hi; k++) {
      const int64_t id = ids[k];
      const uint8_t *c = codes + id * M;
      const float s = rowScale ? rowScale[id] : 1.0f;
      for (int64_t m = 0; m < M; m++) {
        const float *w = books + (m * K + c[m]) * sub;
        for (int64_t j = 0; j < dim; j++) o[j] += s * w[j];
      }
    }
    for (int64_t j = 0; j < dim; j++) o[j] *= inv;
  }
}

/* Backward of st_codes_bag_mean into the (dense, small: K*dim floats) codebook gradient:
 * grad[m*K + codes[i*M + m]] += s_i * dy[b] (its m-th slice for pq) / count_b. Serial: codebook
 * rows are shared by every id, and the whole pass is M*dim adds per id. */
void st_codes_bag_mean_backward(int kind, int64_t nBags, int64_t dim, int64_t M, int64_t K, const uint8_t *codes,
                                const float *rowScale, const int32_t *ids, const int32_t *offsets, const float *dy,
                                float *grad) {
  const int64_t sub = kind == 0 ? dim / M : dim;
  for (int64_t b = 0; b < nBags; b++) {
    const int32_t lo = offsets[b], hi = offsets[b + 1];
    if (hi <= lo) continue;
    const float inv = 1.0f / (float)(hi - lo);
    const float *g = dy + b * dim;
    for (int32_t k = lo; k < hi; k++) {
      const int64_t id = ids[k];
      const uint8_t *c = codes + id * M;
      const float s = (rowScale ? rowScale[id] : 1.0f) * inv;
      for (int64_t m = 0; m < M; m++) {
        float *d = grad + (m * K + c[m]) * sub;
        const float *gm = kind == 0 ? g + m * sub : g;
        for (int64_t j = 0; j < sub; j++) d[j] += s * gm[j];
      }
    }
  }
}

/* out[i] = argmin_k |x_i - c_k|^2 (first k on ties), x [n, d], c [K, d]: the assignment step of
 * k-means, as |c_k|^2 - 2 x_i.c_k (|x_i|^2 does not move the argmin). */
void st_nearest_centroids(int64_t n, int64_t d, int64_t K, const float *x, const float *c, int32_t *out) {
  float *cn = malloc((size_t)(K > 0 ? K : 1) * sizeof(float));
  if (!cn) return;
  for (int64_t k = 0; k < K; k++) {
    float s = 0.0f;
    for (int64_t j = 0; j < d; j++) s += c[k * d + j] * c[k * d + j];
    cn[k] = s;
  }
  const int nt = st_threads_for(n * K * d);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float *xi = x + i * d;
    float best = FLT_MAX;
    int32_t arg = 0;
    for (int64_t k = 0; k < K; k++) {
      const float *ck = c + k * d;
      float dot = 0.0f;
      for (int64_t j = 0; j < d; j++) dot += xi[j] * ck[j];
      const float v = cn[k] - 2.0f * dot;
      if (v < best) {
        best = v;
        arg = (int32_t)k;
      }
    }
    out[i] = arg;
  }
  free(cn);
}
