/*
 * The N-API surface of the native backend: one function per kernel of src/engine/backend.ts,
 * same names and argument order. Each reads and checks its arguments (args.h) and then calls the
 * plain-C kernel (kernels.h). Plain C against node_api.h: the surface is flat functions over typed
 * arrays, which a C++ wrapper would not make shorter.
 */
#include <pthread.h>
#include <stdio.h>
#include "args.h"
#include "kernels.h"

#define SIZE_MAX_JS 9007199254740991LL /* 2^53 - 1: any JS integer */
#define SIZE_MAX_I32 2147483647LL      /* what BLAS (32-bit ints) and Int32Array ids can address */
#define MAX_THREADS 1024

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

#define ARGS(kernel, n)                                  \
  StArgs a;                                              \
  if (!st_args_init(&a, env, info, kernel, n)) return NULL

/* ------------------------------------------------------------ threads */

static napi_value threads(napi_env env, napi_callback_info info) {
  (void)info;
  return num(env, st_threads());
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  ARGS("setThreads", 1);
  const int64_t n = st_arg_size(&a, 0, "n", MAX_THREADS);
  if (!a.failed && n < 1) st_fail(&a, 'R', "n must be at least 1, got 0");
  if (a.failed) return NULL;
  st_set_threads((int)n);
  return NULL;
}

/* ------------------------------------------------------------ gemm */

/* Elements a batch of `rows` x `cols` matrices with row stride ld and batch stride needs. */
static int64_t matrix_need(int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld) {
  if (batch == 0 || rows == 0 || cols == 0) return 0;
  return st_add(st_add(st_mul(batch - 1, stride), st_mul(rows - 1, ld)), cols);
}

static void check_matrix(StArgs *a, const char *name, int64_t len, int trans, int64_t rows, int64_t cols,
                         int64_t ld, int64_t stride, int64_t batch) {
  if (a->failed) return;
  /* rows/cols are of op(X); stored, a transposed matrix has them swapped. */
  const int64_t sr = trans ? cols : rows, sc = trans ? rows : cols;
  char what[200];
  snprintf(what, sizeof what, "%s (%lld x %lld stored%s, ld %lld, stride %lld, batch %lld)", name, (long long)sr,
           (long long)sc, trans ? ", transposed" : "", (long long)ld, (long long)stride, (long long)batch);
  if (ld < (sc > 1 ? sc : 1)) {
    st_fail(a, 'R', "ld of %s is %lld, must be >= %lld", name, (long long)ld, (long long)(sc > 1 ? sc : 1));
    return;
  }
  st_need(a, what, len, matrix_need(batch, stride, sr, sc, ld));
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  ARGS("gemm", 17);
  const int tA = st_arg_flag(&a, 0, "transA"), tB = st_arg_flag(&a, 1, "transB");
  const int64_t M = st_arg_size(&a, 2, "M", SIZE_MAX_I32);
  const int64_t N = st_arg_size(&a, 3, "N", SIZE_MAX_I32);
  const int64_t K = st_arg_size(&a, 4, "K", SIZE_MAX_I32);
  const double alpha = st_arg_num(&a, 5, "alpha");
  int64_t la, lb, lc;
  const float *A = st_arg_f32(&a, 6, "a", &la, 0);
  const int64_t lda = st_arg_size(&a, 7, "lda", SIZE_MAX_I32);
  const int64_t sA = st_arg_size(&a, 8, "strideA", SIZE_MAX_JS);
  const float *B = st_arg_f32(&a, 9, "b", &lb, 0);
  const int64_t ldb = st_arg_size(&a, 10, "ldb", SIZE_MAX_I32);
  const int64_t sB = st_arg_size(&a, 11, "strideB", SIZE_MAX_JS);
  const double beta = st_arg_num(&a, 12, "beta");
  float *C = st_arg_f32(&a, 13, "c", &lc, 0);
  const int64_t ldc = st_arg_size(&a, 14, "ldc", SIZE_MAX_I32);
  const int64_t sC = st_arg_size(&a, 15, "strideC", SIZE_MAX_JS);
  const int64_t batch = st_arg_size(&a, 16, "batch", SIZE_MAX_JS);
  if (M > 0 && N > 0 && K > 0) {
    check_matrix(&a, "a", la, tA, M, K, lda, sA, batch);
    check_matrix(&a, "b", lb, tB, K, N, ldb, sB, batch);
  }
  if (M > 0 && N > 0) check_matrix(&a, "c", lc, 0, M, N, ldc, sC, batch);
  if (a.failed) return NULL;
  st_gemm(tA, tB, M, N, K, (float)alpha, A, lda, sA, B, ldb, sB, (float)beta, C, ldc, sC, batch);
  return NULL;
}

/* ------------------------------------------------------------ element-wise */

/* Reads shape (its length is the number of dimensions) and returns the element count. */
static int64_t read_shape(StArgs *a, size_t i, int64_t *shape, int *nd) {
  int64_t len;
  st_arg_i32(a, i, "shape", &len);
  if (a->failed) return 0;
  *nd = (int)(len > ST_MAX_DIMS ? ST_MAX_DIMS + 1 : len);
  st_arg_dims(a, i, "shape", *nd, shape, 1);
  int64_t total = 1;
  for (int d = 0; d < *nd && !a->failed; d++) total = st_mul(total, shape[d]);
  return total;
}

static napi_value binary(napi_env env, napi_callback_info info) {
  ARGS("binary", 8);
  int64_t shape[ST_MAX_DIMS], as[ST_MAX_DIMS], bs[ST_MAX_DIMS], la, lb, lo;
  int nd = 0;
  const int op = st_arg_enum(&a, 0, "op", ST_DIV);
  const int64_t total = read_shape(&a, 1, shape, &nd);
  const float *A = st_arg_f32(&a, 2, "a", &la, 0);
  st_arg_dims(&a, 3, "aStrides", nd, as, 0);
  const float *B = st_arg_f32(&a, 4, "b", &lb, 0);
  st_arg_dims(&a, 5, "bStrides", nd, bs, 0);
  float *O = st_arg_f32(&a, 6, "out", &lo, 0);
  const int acc = st_arg_flag(&a, 7, "accumulate");
  st_need(&a, "a", la, st_strided_need(&a, "a", nd, shape, as));
  st_need(&a, "b", lb, st_strided_need(&a, "b", nd, shape, bs));
  st_need(&a, "out", lo, total);
  if (a.failed) return NULL;
  st_binary(op, nd, shape, A, as, B, bs, O, acc);
  return NULL;
}

