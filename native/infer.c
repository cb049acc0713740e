/*
 * Inference-only kernels: the fused steps of a BERT forward pass with no tape (src/models/bert/
 * fastForward.ts) and int8 dynamic quantisation of its linear layers. Semantics are specified in
 * src/engine/backend.ts (InferKernels); the wasm backend composes the same results from its
 * generic kernels.
 *
 * Tokens are packed: a batch is sum(lengths) rows with no padding, and attention runs per
 * sequence over its real length, so no work is spent on pad tokens and no mask is needed.
 *
 * int8 GEMM: weights s8 per output channel (scale max|w|/127), activations u8 per row on the fly
 * (x * 127/max|x| rounded to nearest even, + 128), int32 accumulation with the column sums
 * compensating the +128 offset: y = (acc - 128 * colsum) * sa * sw + bias. Weights are packed
 * once into panels of 32 output channels x 4 consecutive k's per int32, the layout vpdpbusd reads.
 * The microkernel is picked at run time: AVX-512 VNNI (vpdpbusd), else AVX2 (vpmaddwd on the
 * bytes widened to 16 bits), else plain C; all three give bit-identical int32 sums.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "kernels.h"
#include "fastmath.h"
#include "parallel.h"
#include "simd.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define ST_HAVE_VNNI_BUILD 1
#endif

/* ------------------------------------------------------------ row kernels */

/* x = gelu(x + bias) over one row (bias may be NULL). */
ST_HOT static void bias_gelu_row(int64_t n, const float *bias, float *x) {
  if (bias)
    for (int64_t j = 0; j < n; j++) {
      const float v = x[j] + bias[j];
      x[j] = v * st_phi(v, 0);
    }
  else
    for (int64_t j = 0; j < n; j++) x[j] = x[j] * st_phi(x[j], 0);
}

void st_bias_gelu(int64_t rows, int64_t cols, const float *bias, float *x) {
  const int nt = st_threads_for(rows * cols * 16);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t r = 0; r < rows; r++) bias_gelu_row(cols, bias, x + r * cols);
}

ST_HOT static void add_bias_row(int64_t n, const float *bias, float *x) {
  for (int64_t j = 0; j < n; j++) x[j] += bias[j];
}

void st_add_bias(int64_t rows, int64_t cols, const float *bias, float *x) {
  const int nt = st_threads_for(rows * cols);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t r = 0; r < rows; r++) add_bias_row(cols, bias, x + r * cols);
}

/* out = LN(out) given s = the sum of out's row: the steps (and summation order) of layer_norm_row. */
static inline void ln_finish(int64_t n, float s, const float *gamma, const float *beta, float eps, float *out) {
  const float mu = s / (float)n;
  float v = 0.0f;
#pragma omp simd reduction(+ : v)
  for (int64_t j = 0; j < n; j++) v += (out[j] - mu) * (out[j] - mu);
  const float rs = 1.0f / sqrtf(v / (float)n + eps);
  for (int64_t j = 0; j < n; j++) out[j] = (out[j] - mu) * rs * gamma[j] + beta[j];
}

/* out = LN(x + bias + res) for one row; out may alias x or res. Sums as layer_norm_row does. */
ST_HOT static void residual_ln_row(int64_t n, const float *x, const float *bias, const float *res, const float *gamma,
                                   const float *beta, float eps, float *out) {
  float s = 0.0f;
  if (bias) {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++) {
      const float v = (x[j] + bias[j]) + res[j];
      out[j] = v;
      s += v;
    }
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++) {
      const float v = x[j] + res[j];
      out[j] = v;
      s += v;
    }
  }
  ln_finish(n, s, gamma, beta, eps, out);
}

void st_residual_layer_norm(int64_t rows, int64_t cols, const float *x, const float *bias, const float *res,
                            const float *gamma, const float *beta, float eps, float *out) {
  const int nt = st_threads_for(rows * cols * 6);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t r = 0; r < rows; r++)
    residual_ln_row(cols, x + r * cols, bias, res + r * cols, gamma, beta, eps, out + r * cols);
}

