/*
 * Batched sgemm over OpenBLAS. A big product runs as one cblas_sgemm on OpenBLAS's own threads;
 * a batch of small ones (attention: batch*heads products of 128x64x128) is split across OpenMP
 * threads with OpenBLAS held to one thread, since OpenBLAS does not parallelise small products
 * well and per-call threading overhead dominates them.
 */
#include <cblas.h>
#include "kernels.h"

/* A product of at most this many multiply-adds (M*N*K) counts as small. Measured on this 2-core
 * machine: 96 products of 128x128x64 run at 150 GFLOP/s split vs 18-61 with OpenBLAS threading
 * each one (63-83 on one thread); 8 of 256^3 at 149-158 split vs 17-87. Above 256^3 a single
 * product keeps both cores busy by itself (512^3: ~200 GFLOP/s). */
#define ST_GEMM_SPLIT_MAX_MACS (256LL * 256 * 256)

static void scale_c(int64_t M, int64_t N, float beta, float *c, int64_t ldc) {
  for (int64_t i = 0; i < M; i++) {
    float *row = c + i * ldc;
    if (beta == 0.0f) {
      for (int64_t j = 0; j < N; j++) row[j] = 0.0f;
    } else {
      for (int64_t j = 0; j < N; j++) row[j] *= beta;
    }
  }
}

static inline void one(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void st_gemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
             const float *a, int64_t lda, int64_t strideA,
             const float *b, int64_t ldb, int64_t strideB,
             float beta, float *c, int64_t ldc, int64_t strideC, int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  if (K == 0) {
    /* BLAS leaves C*beta here too, but some builds reject lda < 1 when K = 0. */
    for (int64_t bi = 0; bi < batch; bi++) scale_c(M, N, beta, c + bi * strideC, ldc);
    return;
  }
  CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans;
  CBLAS_TRANSPOSE tb = transB ? CblasTrans : CblasNoTrans;
  int nt = st_threads();
  int64_t macs = M * N * K;
  /* Splitting needs batches whose C blocks do not overlap (strideC 0 accumulates in order). */
  int disjoint = strideC >= (M - 1) * ldc + N;
  if (batch > 1 && nt > 1 && disjoint && macs <= ST_GEMM_SPLIT_MAX_MACS && st_threads_for(macs * batch) > 1) {
    st_blas_threads(1);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t bi = 0; bi < batch; bi++)
      one(ta, tb, M, N, K, alpha, a + bi * strideA, lda, b + bi * strideB, ldb, beta, c + bi * strideC, ldc);
    st_blas_threads(nt);
    return;
  }
  for (int64_t bi = 0; bi < batch; bi++)
    one(ta, tb, M, N, K, alpha, a + bi * strideA, lda, b + bi * strideB, ldb, beta, c + bi * strideC, ldc);
}