static napi_value copy_strided(napi_env env, napi_callback_info info) {
  ARGS("copyStrided", 7);
  int64_t shape[ST_MAX_DIMS], ss[ST_MAX_DIMS], ds[ST_MAX_DIMS], ls, ld;
  int nd = 0;
  read_shape(&a, 0, shape, &nd);
  const float *S = st_arg_f32(&a, 1, "src", &ls, 0);
  st_arg_dims(&a, 2, "srcStrides", nd, ss, 0);
  float *D = st_arg_f32(&a, 3, "dst", &ld, 0);
  st_arg_dims(&a, 4, "dstStrides", nd, ds, 0);
  const double alpha = st_arg_num(&a, 5, "alpha");
  const int acc = st_arg_flag(&a, 6, "accumulate");
  st_need(&a, "src", ls, st_strided_need(&a, "src", nd, shape, ss));
  st_need(&a, "dst", ld, st_strided_need(&a, "dst", nd, shape, ds));
  if (a.failed) return NULL;
  st_copy_strided(nd, shape, S, ss, D, ds, (float)alpha, acc);
  return NULL;
}

static napi_value unary(napi_env env, napi_callback_info info) {
  ARGS("unary", 4);
  int64_t lx, ly;
  const int op = st_arg_enum(&a, 0, "op", ST_ABS);
  const int64_t n = st_arg_size(&a, 1, "n", SIZE_MAX_JS);
  const float *x = st_arg_f32(&a, 2, "x", &lx, 0);
  float *y = st_arg_f32(&a, 3, "y", &ly, 0);
  st_need(&a, "x", lx, n);
  st_need(&a, "y", ly, n);
  if (a.failed) return NULL;
  st_unary(op, n, x, y);
  return NULL;
}

static napi_value unary_backward(napi_env env, napi_callback_info info) {
  ARGS("unaryBackward", 6);
  int64_t lx, ly, lg, ld;
  const int op = st_arg_enum(&a, 0, "op", ST_ABS);
  const int64_t n = st_arg_size(&a, 1, "n", SIZE_MAX_JS);
  const float *x = st_arg_f32(&a, 2, "x", &lx, 0);
  const float *y = st_arg_f32(&a, 3, "y", &ly, 0);
  const float *dy = st_arg_f32(&a, 4, "dy", &lg, 0);
  float *dx = st_arg_f32(&a, 5, "dx", &ld, 0);
  /* Only the input the derivative reads must be full-size (callers may pass a stub for the other). */
  const int uses_y = op == ST_TANH || op == ST_EXP || op == ST_SQRT || op == ST_SIGMOID;
  if (uses_y) st_need(&a, "y", ly, n);
  else if (op != ST_NEG) st_need(&a, "x", lx, n);
  st_need(&a, "dy", lg, n);
  st_need(&a, "dx", ld, n);
  if (a.failed) return NULL;
  st_unary_backward(op, n, x, y, dy, dx);
  return NULL;
}

static napi_value axpby(napi_env env, napi_callback_info info) {
  ARGS("axpby", 5);
  int64_t lx, ly;
  const int64_t n = st_arg_size(&a, 0, "n", SIZE_MAX_JS);
  const double alpha = st_arg_num(&a, 1, "alpha");
  const float *x = st_arg_f32(&a, 2, "x", &lx, 0);
  const double beta = st_arg_num(&a, 3, "beta");
  float *y = st_arg_f32(&a, 4, "y", &ly, 0);
  st_need(&a, "x", lx, n);
  st_need(&a, "y", ly, n);
  if (a.failed) return NULL;
  st_axpby(n, (float)alpha, x, (float)beta, y);
  return NULL;
}

static napi_value fill(napi_env env, napi_callback_info info) {
  ARGS("fill", 3);
  int64_t lx;
  const int64_t n = st_arg_size(&a, 0, "n", SIZE_MAX_JS);
  const double value = st_arg_num(&a, 1, "value");
  float *x = st_arg_f32(&a, 2, "x", &lx, 0);
  st_need(&a, "x", lx, n);
  if (a.failed) return NULL;
  st_fill(n, (float)value, x);
  return NULL;
}

/* ------------------------------------------------------------ reductions */

/* sum, sumSquares, allFinite: (n, x). */
static const float *read_n_x(StArgs *a, int64_t *n) {
  int64_t lx;
  *n = st_arg_size(a, 0, "n", SIZE_MAX_JS);
  const float *x = st_arg_f32(a, 1, "x", &lx, 0);
  st_need(a, "x", lx, *n);
  return x;
}

static napi_value sum(napi_env env, napi_callback_info info) {
  ARGS("sum", 2);
  int64_t n;
  const float *x = read_n_x(&a, &n);
  return a.failed ? NULL : num(env, st_sum(n, x));
}

static napi_value sum_squares(napi_env env, napi_callback_info info) {
  ARGS("sumSquares", 2);
  int64_t n;
  const float *x = read_n_x(&a, &n);
  return a.failed ? NULL : num(env, st_sum_squares(n, x));
}

static napi_value all_finite(napi_env env, napi_callback_info info) {
  ARGS("allFinite", 2);
  int64_t n;
  const float *x = read_n_x(&a, &n);
  if (a.failed) return NULL;
  napi_value r;
  napi_get_boolean(env, st_all_finite(n, x), &r);
  return r;
}

static napi_value dot(napi_env env, napi_callback_info info) {
  ARGS("dot", 3);
  int64_t n, ly;
  const float *x = read_n_x(&a, &n);
  const float *y = st_arg_f32(&a, 2, "y", &ly, 0);
  st_need(&a, "y", ly, n);
  return a.failed ? NULL : num(env, st_dot(n, x, y));
}

/* ------------------------------------------------------------ row-wise */

/* softmax, logSoftmax: (rows, cols, x, y); their backwards: (rows, cols, y, dy, dx). */
typedef void (*RowFwd)(int64_t, int64_t, const float *, float *);
typedef void (*RowBwd)(int64_t, int64_t, const float *, const float *, float *);

static napi_value row_forward(napi_env env, napi_callback_info info, const char *kernel, RowFwd f) {
  ARGS(kernel, 4);
  int64_t lx, ly;
  const int64_t rows = st_arg_size(&a, 0, "rows", SIZE_MAX_JS);
  const int64_t cols = st_arg_size(&a, 1, "cols", SIZE_MAX_JS);
  const float *x = st_arg_f32(&a, 2, "x", &lx, 0);
  float *y = st_arg_f32(&a, 3, "y", &ly, 0);
  st_need(&a, "x", lx, st_mul(rows, cols));
  st_need(&a, "y", ly, st_mul(rows, cols));
  if (a.failed) return NULL;
  if (cols > 0) f(rows, cols, x, y);
  return NULL;
}