/* out = LN(word[ids] + pos[posIds] + type[typeIds]) per token (ids checked by the binding). */
ST_HOT static void embed_ln_row(int64_t n, const float *w, const float *p, const float *t, const float *gamma,
                                const float *beta, float eps, float *out) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) {
    const float v = (w[j] + p[j]) + t[j];
    out[j] = v;
    s += v;
  }
  ln_finish(n, s, gamma, beta, eps, out);
}

void st_embed_layer_norm(int64_t n, int64_t dim, const float *word, const int32_t *ids, const float *pos,
                         const int32_t *posIds, const float *type, const int32_t *typeIds, const float *gamma,
                         const float *beta, float eps, float *out) {
  const int nt = st_threads_for(n * dim * 6);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t i = 0; i < n; i++)
    embed_ln_row(dim, word + (int64_t)ids[i] * dim, pos + (int64_t)posIds[i] * dim, type + (int64_t)typeIds[i] * dim,
                 gamma, beta, eps, out + i * dim);
}

/* ------------------------------------------------------------ attention over packed sequences */

/* One (sequence, head): ctx = softmax(alpha Q K^T) V over the sequence's L rows. */
static void attend_one(int64_t L, int64_t d, float alpha, const float *q, const float *k, const float *v, int64_t ldqkv,
                       float *ctx, int64_t ldc, float *S) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)L, (int)L, (int)d, alpha, q, (int)ldqkv, k, (int)ldqkv, 0.0f,
              S, (int)L);
  st_softmax(L, L, S, S); /* in place; small enough to stay on this thread */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L, (int)d, (int)L, 1.0f, S, (int)L, v, (int)ldqkv, 0.0f,
              ctx, (int)ldc);
}

void st_attention_packed(int64_t nSeq, const int32_t *offsets, int64_t heads, int64_t d, const float *qkv,
                         float *ctx) {
  const int64_t H = heads * d, ld = 3 * H;
  const float alpha = 1.0f / sqrtf((float)d);
  int64_t maxL = 0, work = 0;
  for (int64_t s = 0; s < nSeq; s++) {
    const int64_t L = offsets[s + 1] - offsets[s];
    if (L > maxL) maxL = L;
    work += L * L * d * 2 * heads;
  }
  if (maxL == 0) return;
  const int64_t tasks = nSeq * heads;
  int nt = st_threads_for(work);
  if (nt > tasks) nt = (int)tasks;
  float *scratch = malloc(sizeof(float) * (size_t)(maxL * maxL) * (size_t)nt);
  if (!scratch) abort();
  if (nt > 1) st_blas_threads(1);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
  for (int64_t t = 0; t < tasks; t++) {
    const int64_t s = t / heads, h = t % heads;
    const int64_t r0 = offsets[s], L = offsets[s + 1] - r0;
    if (L == 0) continue;
    float *S = scratch + (size_t)omp_get_thread_num() * (size_t)(maxL * maxL);
    const float *q = qkv + r0 * ld + h * d;
    attend_one(L, d, alpha, q, q + H, q + 2 * H, ld, ctx + r0 * H + h * d, H, S);
  }
  if (nt > 1) st_blas_threads(st_threads());
  free(scratch);
}

/* ------------------------------------------------------------ int8 */

#define Q8_NR 32 /* output channels per packed panel */
#define Q8_MR 6  /* rows per microkernel tile */
#define Q8_MC 96 /* rows per block (their u8 rows stay in L2 while every panel passes) */

int64_t st_q8_packed_len(int64_t N, int64_t K) {
  const int64_t Np = (N + Q8_NR - 1) / Q8_NR * Q8_NR, K4 = (K + 3) / 4;
  return Np * K4;
}

static inline int8_t q8_weight(float w, float inv) {
  float q = nearbyintf(w * inv);
  q = q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q);
  return (int8_t)q;
}

