/*
 * slimtext native kernels: plain C over raw pointers, no N-API. binding.c validates every
 * argument (types, sizes, array lengths, ids) before calling these, so kernels trust their inputs.
 * Semantics are those of src/engine/backend.ts; the comments there are the specification.
 */
#ifndef SLIMTEXT_KERNELS_H
#define SLIMTEXT_KERNELS_H

#include <stdint.h>

#define ST_MAX_DIMS 6

enum { ST_ADD = 0, ST_SUB = 1, ST_MUL = 2, ST_DIV = 3 };
enum {
  ST_RELU = 0, ST_TANH = 1, ST_GELU = 2, ST_EXP = 3, ST_LOG = 4,
  ST_NEG = 5, ST_SQRT = 6, ST_SQUARE = 7, ST_SIGMOID = 8, ST_ABS = 9
};

/* ------------------------------------------------------------ threads (threads.c) */
void st_threads_init(void);
int st_threads(void);
void st_set_threads(int n);
/* Threads worth using for `work` element-operations: 1 below a size where the fork/join costs
 * more than it saves, else st_threads(). */
int st_threads_for(int64_t work);
/* OpenBLAS's own thread count; gemm drops it to 1 while it splits a batch across OpenMP threads. */
void st_blas_threads(int n);

/* ------------------------------------------------------------ gemm.c */
void st_gemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
             const float *a, int64_t lda, int64_t strideA,
             const float *b, int64_t ldb, int64_t strideB,
             float beta, float *c, int64_t ldc, int64_t strideC, int64_t batch);

/* ------------------------------------------------------------ elementwise.c */
void st_binary(int op, int nd, const int64_t *shape, const float *a, const int64_t *as,
               const float *b, const int64_t *bs, float *out, int accumulate);
void st_copy_strided(int nd, const int64_t *shape, const float *src, const int64_t *ss,
                     float *dst, const int64_t *ds, float alpha, int accumulate);
void st_unary(int op, int64_t n, const float *x, float *y);
void st_unary_backward(int op, int64_t n, const float *x, const float *y, const float *dy, float *dx);
void st_axpby(int64_t n, float alpha, const float *x, float beta, float *y);
void st_fill(int64_t n, float value, float *x);

/* ------------------------------------------------------------ reduce.c */
double st_sum(int64_t n, const float *x);
double st_dot(int64_t n, const float *x, const float *y);
double st_sum_squares(int64_t n, const float *x);
int st_all_finite(int64_t n, const float *x);

/* ------------------------------------------------------------ rowwise.c */
void st_softmax(int64_t rows, int64_t cols, const float *x, float *y);
void st_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx);
void st_log_softmax(int64_t rows, int64_t cols, const float *x, float *y);
void st_log_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx);
void st_layer_norm(int64_t rows, int64_t cols, const float *x, const float *gamma, const float *beta,
                   float eps, float *y, float *mean, float *rstd);
void st_layer_norm_backward(int64_t rows, int64_t cols, const float *x, const float *gamma,
                            const float *mean, const float *rstd, const float *dy,
                            float *dx, float *dgamma, float *dbeta);

/* ------------------------------------------------------------ embedding.c */
void st_gather(int64_t n, int64_t dim, const float *table, const int32_t *ids, float *out);
void st_index_add(int64_t n, int64_t dim, const float *src, const int32_t *idx, float alpha, float *dst);
void st_embedding_bag_mean(int64_t nBags, int64_t dim, const float *table, const int32_t *ids,
                           const int32_t *offsets, float *out);
/* out[i, c] = scaleBias[2 id] * code(id, c) + scaleBias[2 id + 1], id = ids[i]: row-wise int8 / int4
 * codes, unsigned, rows of dim*bits/32 words (int4: low nibble first). */
void st_dequant_gather(int64_t n, int64_t dim, int bits, const uint32_t *q, const float *scaleBias,
                       const int32_t *ids, float *out);