static napi_value row_backward(napi_env env, napi_callback_info info, const char *kernel, RowBwd f) {
  ARGS(kernel, 5);
  int64_t ly, lg, ld;
  const int64_t rows = st_arg_size(&a, 0, "rows", SIZE_MAX_JS);
  const int64_t cols = st_arg_size(&a, 1, "cols", SIZE_MAX_JS);
  const float *y = st_arg_f32(&a, 2, "y", &ly, 0);
  const float *dy = st_arg_f32(&a, 3, "dy", &lg, 0);
  float *dx = st_arg_f32(&a, 4, "dx", &ld, 0);
  st_need(&a, "y", ly, st_mul(rows, cols));
  st_need(&a, "dy", lg, st_mul(rows, cols));
  st_need(&a, "dx", ld, st_mul(rows, cols));
  if (a.failed) return NULL;
  if (cols > 0) f(rows, cols, y, dy, dx);
  return NULL;
}

static napi_value softmax(napi_env env, napi_callback_info info) {
  return row_forward(env, info, "softmax", st_softmax);
}
static napi_value softmax_backward(napi_env env, napi_callback_info info) {
  return row_backward(env, info, "softmaxBackward", st_softmax_backward);
}
static napi_value log_softmax(napi_env env, napi_callback_info info) {
  return row_forward(env, info, "logSoftmax", st_log_softmax);
}
static napi_value log_softmax_backward(napi_env env, napi_callback_info info) {
  return row_backward(env, info, "logSoftmaxBackward", st_log_softmax_backward);
}

static napi_value layer_norm(napi_env env, napi_callback_info info) {
  ARGS("layerNorm", 9);
  int64_t lx, lgm, lbt, ly, lm, lr;
  const int64_t rows = st_arg_size(&a, 0, "rows", SIZE_MAX_JS);
  const int64_t cols = st_arg_size(&a, 1, "cols", SIZE_MAX_JS);
  const float *x = st_arg_f32(&a, 2, "x", &lx, 0);
  const float *gamma = st_arg_f32(&a, 3, "gamma", &lgm, 0);
  const float *beta = st_arg_f32(&a, 4, "beta", &lbt, 0);
  const double eps = st_arg_num(&a, 5, "eps");
  float *y = st_arg_f32(&a, 6, "y", &ly, 0);
  float *mean = st_arg_f32(&a, 7, "mean", &lm, 0);
  float *rstd = st_arg_f32(&a, 8, "rstd", &lr, 0);
  st_need(&a, "x", lx, st_mul(rows, cols));
  st_need(&a, "gamma", lgm, cols);
  st_need(&a, "beta", lbt, cols);
  st_need(&a, "y", ly, st_mul(rows, cols));
  st_need(&a, "mean", lm, rows);
  st_need(&a, "rstd", lr, rows);
  if (!a.failed && cols == 0 && rows > 0) st_fail(&a, 'R', "cols is 0 (a row must have at least one element)");
  if (a.failed) return NULL;
  st_layer_norm(rows, cols, x, gamma, beta, (float)eps, y, mean, rstd);
  return NULL;
}

static napi_value layer_norm_backward(napi_env env, napi_callback_info info) {
  ARGS("layerNormBackward", 10);
  int64_t lx, lgm, lm, lr, lg, ldx, ldg, ldb;
  const int64_t rows = st_arg_size(&a, 0, "rows", SIZE_MAX_JS);
  const int64_t cols = st_arg_size(&a, 1, "cols", SIZE_MAX_JS);
  const float *x = st_arg_f32(&a, 2, "x", &lx, 0);
  const float *gamma = st_arg_f32(&a, 3, "gamma", &lgm, 0);
  const float *mean = st_arg_f32(&a, 4, "mean", &lm, 0);
  const float *rstd = st_arg_f32(&a, 5, "rstd", &lr, 0);
  const float *dy = st_arg_f32(&a, 6, "dy", &lg, 0);
  float *dx = st_arg_f32(&a, 7, "dx", &ldx, 1);
  float *dgamma = st_arg_f32(&a, 8, "dgamma", &ldg, 1);
  float *dbeta = st_arg_f32(&a, 9, "dbeta", &ldb, 1);
  st_need(&a, "x", lx, st_mul(rows, cols));
  st_need(&a, "mean", lm, rows);
  st_need(&a, "rstd", lr, rows);
  st_need(&a, "dy", lg, st_mul(rows, cols));
  if (dx) {
    st_need(&a, "gamma", lgm, cols);
    st_need(&a, "dx", ldx, st_mul(rows, cols));
  }
  if (dgamma) st_need(&a, "dgamma", ldg, cols);
  if (dbeta) st_need(&a, "dbeta", ldb, cols);
  if (a.failed) return NULL;
  if (cols > 0) st_layer_norm_backward(rows, cols, x, gamma, mean, rstd, dy, dx, dgamma, dbeta);
  return NULL;
}

/* ------------------------------------------------------------ embeddings */

/* Fails unless every ids[lo..hi) is in [0, rows). */
static void check_ids(StArgs *a, const char *what, const int32_t *ids, int64_t lo, int64_t hi, int64_t rows,
                      const char *table) {
  if (a->failed) return;
  for (int64_t i = lo; i < hi; i++) {
    if (ids[i] < 0 || ids[i] >= rows) {
      st_fail(a, 'R', "%s %d (at position %lld) is out of range for %s of %lld rows", what, ids[i], (long long)i,
              table, (long long)rows);
      return;
    }
  }
}

/* offsets[0..nBags] must be non-decreasing from >= 0 and end within `len` (ids or slot). */
static void check_offsets(StArgs *a, const int32_t *offsets, int64_t nBags, const char *name, int64_t len) {
  if (a->failed) return;
  if (offsets[0] < 0) {
    st_fail(a, 'R', "offsets[0] is %d, must be >= 0", offsets[0]);
    return;
  }
  for (int64_t b = 0; b < nBags; b++) {
    if (offsets[b + 1] < offsets[b]) {
      st_fail(a, 'R', "offsets decrease at bag %lld (%d then %d)", (long long)b, offsets[b], offsets[b + 1]);
      return;
    }
  }
  if (offsets[nBags] > len)
    st_fail(a, 'R', "offsets[%lld] is %d but %s has %lld elements", (long long)nBags, offsets[nBags], name,
            (long long)len);
}