/* Per-output-channel quantisation: codes (N, K) row-major int8 and scales (N), as st_q8_pack rounds. */
void st_q8_quantize(int64_t N, int64_t K, const float *w, int8_t *codes, float *scales) {
  for (int64_t n = 0; n < N; n++) {
    const float *row = w + n * K;
    float amax = 0.0f;
    for (int64_t k = 0; k < K; k++) amax = fabsf(row[k]) > amax ? fabsf(row[k]) : amax;
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    scales[n] = amax / 127.0f;
    for (int64_t k = 0; k < K; k++) codes[n * K + k] = q8_weight(row[k], inv);
  }
}

/* Lays int8 codes (N, K) out as st_q8_pack does (no rounding here: a saved int8 model loads as it was quantised). */
void st_q8_pack_codes(int64_t N, int64_t K, const int8_t *codes, int32_t *packed, int32_t *colsum) {
  const int64_t K4 = (K + 3) / 4, Np = (N + Q8_NR - 1) / Q8_NR * Q8_NR;
  memset(packed, 0, sizeof(int32_t) * (size_t)(Np * K4));
  for (int64_t n = 0; n < N; n++) {
    const int8_t *row = codes + n * K;
    int32_t cs = 0;
    for (int64_t k = 0; k < K; k++) cs += row[k];
    colsum[n] = cs;
    /* channel n's 4 k's of block k4 are one int32 of its panel: whole blocks copied, the tail left zero */
    int32_t *dst = packed + (n / Q8_NR) * Q8_NR * K4 + n % Q8_NR;
    const int64_t whole = K / 4;
    for (int64_t k4 = 0; k4 < whole; k4++) memcpy(dst + k4 * Q8_NR, row + 4 * k4, 4);
    if (whole < K4) memcpy(dst + whole * Q8_NR, row + 4 * whole, (size_t)(K - 4 * whole));
  }
}

void st_q8_pack(int64_t N, int64_t K, const float *w, int32_t *packed, float *scales, int32_t *colsum) {
  int8_t *codes = malloc((size_t)(N * K) + 1);
  if (!codes) abort();
  st_q8_quantize(N, K, w, codes, scales);
  st_q8_pack_codes(N, K, codes, packed, colsum);
  free(codes);
}

/* One row of x as u8 (row stride Kp; the pad bytes meet zero weights) and its scale. */
ST_HOT static void q8_quantize_row(int64_t K, int64_t Kp, const float *x, uint8_t *q, float *sa) {
  float amax = 0.0f;
#pragma omp simd reduction(max : amax)
  for (int64_t k = 0; k < K; k++) amax = fabsf(x[k]) > amax ? fabsf(x[k]) : amax;
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  *sa = amax / 127.0f;
  for (int64_t k = 0; k < K; k++) {
    float v = nearbyintf(x[k] * inv);
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    q[k] = (uint8_t)((int32_t)v + 128);
  }
  for (int64_t k = K; k < Kp; k++) q[k] = 128;
}

/* acc (Q8_MR x Q8_NR) for rows a[0..Q8_MR) against one panel: the portable kernel. */
ST_HOT static void q8_tile_c(int64_t K4, const uint8_t *const *a, const int32_t *panel, int32_t *acc) {
  for (int64_t i = 0; i < Q8_MR * Q8_NR; i++) acc[i] = 0;
  for (int64_t r = 0; r < Q8_MR; r++) {
    const uint8_t *ar = a[r];
    int32_t *cr = acc + r * Q8_NR;
    for (int64_t k4 = 0; k4 < K4; k4++) {
      const int8_t *b = (const int8_t *)(panel + k4 * Q8_NR);
      const uint8_t *x = ar + k4 * 4;
      for (int64_t j = 0; j < Q8_NR; j++)
        cr[j] += (int32_t)x[0] * b[j * 4] + (int32_t)x[1] * b[j * 4 + 1] + (int32_t)x[2] * b[j * 4 + 2] +
                 (int32_t)x[3] * b[j * 4 + 3];
    }
  }
}

