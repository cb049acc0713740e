/* Embedding kernels: gather, index-add and mean embedding bags. binding.c has already checked
 * every id against the table, so these only move rows. Kernels that add into rows which several
 * inputs may share (duplicate ids) split threads by columns, never by inputs. */
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#include "parallel.h"
#include "simd.h"

/* How many ids ahead the bag kernels prefetch table rows. */
#define BAG_PREFETCH 4

void st_gather(int64_t n, int64_t dim, const float *table, const int32_t *ids, float *out) {
  const int nt = st_threads_for(n * dim);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t i = 0; i < n; i++) memcpy(out + i * dim, table + (int64_t)ids[i] * dim, (size_t)dim * sizeof(float));
}

/* Threads for a pass that splits `dim` columns: each needs a worthwhile strip. */
static int column_threads(int64_t n, int64_t dim) {
  const int nt = st_threads_for(n * dim);
  return dim >= 64 * (int64_t)nt ? nt : 1;
}

void st_index_add(int64_t n, int64_t dim, const float *src, const int32_t *idx, float alpha, float *dst) {
  const int nt = column_threads(n, dim);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t c0, c1;
    st_share(dim, 16, &c0, &c1);
    for (int64_t i = 0; i < n; i++) {
      float *d = dst + (int64_t)idx[i] * dim;
      const float *s = src + i * dim;
      for (int64_t j = c0; j < c1; j++) d[j] += alpha * s[j];
    }
  }
}

void st_embedding_bag_mean(int64_t nBags, int64_t dim, const float *table, const int32_t *ids,
                           const int32_t *offsets, float *out) {
  const int64_t work = (int64_t)(offsets[nBags] - offsets[0]) * dim + nBags * dim;
  const int nt = st_threads_for(work);
  const int32_t end = offsets[nBags];
  const int64_t rowBytes = dim * (int64_t)sizeof(float);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 16)
  for (int64_t b = 0; b < nBags; b++) {
    float *o = out + b * dim;
    const int32_t lo = offsets[b], hi = offsets[b + 1];
    for (int64_t j = 0; j < dim; j++) o[j] = 0.0f;
    for (int32_t k = lo; k < hi; k++) {
      /* Rows are random reads from a table far bigger than the caches (millions of n-grams): ask
       * for a row a few ids ahead so its misses overlap with this row's sum (measured on a 750k x
       * 200 table: about a third less time per bag). */
      if (k + BAG_PREFETCH < end) {
        const char *ahead = (const char *)(table + (int64_t)ids[k + BAG_PREFETCH] * dim);
        for (int64_t j = 0; j < rowBytes; j += 64) __builtin_prefetch(ahead + j, 0, 0);
      }
      const float *row = table + (int64_t)ids[k] * dim;
      for (int64_t j = 0; j < dim; j++) o[j] += row[j];
    }
    if (hi > lo) {
      const float inv = 1.0f / (float)(hi - lo);
      for (int64_t j = 0; j < dim; j++) o[j] *= inv;
    }
  }
}

void st_embedding_bag_mean_backward(int64_t nBags, int64_t dim, const int32_t *offsets,
                                    const int32_t *slot, const float *dy, float *gradRows) {
  const int64_t work = (int64_t)(offsets[nBags] - offsets[0]) * dim;
  const int nt = column_threads(work / (dim > 0 ? dim : 1), dim);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t c0, c1;
    st_share(dim, 16, &c0, &c1);
    for (int64_t b = 0; b < nBags; b++) {
      const int32_t lo = offsets[b], hi = offsets[b + 1];
      if (hi <= lo) continue;
      const float inv = 1.0f / (float)(hi - lo);
      const float *g = dy + b * dim;
      for (int32_t k = lo; k < hi; k++) {
        float *d = gradRows + (int64_t)slot[k] * dim;
        for (int64_t j = c0; j < c1; j++) d[j] += g[j] * inv;
      }
    }
  }
}