static napi_value gather(napi_env env, napi_callback_info info) {
  ARGS("gather", 6);
  int64_t lt, li, lo;
  const int64_t n = st_arg_size(&a, 0, "n", SIZE_MAX_JS);
  const int64_t dim = st_arg_size(&a, 1, "dim", SIZE_MAX_JS);
  const int64_t rows = st_arg_size(&a, 2, "rows", SIZE_MAX_JS);
  const float *table = st_arg_f32(&a, 3, "table", &lt, 0);
  const int32_t *ids = st_arg_i32(&a, 4, "ids", &li);
  float *out = st_arg_f32(&a, 5, "out", &lo, 0);
  st_need(&a, "table", lt, st_mul(rows, dim));
  st_need(&a, "ids", li, n);
  st_need(&a, "out", lo, st_mul(n, dim));
  check_ids(&a, "id", ids, 0, n, rows, "a table");
  if (a.failed) return NULL;
  st_gather(n, dim, table, ids, out);
  return NULL;
}

static napi_value index_add(napi_env env, napi_callback_info info) {
  ARGS("indexAdd", 6);
  int64_t ls, li, ld;
  const int64_t n = st_arg_size(&a, 0, "n", SIZE_MAX_JS);
  const int64_t dim = st_arg_size(&a, 1, "dim", SIZE_MAX_JS);
  const float *src = st_arg_f32(&a, 2, "src", &ls, 0);
  const int32_t *idx = st_arg_i32(&a, 3, "idx", &li);
  const double alpha = st_arg_num(&a, 4, "alpha");
  float *dst = st_arg_f32(&a, 5, "dst", &ld, 0);
  st_need(&a, "src", ls, st_mul(n, dim));
  st_need(&a, "idx", li, n);
  if (a.failed || dim == 0) return NULL;
  check_ids(&a, "index", idx, 0, n, ld / dim, "a dst");
  if (a.failed) return NULL;
  st_index_add(n, dim, src, idx, (float)alpha, dst);
  return NULL;
}

static napi_value embedding_bag_mean(napi_env env, napi_callback_info info) {
  ARGS("embeddingBagMean", 7);
  int64_t lt, li, lf, lo;
  const int64_t nBags = st_arg_size(&a, 0, "nBags", SIZE_MAX_I32 - 1);
  const int64_t dim = st_arg_size(&a, 1, "dim", SIZE_MAX_JS);
  const int64_t rows = st_arg_size(&a, 2, "rows", SIZE_MAX_JS);
  const float *table = st_arg_f32(&a, 3, "table", &lt, 0);
  const int32_t *ids = st_arg_i32(&a, 4, "ids", &li);
  const int32_t *offsets = st_arg_i32(&a, 5, "offsets", &lf);
  float *out = st_arg_f32(&a, 6, "out", &lo, 0);
  st_need(&a, "table", lt, st_mul(rows, dim));
  st_need(&a, "offsets (nBags + 1 entries)", lf, nBags + 1);
  st_need(&a, "out", lo, st_mul(nBags, dim));
  check_offsets(&a, offsets, nBags, "ids", li);
  if (!a.failed) check_ids(&a, "id", ids, offsets[0], offsets[nBags], rows, "a table");
  if (a.failed) return NULL;
  st_embedding_bag_mean(nBags, dim, table, ids, offsets, out);
  return NULL;
}

static napi_value embedding_bag_mean_backward(napi_env env, napi_callback_info info) {
  ARGS("embeddingBagMeanBackward", 6);
  int64_t lf, ls, lg, lr;
  const int64_t nBags = st_arg_size(&a, 0, "nBags", SIZE_MAX_I32 - 1);
  const int64_t dim = st_arg_size(&a, 1, "dim", SIZE_MAX_JS);
  const int32_t *offsets = st_arg_i32(&a, 2, "offsets", &lf);
  const int32_t *slot = st_arg_i32(&a, 3, "slot", &ls);
  const float *dy = st_arg_f32(&a, 4, "dy", &lg, 0);
  float *grad = st_arg_f32(&a, 5, "gradRows", &lr, 0);
  st_need(&a, "offsets (nBags + 1 entries)", lf, nBags + 1);
  st_need(&a, "dy", lg, st_mul(nBags, dim));
  check_offsets(&a, offsets, nBags, "slot", ls);
  if (a.failed || dim == 0) return NULL;
  check_ids(&a, "slot", slot, offsets[0], offsets[nBags], lr / dim, "gradRows");
  if (a.failed) return NULL;
  st_embedding_bag_mean_backward(nBags, dim, offsets, slot, dy, grad);
  return NULL;
}

/* A row-wise int8/int4 table: bits 8 or 4, rows of whole 32-bit words, codes and (scale, bias) per row. */
static void check_quant_table(StArgs *a, int64_t dim, int64_t bits, int64_t rows, int64_t lq, int64_t ls) {
  if (!a->failed && bits != 8 && bits != 4) st_fail(a, 'R', "bits must be 8 or 4, got %lld", (long long)bits);
  if (!a->failed && (dim * bits) % 32 != 0)
    st_fail(a, 'R', "dim %lld x %lld bits is not a whole number of 32-bit words", (long long)dim, (long long)bits);
  st_need(a, "q", lq, st_mul(rows, dim * bits / 32));
  st_need(a, "scaleBias", ls, st_mul(rows, 2));
}

static napi_value dequant_gather(napi_env env, napi_callback_info info) {
  ARGS("dequantGather", 8);
  int64_t lq, ls, li, lo;
  const int64_t n = st_arg_size(&a, 0, "n", SIZE_MAX_JS);
  const int64_t dim = st_arg_size(&a, 1, "dim", SIZE_MAX_JS);
  const int64_t bits = st_arg_size(&a, 2, "bits", 8);
  const int64_t rows = st_arg_size(&a, 3, "rows", SIZE_MAX_JS);
  const int32_t *q = st_arg_i32(&a, 4, "q", &lq);
  const float *sb = st_arg_f32(&a, 5, "scaleBias", &ls, 0);
  const int32_t *ids = st_arg_i32(&a, 6, "ids", &li);
  float *out = st_arg_f32(&a, 7, "out", &lo, 0);
  check_quant_table(&a, dim, bits, rows, lq, ls);
  st_need(&a, "ids", li, n);
  st_need(&a, "out", lo, st_mul(n, dim));
  check_ids(&a, "id", ids, 0, n, rows, "a table");
  if (a.failed) return NULL;
  st_dequant_gather(n, dim, (int)bits, (const uint32_t *)q, sb, ids, out);
  return NULL;
}