#ifdef ST_HAVE_VNNI_BUILD
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) static void q8_tile_vnni(
    int64_t K4, const uint8_t *const *a, const int32_t *panel, int32_t *acc) {
  __m512i c00 = _mm512_setzero_si512(), c01 = _mm512_setzero_si512();
  __m512i c10 = _mm512_setzero_si512(), c11 = _mm512_setzero_si512();
  __m512i c20 = _mm512_setzero_si512(), c21 = _mm512_setzero_si512();
  __m512i c30 = _mm512_setzero_si512(), c31 = _mm512_setzero_si512();
  __m512i c40 = _mm512_setzero_si512(), c41 = _mm512_setzero_si512();
  __m512i c50 = _mm512_setzero_si512(), c51 = _mm512_setzero_si512();
  const uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  for (int64_t k4 = 0; k4 < K4; k4++) {
    const __m512i b0 = _mm512_loadu_si512((const void *)(panel + k4 * Q8_NR));
    const __m512i b1 = _mm512_loadu_si512((const void *)(panel + k4 * Q8_NR + 16));
    int32_t x;
    __m512i av;
#define ROW(ap, c0, c1)                  \
  memcpy(&x, ap + k4 * 4, 4);            \
  av = _mm512_set1_epi32(x);             \
  c0 = _mm512_dpbusd_epi32(c0, av, b0);  \
  c1 = _mm512_dpbusd_epi32(c1, av, b1);
    ROW(a0, c00, c01)
    ROW(a1, c10, c11)
    ROW(a2, c20, c21)
    ROW(a3, c30, c31)
    ROW(a4, c40, c41)
    ROW(a5, c50, c51)
#undef ROW
  }
  _mm512_storeu_si512((void *)(acc + 0 * Q8_NR), c00);
  _mm512_storeu_si512((void *)(acc + 0 * Q8_NR + 16), c01);
  _mm512_storeu_si512((void *)(acc + 1 * Q8_NR), c10);
  _mm512_storeu_si512((void *)(acc + 1 * Q8_NR + 16), c11);
  _mm512_storeu_si512((void *)(acc + 2 * Q8_NR), c20);
  _mm512_storeu_si512((void *)(acc + 2 * Q8_NR + 16), c21);
  _mm512_storeu_si512((void *)(acc + 3 * Q8_NR), c30);
  _mm512_storeu_si512((void *)(acc + 3 * Q8_NR + 16), c31);
  _mm512_storeu_si512((void *)(acc + 4 * Q8_NR), c40);
  _mm512_storeu_si512((void *)(acc + 4 * Q8_NR + 16), c41);
  _mm512_storeu_si512((void *)(acc + 5 * Q8_NR), c50);
  _mm512_storeu_si512((void *)(acc + 5 * Q8_NR + 16), c51);
}
#endif

#ifdef ST_HAVE_VNNI_BUILD
/* AVX2: no u8 x s8 dot product without saturation (vpmaddubsw saturates at 16 bits), so each int32
 * of 4 bytes is split into its even and odd bytes widened to int16, and two vpmaddwd sum the four
 * products exactly: (a0 w0 + a2 w2) + (a1 w1 + a3 w3). 3 rows x 16 channels per pass. */