void st_dequant_gather(int64_t n, int64_t dim, int bits, const uint32_t *q, const float *scaleBias,
                       const int32_t *ids, float *out) {
  const int64_t words = dim * bits / 32;
  const int nt = st_threads_for(n * dim);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const int64_t id = ids[i];
    const uint8_t *row = (const uint8_t *)(q + id * words);
    const float s = scaleBias[2 * id], b = scaleBias[2 * id + 1];
    float *o = out + i * dim;
    if (bits == 8) {
      for (int64_t j = 0; j < dim; j++) o[j] = s * (float)row[j] + b;
    } else {
      for (int64_t j = 0; j < dim; j += 2) {
        const uint8_t v = row[j >> 1];
        o[j] = s * (float)(v & 15) + b;
        o[j + 1] = s * (float)(v >> 4) + b;
      }
    }
  }
}

/* One bag of st_quant_bag_mean: o = mean over ids[lo..hi) of s_id * code(id, :) + b_id. Each
 * value is dequantised as the old gather did and added at once (summing s * code and the b's
 * apart would be one add less, but the all-positive s * code sums grow with the bag and cancel
 * against the b's: ~1e-4 off on a 9,000-id bag). int4 sums the low and the high nibbles into two
 * halves of `acc` (dim floats), each a plain byte -> float loop the compiler vectorises, and
 * interleaves them once at the end; without acc (no memory) it sums interleaved. */
ST_HOT static void quant_bag(int bits, int64_t dim, const uint8_t *restrict q, int64_t rowBytes,
                             const float *restrict sb, const int32_t *restrict ids, int32_t lo, int32_t hi,
                             int32_t end, float *restrict o, float *restrict acc) {
  const int64_t half = dim / 2;
  float *restrict even = acc, *restrict odd = acc ? acc + half : NULL;
  float *restrict a = bits == 8 || !acc ? o : acc;
  for (int64_t j = 0; j < dim; j++) a[j] = 0.0f;
  for (int32_t k = lo; k < hi; k++) {
    if (k + BAG_PREFETCH < end) {
      const int64_t ahead = ids[k + BAG_PREFETCH];
      const char *p = (const char *)(q + ahead * rowBytes);
      for (int64_t j = 0; j < rowBytes; j += 64) __builtin_prefetch(p + j, 0, 0);
      __builtin_prefetch(sb + 2 * ahead, 0, 0);
    }
    const int64_t id = ids[k];
    const uint8_t *restrict row = q + id * rowBytes;
    const float s = sb[2 * id], c = sb[2 * id + 1];
    if (bits == 8) {
      for (int64_t j = 0; j < dim; j++) o[j] += s * (float)row[j] + c;
    } else if (acc) {
      for (int64_t j = 0; j < half; j++) {
        even[j] += s * (float)(row[j] & 15) + c;
        odd[j] += s * (float)(row[j] >> 4) + c;
      }
    } else {
      for (int64_t j = 0; j < half; j++) {
        o[2 * j] += s * (float)(row[j] & 15) + c;
        o[2 * j + 1] += s * (float)(row[j] >> 4) + c;
      }
    }
  }
  const float inv = hi > lo ? 1.0f / (float)(hi - lo) : 0.0f;
  if (bits == 4 && acc) {
    for (int64_t j = 0; j < half; j++) {
      o[2 * j] = even[j] * inv;
      o[2 * j + 1] = odd[j] * inv;
    }
  } else {
    for (int64_t j = 0; j < dim; j++) o[j] *= inv;
  }
}

void st_quant_bag_mean(int bits, int64_t nBags, int64_t dim, const uint32_t *q, const float *scaleBias,
                       const int32_t *ids, const int32_t *offsets, float *out) {
  const int64_t work = (int64_t)(offsets[nBags] - offsets[0]) * dim + nBags * dim;
  const int nt = st_threads_for(work);
  const int32_t end = offsets[nBags];
  const int64_t rowBytes = dim * bits / 8;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    float *acc = bits == 4 && dim > 0 ? malloc((size_t)dim * sizeof(float)) : NULL;
#pragma omp for schedule(dynamic, 16)
    for (int64_t b = 0; b < nBags; b++)
      quant_bag(bits, dim, (const uint8_t *)q, rowBytes, scaleBias, ids, offsets[b], offsets[b + 1], end,
                out + b * dim, acc);
    free(acc);
  }
}