static napi_value quant_bag_mean(napi_env env, napi_callback_info info) {
  ARGS("quantBagMean", 9);
  int64_t lq, ls, li, lf, lo;
  const int64_t nBags = st_arg_size(&a, 0, "nBags", SIZE_MAX_I32 - 1);
  const int64_t dim = st_arg_size(&a, 1, "dim", SIZE_MAX_JS);
  const int64_t bits = st_arg_size(&a, 2, "bits", 8);
  const int64_t rows = st_arg_size(&a, 3, "rows", SIZE_MAX_JS);
  const int32_t *q = st_arg_i32(&a, 4, "q", &lq);
  const float *sb = st_arg_f32(&a, 5, "scaleBias", &ls, 0);
  const int32_t *ids = st_arg_i32(&a, 6, "ids", &li);
  const int32_t *offsets = st_arg_i32(&a, 7, "offsets", &lf);
  float *out = st_arg_f32(&a, 8, "out", &lo, 0);
  check_quant_table(&a, dim, bits, rows, lq, ls);
  st_need(&a, "offsets (nBags + 1 entries)", lf, nBags + 1);
  st_need(&a, "out", lo, st_mul(nBags, dim));
  check_offsets(&a, offsets, nBags, "ids", li);
  if (!a.failed) check_ids(&a, "id", ids, offsets[0], offsets[nBags], rows, "a table");
  if (a.failed) return NULL;
  st_quant_bag_mean((int)bits, nBags, dim, (const uint32_t *)q, sb, ids, offsets, out);
  return NULL;
}

/* Shared checks of the codes-table kernels: sizes, codes within [0, K), ids and offsets. Returns
 * the sub-vector width (0 on failure). */
static int64_t check_codes(StArgs *a, int kind, int64_t nBags, int64_t dim, int64_t rows, int64_t M, int64_t K,
                           const uint8_t *codes, int64_t lc, const float *rowScale, int64_t lr, const int32_t *ids,
                           int64_t li, const int32_t *offsets, int64_t lf) {
  if (a->failed) return 0;
  if (M < 1 || K < 1 || K > 256) {
    st_fail(a, 'R', "need at least one codebook and 1 to 256 codewords (one-byte codes), got %lld x %lld",
            (long long)M, (long long)K);
    return 0;
  }
  if (kind == 0 && dim % M != 0) {
    st_fail(a, 'R', "pq: width %lld does not split into %lld sub-vectors", (long long)dim, (long long)M);
    return 0;
  }
  st_need(a, "codes", lc, st_mul(rows, M));
  if (rowScale) st_need(a, "rowScale", lr, rows);
  st_need(a, "offsets (nBags + 1 entries)", lf, nBags + 1);
  check_offsets(a, offsets, nBags, "ids", li);
  if (!a->failed) check_ids(a, "id", ids, offsets[0], offsets[nBags], rows, "a codes table");
  if (a->failed) return 0;
  /* Only the rows this call reads: a code >= K would read past the codebooks. */
  for (int64_t k = offsets[0]; k < offsets[nBags]; k++) {
    const uint8_t *c = codes + (int64_t)ids[k] * M;
    for (int64_t m = 0; m < M; m++)
      if (c[m] >= K) {
        st_fail(a, 'R', "row %d has code %d in codebook %lld, beyond its %lld codewords", ids[k], c[m], (long long)m,
                (long long)K);
        return 0;
      }
  }
  return kind == 0 ? dim / M : dim;
}

static napi_value codes_bag_mean(napi_env env, napi_callback_info info) {
  ARGS("codesBagMean", 12);
  int64_t lc, lb, lr, li, lf, lo;
  const int kind = st_arg_enum(&a, 0, "kind", 1);
  const int64_t nBags = st_arg_size(&a, 1, "nBags", SIZE_MAX_I32 - 1);
  const int64_t dim = st_arg_size(&a, 2, "dim", SIZE_MAX_JS);
  const int64_t rows = st_arg_size(&a, 3, "rows", SIZE_MAX_JS);
  const int64_t M = st_arg_size(&a, 4, "books", SIZE_MAX_JS);
  const int64_t K = st_arg_size(&a, 5, "words", SIZE_MAX_JS);
  const uint8_t *codes = st_arg_u8(&a, 6, "codes", &lc);
  const float *books = st_arg_f32(&a, 7, "codebooks", &lb, 0);
  const float *rowScale = st_arg_f32(&a, 8, "rowScale", &lr, 1);
  const int32_t *ids = st_arg_i32(&a, 9, "ids", &li);
  const int32_t *offsets = st_arg_i32(&a, 10, "offsets", &lf);
  float *out = st_arg_f32(&a, 11, "out", &lo, 0);
  const int64_t sub = check_codes(&a, kind, nBags, dim, rows, M, K, codes, lc, rowScale, lr, ids, li, offsets, lf);
  st_need(&a, "codebooks", lb, st_mul(st_mul(M, K), sub));
  st_need(&a, "out", lo, st_mul(nBags, dim));
  if (a.failed) return NULL;
  st_codes_bag_mean(kind, nBags, dim, M, K, codes, books, rowScale, ids, offsets, out);
  return NULL;
}

static napi_value codes_bag_mean_backward(napi_env env, napi_callback_info info) {
  ARGS("codesBagMeanBackward", 12);
  int64_t lc, lr, li, lf, lg, lgr;
  const int kind = st_arg_enum(&a, 0, "kind", 1);
  const int64_t nBags = st_arg_size(&a, 1, "nBags", SIZE_MAX_I32 - 1);
  const int64_t dim = st_arg_size(&a, 2, "dim", SIZE_MAX_JS);
  const int64_t rows = st_arg_size(&a, 3, "rows", SIZE_MAX_JS);
  const int64_t M = st_arg_size(&a, 4, "books", SIZE_MAX_JS);
  const int64_t K = st_arg_size(&a, 5, "words", SIZE_MAX_JS);
  const uint8_t *codes = st_arg_u8(&a, 6, "codes", &lc);
  const float *rowScale = st_arg_f32(&a, 7, "rowScale", &lr, 1);
  const int32_t *ids = st_arg_i32(&a, 8, "ids", &li);
  const int32_t *offsets = st_arg_i32(&a, 9, "offsets", &lf);
  const float *dy = st_arg_f32(&a, 10, "dy", &lg, 0);
  float *grad = st_arg_f32(&a, 11, "gradBooks", &lgr, 0);
  const int64_t sub = check_codes(&a, kind, nBags, dim, rows, M, K, codes, lc, rowScale, lr, ids, li, offsets, lf);
  st_need(&a, "dy", lg, st_mul(nBags, dim));
  st_need(&a, "gradBooks", lgr, st_mul(st_mul(M, K), sub));
  if (a.failed) return NULL;
  st_codes_bag_mean_backward(kind, nBags, dim, M, K, codes, rowScale, ids, offsets, dy, grad);
  return NULL;
}