__attribute__((target("avx2"))) static void q8_tile_avx2(int64_t K4, const uint8_t *const *a, const int32_t *panel,
                                                           int32_t *acc) {
  const __m256i lo = _mm256_set1_epi16(0x00FF);
  for (int half = 0; half < 2; half++)
    for (int r0 = 0; r0 < Q8_MR; r0 += 3) {
      __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
      __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
      __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
      const uint8_t *a0 = a[r0], *a1 = a[r0 + 1], *a2 = a[r0 + 2];
      for (int64_t k4 = 0; k4 < K4; k4++) {
        const int32_t *b = panel + k4 * Q8_NR + half * 16;
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)b), w1 = _mm256_loadu_si256((const __m256i *)(b + 8));
        const __m256i w0e = _mm256_srai_epi16(_mm256_slli_epi16(w0, 8), 8), w0o = _mm256_srai_epi16(w0, 8);
        const __m256i w1e = _mm256_srai_epi16(_mm256_slli_epi16(w1, 8), 8), w1o = _mm256_srai_epi16(w1, 8);
        int32_t x;
        __m256i av, ae, ao;
#define AROW(ap, c0, c1)                                                                          \
  memcpy(&x, ap + k4 * 4, 4);                                                                     \
  av = _mm256_set1_epi32(x);                                                                      \
  ae = _mm256_and_si256(av, lo);                                                                  \
  ao = _mm256_srli_epi16(av, 8);                                                                  \
  c0 = _mm256_add_epi32(c0, _mm256_add_epi32(_mm256_madd_epi16(ae, w0e), _mm256_madd_epi16(ao, w0o))); \
  c1 = _mm256_add_epi32(c1, _mm256_add_epi32(_mm256_madd_epi16(ae, w1e), _mm256_madd_epi16(ao, w1o)));
        AROW(a0, c00, c01)
        AROW(a1, c10, c11)
        AROW(a2, c20, c21)
#undef AROW
      }
      int32_t *o = acc + r0 * Q8_NR + half * 16;
      _mm256_storeu_si256((__m256i *)o, c00);
      _mm256_storeu_si256((__m256i *)(o + 8), c01);
      _mm256_storeu_si256((__m256i *)(o + Q8_NR), c10);
      _mm256_storeu_si256((__m256i *)(o + Q8_NR + 8), c11);
      _mm256_storeu_si256((__m256i *)(o + 2 * Q8_NR), c20);
      _mm256_storeu_si256((__m256i *)(o + 2 * Q8_NR + 8), c21);
    }
}
#endif

typedef void (*Q8Tile)(int64_t, const uint8_t *const *, const int32_t *, int32_t *);