void st_embedding_bag_mean_backward(int64_t nBags, int64_t dim, const int32_t *offsets,
                                    const int32_t *slot, const float *dy, float *gradRows);
/* out[b] = mean over ids[offsets[b] .. offsets[b+1]) of the dequantised rows (codes as
 * st_dequant_gather reads them), without writing the rows out. No backward: the codes and scales
 * are frozen (a model holding such a table trains its other parameters only). */
void st_quant_bag_mean(int bits, int64_t nBags, int64_t dim, const uint32_t *q, const float *scaleBias,
                       const int32_t *ids, const int32_t *offsets, float *out);

/* ------------------------------------------------------------ codes.c */
/* Bag means straight from PQ (kind 0) / additive (kind 1) codes, one byte a code; rowScale may be
 * NULL (1 for every row) or a per-row factor (quantised norms). */
void st_codes_bag_mean(int kind, int64_t nBags, int64_t dim, int64_t M, int64_t K, const uint8_t *codes,
                       const float *books, const float *rowScale, const int32_t *ids, const int32_t *offsets,
                       float *out);
void st_codes_bag_mean_backward(int kind, int64_t nBags, int64_t dim, int64_t M, int64_t K, const uint8_t *codes,
                                const float *rowScale, const int32_t *ids, const int32_t *offsets, const float *dy,
                                float *grad);
void st_nearest_centroids(int64_t n, int64_t d, int64_t K, const float *x, const float *c, int32_t *out);

/* ------------------------------------------------------------ random.c */
void st_dropout(int64_t n, double p, uint32_t seed, const float *x, float *y, float *mask);

/* ------------------------------------------------------------ optim.c */
void st_adam(int64_t n, float *p, const float *g, float *m, float *v,
             double lr, double b1, double b2, double eps, double wd, double t);
void st_adam_rows(int64_t nRows, int64_t dim, const int32_t *rowIds, const float *gradRows,
                  float *p, float *m, float *v,
                  double lr, double b1, double b2, double eps, double wd, double t);


/* ------------------------------------------------------------ infer.c (inference only) */
void st_bias_gelu(int64_t rows, int64_t cols, const float *bias, float *x);
void st_add_bias(int64_t rows, int64_t cols, const float *bias, float *x);
void st_residual_layer_norm(int64_t rows, int64_t cols, const float *x, const float *bias, const float *res,
                            const float *gamma, const float *beta, float eps, float *out);
void st_embed_layer_norm(int64_t n, int64_t dim, const float *word, const int32_t *ids, const float *pos,
                         const int32_t *posIds, const float *type, const int32_t *typeIds, const float *gamma,
                         const float *beta, float eps, float *out);
void st_attention_packed(int64_t nSeq, const int32_t *offsets, int64_t heads, int64_t d, const float *qkv,
                         float *ctx);
int64_t st_q8_packed_len(int64_t N, int64_t K);
void st_q8_pack(int64_t N, int64_t K, const float *w, int32_t *packed, float *scales, int32_t *colsum);
void st_q8_quantize(int64_t N, int64_t K, const float *w, int8_t *codes, float *scales);
void st_q8_pack_codes(int64_t N, int64_t K, const int8_t *codes, int32_t *packed, int32_t *colsum);
void st_q8_gemm(int64_t M, int64_t N, int64_t K, const float *x, const int32_t *packed, const float *scales,
                const int32_t *colsum, const float *bias, float *y);
int64_t st_f32_packed_len(int64_t N, int64_t K);
void st_f32_pack(int64_t N, int64_t K, const float *w, float *packed);
void st_f32_gemm_packed(int64_t M, int64_t N, int64_t K, const float *x, const float *packed, const float *bias,
                        float *y);
/* The microkernel st_q8_gemm runs: 2 AVX-512 VNNI, 1 AVX2, 0 portable. */
int st_q8_kernel(void);

#endif