static napi_value nearest_centroids(napi_env env, napi_callback_info info) {
  ARGS("nearestCentroids", 6);
  int64_t lx, lc, lo;
  const int64_t n = st_arg_size(&a, 0, "n", SIZE_MAX_JS);
  const int64_t d = st_arg_size(&a, 1, "d", SIZE_MAX_JS);
  const int64_t K = st_arg_size(&a, 2, "K", SIZE_MAX_I32);
  const float *x = st_arg_f32(&a, 3, "x", &lx, 0);
  const float *c = st_arg_f32(&a, 4, "centroids", &lc, 0);
  int32_t *out = st_arg_i32(&a, 5, "out", &lo);
  if (!a.failed && K < 1 && n > 0) st_fail(&a, 'R', "no centroids to assign %lld points to", (long long)n);
  st_need(&a, "x", lx, st_mul(n, d));
  st_need(&a, "centroids", lc, st_mul(K, d));
  st_need(&a, "out", lo, n);
  if (a.failed) return NULL;
  st_nearest_centroids(n, d, K, x, c, out);
  return NULL;
}

/* ------------------------------------------------------------ dropout */

static napi_value dropout(napi_env env, napi_callback_info info) {
  ARGS("dropout", 6);
  int64_t lx, ly, lm;
  const int64_t n = st_arg_size(&a, 0, "n", SIZE_MAX_JS);
  const double p = st_arg_num(&a, 1, "p");
  const uint32_t seed = st_arg_u32(&a, 2, "seed");
  const float *x = st_arg_f32(&a, 3, "x", &lx, 0);
  float *y = st_arg_f32(&a, 4, "y", &ly, 0);
  float *mask = st_arg_f32(&a, 5, "mask", &lm, 0);
  if (!a.failed && !(p >= 0 && p <= 1)) st_fail(&a, 'R', "p must be in [0, 1], got %g", p);
  st_need(&a, "x", lx, n);
  st_need(&a, "y", ly, n);
  st_need(&a, "mask", lm, n);
  if (a.failed) return NULL;
  st_dropout(n, p, seed, x, y, mask);
  return NULL;
}

/* ------------------------------------------------------------ optimisers */

typedef struct { double lr, b1, b2, eps, wd, t; } Hyper;

static Hyper read_hyper(StArgs *a, size_t i) {
  Hyper h;
  h.lr = st_arg_num(a, i, "lr");
  h.b1 = st_arg_num(a, i + 1, "b1");
  h.b2 = st_arg_num(a, i + 2, "b2");
  h.eps = st_arg_num(a, i + 3, "eps");
  h.wd = st_arg_num(a, i + 4, "wd");
  h.t = st_arg_num(a, i + 5, "t");
  if (!a->failed && !(h.t >= 1)) st_fail(a, 'R', "step t must be >= 1, got %g", h.t);
  return h;
}

static napi_value adam(napi_env env, napi_callback_info info) {
  ARGS("adam", 11);
  int64_t lp, lg, lm, lv;
  const int64_t n = st_arg_size(&a, 0, "n", SIZE_MAX_JS);
  float *p = st_arg_f32(&a, 1, "p", &lp, 0);
  const float *g = st_arg_f32(&a, 2, "g", &lg, 0);
  float *m = st_arg_f32(&a, 3, "m", &lm, 0);
  float *v = st_arg_f32(&a, 4, "v", &lv, 0);
  const Hyper h = read_hyper(&a, 5);
  st_need(&a, "p", lp, n);
  st_need(&a, "g", lg, n);
  st_need(&a, "m", lm, n);
  st_need(&a, "v", lv, n);
  if (a.failed) return NULL;
  st_adam(n, p, g, m, v, h.lr, h.b1, h.b2, h.eps, h.wd, h.t);
  return NULL;
}

static napi_value adam_rows(napi_env env, napi_callback_info info) {
  ARGS("adamRows", 13);
  int64_t li, lg, lp, lm, lv;
  const int64_t nRows = st_arg_size(&a, 0, "nRows", SIZE_MAX_JS);
  const int64_t dim = st_arg_size(&a, 1, "dim", SIZE_MAX_JS);
  const int32_t *ids = st_arg_i32(&a, 2, "rowIds", &li);
  const float *g = st_arg_f32(&a, 3, "gradRows", &lg, 0);
  float *p = st_arg_f32(&a, 4, "p", &lp, 0);
  float *m = st_arg_f32(&a, 5, "m", &lm, 0);
  float *v = st_arg_f32(&a, 6, "v", &lv, 0);
  const Hyper h = read_hyper(&a, 7);
  st_need(&a, "rowIds", li, nRows);
  st_need(&a, "gradRows", lg, st_mul(nRows, dim));
  if (a.failed || dim == 0) return NULL;
  /* The table is as long as the shortest of p, m, v. */
  int64_t len = lp < lm ? lp : lm;
  len = len < lv ? len : lv;
  check_ids(&a, "row id", ids, 0, nRows, len / dim, "p/m/v tables");
  if (a.failed) return NULL;
  st_adam_rows(nRows, dim, ids, g, p, m, v, h.lr, h.b1, h.b2, h.eps, h.wd, h.t);
  return NULL;
}

/* ------------------------------------------------------------ inference (infer.c) */

static napi_value bias_gelu(napi_env env, napi_callback_info info) {
  ARGS("biasGelu", 4);
  int64_t lb, lx;
  const int64_t rows = st_arg_size(&a, 0, "rows", SIZE_MAX_JS);
  const int64_t cols = st_arg_size(&a, 1, "cols", SIZE_MAX_JS);
  const float *bias = st_arg_f32(&a, 2, "bias", &lb, 1);
  float *x = st_arg_f32(&a, 3, "x", &lx, 0);
  if (bias) st_need(&a, "bias", lb, cols);
  st_need(&a, "x", lx, st_mul(rows, cols));
  if (a.failed) return NULL;
  st_bias_gelu(rows, cols, bias, x);
  return NULL;
}

static napi_value add_bias(napi_env env, napi_callback_info info) {
  ARGS("addBias", 4);
  int64_t lb, lx;
  const int64_t rows = st_arg_size(&a, 0, "rows", SIZE_MAX_JS);
  const int64_t cols = st_arg_size(&a, 1, "cols", SIZE_MAX_JS);
  const float *bias = st_arg_f32(&a, 2, "bias", &lb, 0);
  float *x = st_arg_f32(&a, 3, "x", &lx, 0);
  st_need(&a, "bias", lb, cols);
  st_need(&a, "x", lx, st_mul(rows, cols));
  if (a.failed) return NULL;
  st_add_bias(rows, cols, bias, x);
  return NULL;
}