/* The best int8 microkernel this CPU runs; SLIMTEXT_NO_VNNI / SLIMTEXT_NO_AVX2 rule kernels out (tests). */
static Q8Tile q8_pick(void) {
#ifdef ST_HAVE_VNNI_BUILD
  __builtin_cpu_init();
  if (!getenv("SLIMTEXT_NO_VNNI") && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return q8_tile_vnni;
  if (!getenv("SLIMTEXT_NO_AVX2") && __builtin_cpu_supports("avx2")) return q8_tile_avx2;
#endif
  return q8_tile_c;
}

/* 2: AVX-512 VNNI, 1: AVX2, 0: portable. */
int st_q8_kernel(void) {
#ifdef ST_HAVE_VNNI_BUILD
  const Q8Tile t = q8_pick();
  return t == q8_tile_vnni ? 2 : t == q8_tile_avx2 ? 1 : 0;
#else
  return 0;
#endif
}

/* Rows [m0, m0+mr) x panel p: tile product, then dequantise into y. */
static void q8_block(Q8Tile tile, int64_t m0, int64_t mr, int64_t p, int64_t N, int64_t K4, const uint8_t *qa,
                     int64_t Kp, const float *sa, const int32_t *packed, const float *scales, const int32_t *colsum,
                     const float *bias, float *y) {
  const uint8_t *rows[Q8_MR];
  for (int64_t r = 0; r < Q8_MR; r++) rows[r] = qa + (m0 + (r < mr ? r : 0)) * Kp;
  int32_t acc[Q8_MR * Q8_NR] __attribute__((aligned(64)));
  tile(K4, rows, packed + p * Q8_NR * K4, acc);
  const int64_t n0 = p * Q8_NR, nw = N - n0 < Q8_NR ? N - n0 : Q8_NR;
  for (int64_t r = 0; r < mr; r++) {
    float *yr = y + (m0 + r) * N + n0;
    const float s = sa[m0 + r];
    for (int64_t j = 0; j < nw; j++) {
      const float f = (float)(acc[r * Q8_NR + j] - 128 * colsum[n0 + j]);
      yr[j] = f * s * scales[n0 + j] + (bias ? bias[n0 + j] : 0.0f);
    }
  }
}

void st_q8_gemm(int64_t M, int64_t N, int64_t K, const float *x, const int32_t *packed, const float *scales,
                const int32_t *colsum, const float *bias, float *y) {
  if (M == 0 || N == 0) return;
  static Q8Tile tile = 0;
  if (!tile) tile = q8_pick();
  const int64_t K4 = (K + 3) / 4, Kp = K4 * 4, panels = (N + Q8_NR - 1) / Q8_NR;
  uint8_t *qa = malloc((size_t)(M * Kp) + 64);
  float *sa = malloc(sizeof(float) * (size_t)M);
  if (!qa || !sa) abort();
  const int ntq = st_threads_for(M * K * 4);
#pragma omp parallel for num_threads(ntq) if (ntq > 1) schedule(static)
  for (int64_t m = 0; m < M; m++) q8_quantize_row(K, Kp, x + m * K, qa + m * Kp, sa + m);
  const int64_t chunks = (M + Q8_MC - 1) / Q8_MC;
  const int nt = st_threads_for(M * N * K / 8);
#pragma omp parallel for num_threads(nt) if (nt > 1) collapse(2) schedule(static)
  for (int64_t c = 0; c < chunks; c++)
    for (int64_t p = 0; p < panels; p++) {
      const int64_t mEnd = (c + 1) * Q8_MC < M ? (c + 1) * Q8_MC : M;
      for (int64_t m0 = c * Q8_MC; m0 < mEnd; m0 += Q8_MR) {
        const int64_t mr = mEnd - m0 < Q8_MR ? mEnd - m0 : Q8_MR;
        q8_block(tile, m0, mr, p, N, K4, qa, Kp, sa, packed, scales, colsum, bias, y);
      }
    }
  free(qa);
  free(sa);
}

/* ------------------------------------------------------------ fp32 with packed weights */
/*
 * y = x W^T (+ bias) for few rows (single texts, small batches), where OpenBLAS spends much of a
 * call re-packing W: here W is packed once at load into panels of 32 output channels, k-major (a
 * panel is a K x 32 row-major block), and a 8 x 32 AVX-512 microkernel runs over K in blocks of
 * F32_KC so the panel block stays in L1 while the rows of a chunk pass over it.
 */
#define F32_NR 32
#define F32_MR 8
#define F32_KC 256
#define F32_MC 64

int64_t st_f32_packed_len(int64_t N, int64_t K) { return (N + F32_NR - 1) / F32_NR * F32_NR * K; }

void st_f32_pack(int64_t N, int64_t K, const float *w, float *packed) {
  const int64_t Np = (N + F32_NR - 1) / F32_NR * F32_NR;
  memset(packed, 0, sizeof(float) * (size_t)(Np * K));
  for (int64_t n = 0; n < N; n++) {
    float *panel = packed + (n / F32_NR) * F32_NR * K + n % F32_NR;
    for (int64_t k = 0; k < K; k++) panel[k * F32_NR] = w[n * K + k];
  }
}

/* acc[r][0..32) (+)= sum_{k<kc} a[r][k] * b[k][0..32); first: start from init (bias or 0). */
typedef void (*F32Tile)(int64_t kc, const float *const *a, const float *b, float *acc, int first, const float *init);

ST_HOT static void f32_tile_c(int64_t kc, const float *const *a, const float *b, float *acc, int first,
                              const float *init) {
  for (int64_t r = 0; r < F32_MR; r++) {
    float *c = acc + r * F32_NR;
    if (first)
      for (int64_t j = 0; j < F32_NR; j++) c[j] = init ? init[j] : 0.0f;
    for (int64_t k = 0; k < kc; k++) {
      const float av = a[r][k];
      for (int64_t j = 0; j < F32_NR; j++) c[j] += av * b[k * F32_NR + j];
    }
  }
}

#ifdef ST_HAVE_VNNI_BUILD
__attribute__((target("avx512f"))) static void f32_tile_avx512(int64_t kc, const float *const *a, const float *b,
                                                                float *acc, int first, const float *init) {
  __m512 c[F32_MR][2];
  for (int r = 0; r < F32_MR; r++) {
    if (first) {
      c[r][0] = init ? _mm512_loadu_ps(init) : _mm512_setzero_ps();
      c[r][1] = init ? _mm512_loadu_ps(init + 16) : _mm512_setzero_ps();
    } else {
      c[r][0] = _mm512_loadu_ps(acc + r * F32_NR);
      c[r][1] = _mm512_loadu_ps(acc + r * F32_NR + 16);
    }
  }
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5], *a6 = a[6], *a7 = a[7];
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(b + k * F32_NR), b1 = _mm512_loadu_ps(b + k * F32_NR + 16);
    __m512 av;
#define FROW(ap, r)                                 \
  av = _mm512_set1_ps(ap[k]);                       \
  c[r][0] = _mm512_fmadd_ps(av, b0, c[r][0]);       \
  c[r][1] = _mm512_fmadd_ps(av, b1, c[r][1]);
    FROW(a0, 0) FROW(a1, 1) FROW(a2, 2) FROW(a3, 3) FROW(a4, 4) FROW(a5, 5) FROW(a6, 6) FROW(a7, 7)
#undef FROW
  }
  for (int r = 0; r < F32_MR; r++) {
    _mm512_storeu_ps(acc + r * F32_NR, c[r][0]);
    _mm512_storeu_ps(acc + r * F32_NR + 16, c[r][1]);
  }
}
#endif