static napi_value residual_layer_norm(napi_env env, napi_callback_info info) {
  ARGS("residualLayerNorm", 9);
  int64_t lx, lb, lr, lg, lbt, lo;
  const int64_t rows = st_arg_size(&a, 0, "rows", SIZE_MAX_JS);
  const int64_t cols = st_arg_size(&a, 1, "cols", SIZE_MAX_JS);
  const float *x = st_arg_f32(&a, 2, "x", &lx, 0);
  const float *bias = st_arg_f32(&a, 3, "bias", &lb, 1);
  const float *res = st_arg_f32(&a, 4, "residual", &lr, 0);
  const float *gamma = st_arg_f32(&a, 5, "gamma", &lg, 0);
  const float *beta = st_arg_f32(&a, 6, "beta", &lbt, 0);
  const double eps = st_arg_num(&a, 7, "eps");
  float *out = st_arg_f32(&a, 8, "out", &lo, 0);
  st_need(&a, "x", lx, st_mul(rows, cols));
  if (bias) st_need(&a, "bias", lb, cols);
  st_need(&a, "residual", lr, st_mul(rows, cols));
  st_need(&a, "gamma", lg, cols);
  st_need(&a, "beta", lbt, cols);
  st_need(&a, "out", lo, st_mul(rows, cols));
  if (!a.failed && cols == 0 && rows > 0) st_fail(&a, 'R', "cols is 0 (a row must have at least one element)");
  if (a.failed) return NULL;
  st_residual_layer_norm(rows, cols, x, bias, res, gamma, beta, (float)eps, out);
  return NULL;
}

static napi_value embed_layer_norm(napi_env env, napi_callback_info info) {
  ARGS("embedLayerNorm", 12);
  int64_t lw, li, lp, lpi, lt, lti, lg, lb, lo;
  const int64_t n = st_arg_size(&a, 0, "n", SIZE_MAX_JS);
  const int64_t dim = st_arg_size(&a, 1, "dim", SIZE_MAX_JS);
  const float *word = st_arg_f32(&a, 2, "word", &lw, 0);
  const int32_t *ids = st_arg_i32(&a, 3, "ids", &li);
  const float *pos = st_arg_f32(&a, 4, "position", &lp, 0);
  const int32_t *posIds = st_arg_i32(&a, 5, "positionIds", &lpi);
  const float *type = st_arg_f32(&a, 6, "tokenType", &lt, 0);
  const int32_t *typeIds = st_arg_i32(&a, 7, "tokenTypeIds", &lti);
  const float *gamma = st_arg_f32(&a, 8, "gamma", &lg, 0);
  const float *beta = st_arg_f32(&a, 9, "beta", &lb, 0);
  const double eps = st_arg_num(&a, 10, "eps");
  float *out = st_arg_f32(&a, 11, "out", &lo, 0);
  if (!a.failed && dim == 0) st_fail(&a, 'R', "dim is 0");
  st_need(&a, "ids", li, n);
  st_need(&a, "positionIds", lpi, n);
  st_need(&a, "tokenTypeIds", lti, n);
  st_need(&a, "gamma", lg, dim);
  st_need(&a, "beta", lb, dim);
  st_need(&a, "out", lo, st_mul(n, dim));
  if (a.failed) return NULL;
  check_ids(&a, "token id", ids, 0, n, lw / dim, "the word embeddings");
  check_ids(&a, "position", posIds, 0, n, lp / dim, "the position embeddings");
  check_ids(&a, "token type", typeIds, 0, n, lt / dim, "the token type embeddings");
  if (a.failed) return NULL;
  st_embed_layer_norm(n, dim, word, ids, pos, posIds, type, typeIds, gamma, beta, (float)eps, out);
  return NULL;
}

static napi_value attention_packed(napi_env env, napi_callback_info info) {
  ARGS("attentionPacked", 6);
  int64_t lo, lq, lc;
  const int64_t nSeq = st_arg_size(&a, 0, "nSeq", SIZE_MAX_I32 - 1);
  const int32_t *offsets = st_arg_i32(&a, 1, "offsets", &lo);
  const int64_t heads = st_arg_size(&a, 2, "heads", SIZE_MAX_I32);
  const int64_t d = st_arg_size(&a, 3, "headDim", SIZE_MAX_I32);
  const float *qkv = st_arg_f32(&a, 4, "qkv", &lq, 0);
  float *ctx = st_arg_f32(&a, 5, "ctx", &lc, 0);
  st_need(&a, "offsets (nSeq + 1 entries)", lo, nSeq + 1);
  if (a.failed) return NULL;
  check_offsets(&a, offsets, nSeq, "the token rows", SIZE_MAX_I32);
  if (a.failed) return NULL;
  const int64_t rows = offsets[nSeq];
  st_need(&a, "qkv", lq, st_mul(rows, 3 * heads * d));
  st_need(&a, "ctx", lc, st_mul(rows, heads * d));
  if (a.failed) return NULL;
  st_attention_packed(nSeq, offsets, heads, d, qkv, ctx);
  return NULL;
}

static napi_value q8_pack(napi_env env, napi_callback_info info) {
  ARGS("q8Pack", 6);
  int64_t lw, lp, ls, lc;
  const int64_t N = st_arg_size(&a, 0, "N", SIZE_MAX_I32);
  const int64_t K = st_arg_size(&a, 1, "K", SIZE_MAX_I32);
  const float *w = st_arg_f32(&a, 2, "weight", &lw, 0);
  int32_t *packed = st_arg_i32(&a, 3, "packed", &lp);
  float *scales = st_arg_f32(&a, 4, "scales", &ls, 0);
  int32_t *colsum = st_arg_i32(&a, 5, "colsum", &lc);
  st_need(&a, "weight", lw, st_mul(N, K));
  if (!a.failed) st_need(&a, "packed (q8PackedLength)", lp, st_q8_packed_len(N, K));
  st_need(&a, "scales", ls, N);
  st_need(&a, "colsum", lc, N);
  if (a.failed) return NULL;
  st_q8_pack(N, K, w, packed, scales, colsum);
  return NULL;
}

static napi_value q8_quantize(napi_env env, napi_callback_info info) {
  ARGS("q8Quantize", 5);
  int64_t lw, lq, ls;
  const int64_t N = st_arg_size(&a, 0, "N", SIZE_MAX_I32);
  const int64_t K = st_arg_size(&a, 1, "K", SIZE_MAX_I32);
  const float *w = st_arg_f32(&a, 2, "weight", &lw, 0);
  int8_t *codes = st_arg_i8(&a, 3, "codes", &lq);
  float *scales = st_arg_f32(&a, 4, "scales", &ls, 0);
  st_need(&a, "weight", lw, st_mul(N, K));
  st_need(&a, "codes", lq, st_mul(N, K));
  st_need(&a, "scales", ls, N);
  if (a.failed) return NULL;
  st_q8_quantize(N, K, w, codes, scales);
  return NULL;
}