static F32Tile f32_pick(void) {
#ifdef ST_HAVE_VNNI_BUILD
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && !getenv("SLIMTEXT_NO_AVX512")) return f32_tile_avx512;
#endif
  return f32_tile_c;
}

/* One chunk of rows [m0, m1) x panel p over all of K, into y. */
static void f32_chunk_panel(F32Tile tile, int64_t m0, int64_t m1, int64_t p, int64_t N, int64_t K, const float *x,
                            const float *packed, const float *bias, float *y) {
  const int64_t n0 = p * F32_NR, nw = N - n0 < F32_NR ? N - n0 : F32_NR;
  float init[F32_NR];
  for (int64_t j = 0; j < F32_NR; j++) init[j] = bias && j < nw ? bias[n0 + j] : 0.0f;
  for (int64_t mt = m0; mt < m1; mt += F32_MR) {
    const int64_t mr = m1 - mt < F32_MR ? m1 - mt : F32_MR;
    float acc[F32_MR * F32_NR] __attribute__((aligned(64)));
    for (int64_t k0 = 0; k0 < K; k0 += F32_KC) {
      const int64_t kc = K - k0 < F32_KC ? K - k0 : F32_KC;
      const float *rows[F32_MR];
      for (int64_t r = 0; r < F32_MR; r++) rows[r] = x + (mt + (r < mr ? r : 0)) * K + k0;
      tile(kc, rows, packed + p * F32_NR * K + k0 * F32_NR, acc, k0 == 0, init);
    }
    for (int64_t r = 0; r < mr; r++) memcpy(y + (mt + r) * N + n0, acc + r * F32_NR, sizeof(float) * (size_t)nw);
  }
}

void st_f32_gemm_packed(int64_t M, int64_t N, int64_t K, const float *x, const float *packed, const float *bias,
                        float *y) {
  if (M == 0 || N == 0) return;
  static F32Tile tile = 0;
  if (!tile) tile = f32_pick();
  const int64_t panels = (N + F32_NR - 1) / F32_NR, chunks = (M + F32_MC - 1) / F32_MC;
  const int nt = st_threads_for(M * N * K / 4);
#pragma omp parallel for num_threads(nt) if (nt > 1) collapse(2) schedule(static)
  for (int64_t c = 0; c < chunks; c++)
    for (int64_t p = 0; p < panels; p++) {
      const int64_t m1 = (c + 1) * F32_MC < M ? (c + 1) * F32_MC : M;
      f32_chunk_panel(tile, c * F32_MC, m1, p, N, K, x, packed, bias, y);
    }
}