static napi_value q8_pack_codes(napi_env env, napi_callback_info info) {
  ARGS("q8PackCodes", 5);
  int64_t lq, lp, lc;
  const int64_t N = st_arg_size(&a, 0, "N", SIZE_MAX_I32);
  const int64_t K = st_arg_size(&a, 1, "K", SIZE_MAX_I32);
  const int8_t *codes = st_arg_i8(&a, 2, "codes", &lq);
  int32_t *packed = st_arg_i32(&a, 3, "packed", &lp);
  int32_t *colsum = st_arg_i32(&a, 4, "colsum", &lc);
  st_need(&a, "codes", lq, st_mul(N, K));
  if (!a.failed) st_need(&a, "packed (q8PackedLength)", lp, st_q8_packed_len(N, K));
  st_need(&a, "colsum", lc, N);
  if (a.failed) return NULL;
  st_q8_pack_codes(N, K, codes, packed, colsum);
  return NULL;
}

static napi_value q8_gemm(napi_env env, napi_callback_info info) {
  ARGS("q8Gemm", 9);
  int64_t lx, lp, ls, lc, lb, ly;
  const int64_t M = st_arg_size(&a, 0, "M", SIZE_MAX_I32);
  const int64_t N = st_arg_size(&a, 1, "N", SIZE_MAX_I32);
  const int64_t K = st_arg_size(&a, 2, "K", SIZE_MAX_I32);
  const float *x = st_arg_f32(&a, 3, "x", &lx, 0);
  const int32_t *packed = st_arg_i32(&a, 4, "packed", &lp);
  const float *scales = st_arg_f32(&a, 5, "scales", &ls, 0);
  const int32_t *colsum = st_arg_i32(&a, 6, "colsum", &lc);
  const float *bias = st_arg_f32(&a, 7, "bias", &lb, 1);
  float *y = st_arg_f32(&a, 8, "y", &ly, 0);
  st_need(&a, "x", lx, st_mul(M, K));
  if (!a.failed) st_need(&a, "packed (q8PackedLength)", lp, st_q8_packed_len(N, K));
  st_need(&a, "scales", ls, N);
  st_need(&a, "colsum", lc, N);
  if (bias) st_need(&a, "bias", lb, N);
  st_need(&a, "y", ly, st_mul(M, N));
  if (a.failed) return NULL;
  st_q8_gemm(M, N, K, x, packed, scales, colsum, bias, y);
  return NULL;
}

static napi_value f32_pack(napi_env env, napi_callback_info info) {
  ARGS("f32Pack", 4);
  int64_t lw, lp;
  const int64_t N = st_arg_size(&a, 0, "N", SIZE_MAX_I32);
  const int64_t K = st_arg_size(&a, 1, "K", SIZE_MAX_I32);
  const float *w = st_arg_f32(&a, 2, "weight", &lw, 0);
  float *packed = st_arg_f32(&a, 3, "packed", &lp, 0);
  st_need(&a, "weight", lw, st_mul(N, K));
  if (!a.failed) st_need(&a, "packed (f32PackedLength)", lp, st_f32_packed_len(N, K));
  if (a.failed) return NULL;
  st_f32_pack(N, K, w, packed);
  return NULL;
}

static napi_value f32_gemm_packed(napi_env env, napi_callback_info info) {
  ARGS("f32GemmPacked", 7);
  int64_t lx, lp, lb, ly;
  const int64_t M = st_arg_size(&a, 0, "M", SIZE_MAX_I32);
  const int64_t N = st_arg_size(&a, 1, "N", SIZE_MAX_I32);
  const int64_t K = st_arg_size(&a, 2, "K", SIZE_MAX_I32);
  const float *x = st_arg_f32(&a, 3, "x", &lx, 0);
  const float *packed = st_arg_f32(&a, 4, "packed", &lp, 0);
  const float *bias = st_arg_f32(&a, 5, "bias", &lb, 1);
  float *y = st_arg_f32(&a, 6, "y", &ly, 0);
  st_need(&a, "x", lx, st_mul(M, K));
  if (!a.failed) st_need(&a, "packed (f32PackedLength)", lp, st_f32_packed_len(N, K));
  if (bias) st_need(&a, "bias", lb, N);
  st_need(&a, "y", ly, st_mul(M, N));
  if (a.failed) return NULL;
  st_f32_gemm_packed(M, N, K, x, packed, bias, y);
  return NULL;
}

static napi_value q8_kernel(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  const int k = st_q8_kernel();
  napi_create_string_utf8(env, k == 2 ? "avx512-vnni" : k == 1 ? "avx2" : "portable", NAPI_AUTO_LENGTH, &r);
  return r;
}

/* ------------------------------------------------------------ module */

/* The addon may load in several worker threads; process-wide set-up happens once. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  pthread_once(&init_once, st_threads_init);
  const napi_property_descriptor props[] = {
#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}
      FN("threads", threads),
      FN("setThreads", set_threads),
      FN("gemm", gemm),
      FN("binary", binary),
      FN("copyStrided", copy_strided),
      FN("unary", unary),
      FN("unaryBackward", unary_backward),
      FN("axpby", axpby),
      FN("fill", fill),
      FN("sum", sum),
      FN("dot", dot),
      FN("sumSquares", sum_squares),
      FN("allFinite", all_finite),
      FN("softmax", softmax),
      FN("softmaxBackward", softmax_backward),
      FN("logSoftmax", log_softmax),
      FN("logSoftmaxBackward", log_softmax_backward),
      FN("layerNorm", layer_norm),
      FN("layerNormBackward", layer_norm_backward),
      FN("gather", gather),
      FN("indexAdd", index_add),
      FN("embeddingBagMean", embedding_bag_mean),
      FN("embeddingBagMeanBackward", embedding_bag_mean_backward),
      FN("dequantGather", dequant_gather),
      FN("quantBagMean", quant_bag_mean),
      FN("codesBagMean", codes_bag_mean),
      FN("codesBagMeanBackward", codes_bag_mean_backward),
      FN("nearestCentroids", nearest_centroids),
      FN("dropout", dropout),
      FN("adam", adam),
      FN("adamRows", adam_rows),
      FN("biasGelu", bias_gelu),
      FN("addBias", add_bias),
      FN("residualLayerNorm", residual_layer_norm),
      FN("embedLayerNorm", embed_layer_norm),
      FN("attentionPacked", attention_packed),
      FN("q8Pack", q8_pack),
      FN("q8Gemm", q8_gemm),
      FN("q8Quantize", q8_quantize),
      FN("q8PackCodes", q8_pack_codes),
      FN("q8Kernel", q8_kernel),
      FN("f32Pack", f32_pack),
      FN("f32GemmPacked", f32_gemm_packed),
#undef FN
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
