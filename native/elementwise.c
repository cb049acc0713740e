/*
 * Element-wise kernels: broadcasting binary ops, strided copy/accumulate, unary ops and their
 * backward, axpby, fill. Strided index spaces are first simplified (size-1 dimensions dropped,
 * dimensions that are contiguous for every operand merged), so the common cases become one long
 * unit-stride or broadcast-scalar inner loop that the compiler vectorises.
 */
#include <math.h>
#include <string.h>
#include "kernels.h"
#include "fastmath.h"
#include "parallel.h"
#include "simd.h"

/* ------------------------------------------------------------ strided index spaces */

typedef struct {
  int nd, nops;
  int64_t shape[ST_MAX_DIMS];
  int64_t st[3][ST_MAX_DIMS];
} Iter;

/* Returns the number of elements; afterwards nd >= 1 and dims are merged where possible. */
static int64_t iter_init(Iter *it, int nd, const int64_t *shape, int nops, const int64_t *const *strides) {
  int64_t total = 1;
  it->nd = 0;
  it->nops = nops;
  for (int d = 0; d < nd; d++) {
    total *= shape[d];
    if (shape[d] == 1) continue;
    const int k = it->nd++;
    it->shape[k] = shape[d];
    for (int o = 0; o < nops; o++) it->st[o][k] = strides[o][d];
  }
  if (total == 0) return 0;
  if (it->nd == 0) {
    it->nd = 1;
    it->shape[0] = 1;
    for (int o = 0; o < nops; o++) it->st[o][0] = 0;
    return 1;
  }
  /* Merge dimension k into k+1 (inner) when every operand steps over k exactly as if the two
   * were one dimension. */
  int w = 0;
  for (int k = 1; k < it->nd; k++) {
    int merge = 1;
    for (int o = 0; o < nops; o++)
      if (it->st[o][w] != it->st[o][k] * it->shape[k]) merge = 0;
    if (merge) {
      it->shape[w] *= it->shape[k];
      for (int o = 0; o < nops; o++) it->st[o][w] = it->st[o][k];
    } else {
      w++;
      it->shape[w] = it->shape[k];
      for (int o = 0; o < nops; o++) it->st[o][w] = it->st[o][k];
    }
  }
  it->nd = w + 1;
  return total;
}

/* Offsets of every operand at the start of outer row `row` (the inner dimension is the last). */
static void iter_row_offsets(const Iter *it, int64_t row, int64_t *off) {
  for (int o = 0; o < it->nops; o++) off[o] = 0;
  for (int d = it->nd - 2; d >= 0; d--) {
    const int64_t i = row % it->shape[d];
    row /= it->shape[d];
    for (int o = 0; o < it->nops; o++) off[o] += i * it->st[o][d];
  }
}

/* True when no two indices of the space map to the same element of operand o, ignoring the inner
 * dimension if skip_inner (sufficient test: sorted strides each clear the span of the smaller). */
static int iter_injective(const Iter *it, int o, int skip_inner) {
  int64_t s[ST_MAX_DIMS], n[ST_MAX_DIMS];
  int m = 0;
  for (int d = 0; d < it->nd - (skip_inner ? 1 : 0); d++) {
    if (it->shape[d] == 1) continue;
    s[m] = it->st[o][d] < 0 ? -it->st[o][d] : it->st[o][d];
    n[m++] = it->shape[d];
  }
  for (int i = 1; i < m; i++)
    for (int j = i; j > 0 && s[j] < s[j - 1]; j--) {
      int64_t t = s[j]; s[j] = s[j - 1]; s[j - 1] = t;
      t = n[j]; n[j] = n[j - 1]; n[j - 1] = t;
    }
  int64_t span = 0;
  for (int i = 0; i < m; i++) {
    if (s[i] <= span) return 0;
    span += s[i] * (n[i] - 1);
  }
  return 1;
}

/* True when, for operand o, different positions along the inner dimension never reach the same
 * element from any two outer indices: every outer stride is a multiple of the inner dimension's
 * whole span (0 included), so element offsets fall in distinct residues of the inner position. */
static int cols_disjoint(const Iter *it, int o) {
  const int64_t din = it->st[o][it->nd - 1], span = it->shape[it->nd - 1] * (din < 0 ? -din : din);
  for (int d = 0; d < it->nd - 1; d++)
    if (it->st[o][d] % span != 0) return 0;
  return 1;
}

/* ------------------------------------------------------------ binary */

#define LOOP_ACC(E)                                            \
  do {                                                         \
    if (acc) for (int64_t j = 0; j < n; j++) o[j] += (E);      \
    else for (int64_t j = 0; j < n; j++) o[j] = (E);           \
  } while (0)

#define LOOP_OP(OP)                                                        \
  do {                                                                     \
    if (sa == 1 && sb == 1) LOOP_ACC(a[j] OP b[j]);                        \
    else if (sa == 1 && sb == 0) { const float bv = *b; LOOP_ACC(a[j] OP bv); } \
    else if (sa == 0 && sb == 1) { const float av = *a; LOOP_ACC(av OP b[j]); } \
    else LOOP_ACC(a[j * sa] OP b[j * sb]);                                 \
  } while (0)

ST_HOT static void binary_run(int op, int64_t n, const float *a, int64_t sa, const float *b, int64_t sb, float *o, int acc) {
  switch (op) {
    case ST_ADD: LOOP_OP(+); break;
    case ST_SUB: LOOP_OP(-); break;
    case ST_MUL: LOOP_OP(*); break;
    default: LOOP_OP(/); break;
  }
}

void st_binary(int op, int nd, const int64_t *shape, const float *a, const int64_t *as,
               const float *b, const int64_t *bs, float *out, int accumulate) {
  int64_t os[ST_MAX_DIMS];
  int64_t step = 1;
  for (int d = nd - 1; d >= 0; d--) { os[d] = step; step *= shape[d]; }
  const int64_t *strides[3] = {as, bs, os};
  Iter it;
  const int64_t total = iter_init(&it, nd, shape, 3, strides);
  if (total == 0) return;
  const int64_t inner = it.shape[it.nd - 1];
  const int64_t sa = it.st[0][it.nd - 1], sb = it.st[1][it.nd - 1];
  const int nt = st_threads_for(total);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    /* Split the flat element range; each thread walks partial rows at its ends. */
    int64_t lo, hi;
    st_share(total, 16, &lo, &hi);
    while (lo < hi) {
      const int64_t row = lo / inner, col = lo % inner;
      const int64_t len = (inner - col) < (hi - lo) ? (inner - col) : (hi - lo);
      int64_t off[3];
      iter_row_offsets(&it, row, off);
      binary_run(op, len, a + off[0] + col * sa, sa, b + off[1] + col * sb, sb, out + lo, accumulate);
      lo += len;
    }
  }
}

/* ------------------------------------------------------------ copyStrided */

static void copy_run(int64_t n, const float *s, int64_t ss, float *d, int64_t ds, float alpha, int acc) {
  if (ds == 0) {
    /* Sum-reduction into one element (backward of broadcasting): accumulate in double. */
    if (acc) {
      double sum = 0.0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < n; j++) sum += s[j * ss];
      *d += (float)((double)alpha * sum);
    } else if (n > 0) {
      *d = alpha * s[(n - 1) * ss];
    }
    return;
  }
  if (ss == 1 && ds == 1) {
    if (acc) for (int64_t j = 0; j < n; j++) d[j] += alpha * s[j];
    else if (alpha == 1.0f) memmove(d, s, (size_t)n * sizeof(float));
    else for (int64_t j = 0; j < n; j++) d[j] = alpha * s[j];
  } else {
    if (acc) for (int64_t j = 0; j < n; j++) d[j * ds] += alpha * s[j * ss];
    else for (int64_t j = 0; j < n; j++) d[j * ds] = alpha * s[j * ss];
  }
}

void st_copy_strided(int nd, const int64_t *shape, const float *src, const int64_t *ss,
                     float *dst, const int64_t *ds, float alpha, int accumulate) {
  const int64_t *strides[2] = {ss, ds};
  Iter it;
  const int64_t total = iter_init(&it, nd, shape, 2, strides);
  if (total == 0) return;
  const int64_t inner = it.shape[it.nd - 1];
  const int64_t sin = it.st[0][it.nd - 1], din = it.st[1][it.nd - 1];
  const int64_t rows = total / inner;
  /* Threads may only split writes that never land on the same element: a flat split needs the
   * whole destination map injective; a split by rows needs distinct rows to write distinct places;
   * a split by columns (each thread all rows, its own range of the inner dimension) needs distinct
   * columns to write distinct places, which serves a sum over rows into one row (a bias gradient). */
  int nt = st_threads_for(total);
  enum { FLAT, BY_ROWS, BY_COLS } split = FLAT;
  if (nt > 1) {
    if (din != 0 && iter_injective(&it, 1, 0)) split = FLAT;
    else if (din == 0 && rows >= nt && iter_injective(&it, 1, 1)) split = BY_ROWS;
    else if (din != 0 && inner >= 16 * nt && cols_disjoint(&it, 1)) split = BY_COLS;
    else nt = 1;
  }
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t lo, hi;
    if (split == BY_COLS) {
      int64_t c0, c1;
      st_share(inner, 16, &c0, &c1);
      for (int64_t row = 0; row < rows && c0 < c1; row++) {
        int64_t off[2];
        iter_row_offsets(&it, row, off);
        copy_run(c1 - c0, src + off[0] + c0 * sin, sin, dst + off[1] + c0 * din, din, alpha, accumulate);
      }
      lo = hi = 0;
    } else if (split == BY_ROWS) {
      st_share(rows, 1, &lo, &hi);
      lo *= inner;
      hi *= inner;
    } else {
      st_share(total, 16, &lo, &hi);
    }
    while (lo < hi) {
      const int64_t row = lo / inner, col = lo % inner;
      const int64_t len = (inner - col) < (hi - lo) ? (inner - col) : (hi - lo);
      int64_t off[2];
      iter_row_offsets(&it, row, off);
      copy_run(len, src + off[0] + col * sin, sin, dst + off[1] + col * din, din, alpha, accumulate);
      lo += len;
    }
  }
}

/* ------------------------------------------------------------ unary */

#define INV_SQRT_2PI 0.39894228040143267794f

ST_HOT static void unary_run(int op, int64_t n, const float *x, float *y) {
  switch (op) {
    case ST_RELU: for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f; break;
    case ST_TANH: for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]); break;
    case ST_GELU: for (int64_t i = 0; i < n; i++) y[i] = x[i] * st_phi(x[i], 0); break;
    case ST_EXP: for (int64_t i = 0; i < n; i++) y[i] = st_expf(x[i]); break;
    case ST_LOG: for (int64_t i = 0; i < n; i++) y[i] = logf(x[i]); break;
    case ST_NEG: for (int64_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case ST_SQRT: for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]); break;
    case ST_SQUARE: for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
    case ST_SIGMOID: for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + st_expf(-x[i])); break;
    default: for (int64_t i = 0; i < n; i++) y[i] = fabsf(x[i]); break;
  }
}

ST_HOT static void unary_backward_run(int op, int64_t n, const float *x, const float *y, const float *dy, float *dx) {
  switch (op) {
    case ST_RELU:
      for (int64_t i = 0; i < n; i++) {
        const float g = dy[i]; /* loaded unconditionally so the select vectorises */
        dx[i] += x[i] > 0.0f ? g : 0.0f;
      }
      break;
    case ST_TANH: for (int64_t i = 0; i < n; i++) dx[i] += (1.0f - y[i] * y[i]) * dy[i]; break;
    case ST_GELU:
      for (int64_t i = 0; i < n; i++) {
        float g;
        const float cdf = st_phi(x[i], &g);
        dx[i] += (cdf + x[i] * g * INV_SQRT_2PI) * dy[i];
      }
      break;
    case ST_EXP: for (int64_t i = 0; i < n; i++) dx[i] += y[i] * dy[i]; break;
    case ST_LOG: for (int64_t i = 0; i < n; i++) dx[i] += dy[i] / x[i]; break;
    case ST_NEG: for (int64_t i = 0; i < n; i++) dx[i] -= dy[i]; break;
    case ST_SQRT: for (int64_t i = 0; i < n; i++) dx[i] += 0.5f * dy[i] / y[i]; break;
    case ST_SQUARE: for (int64_t i = 0; i < n; i++) dx[i] += 2.0f * x[i] * dy[i]; break;
    case ST_SIGMOID: for (int64_t i = 0; i < n; i++) dx[i] += y[i] * (1.0f - y[i]) * dy[i]; break;
    default:
      for (int64_t i = 0; i < n; i++) dx[i] += (float)((x[i] > 0.0f) - (x[i] < 0.0f)) * dy[i];
      break;
  }
}

/* Per-element cost in "simple operations", to decide when threads pay off. */
static int64_t unary_cost(int op) {
  return op == ST_GELU || op == ST_TANH || op == ST_LOG ? 16 : op == ST_EXP || op == ST_SIGMOID ? 8 : 1;
}

void st_unary(int op, int64_t n, const float *x, float *y) {
  const int nt = st_threads_for(n * unary_cost(op));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t lo, hi;
    st_share(n, 16, &lo, &hi);
    unary_run(op, hi - lo, x + lo, y + lo);
  }
}

void st_unary_backward(int op, int64_t n, const float *x, const float *y, const float *dy, float *dx) {
  const int nt = st_threads_for(n * unary_cost(op));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t lo, hi;
    st_share(n, 16, &lo, &hi);
    unary_backward_run(op, hi - lo, x + lo, y + lo, dy + lo, dx + lo);
  }
}

/* ------------------------------------------------------------ axpby, fill */

void st_axpby(int64_t n, float alpha, const float *x, float beta, float *y) {
  const int nt = st_threads_for(n);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t lo, hi;
    st_share(n, 16, &lo, &hi);
    if (beta == 0.0f) for (int64_t i = lo; i < hi; i++) y[i] = alpha * x[i];
    else for (int64_t i = lo; i < hi; i++) y[i] = alpha * x[i] + beta * y[i];
  }
}

void st_fill(int64_t n, float value, float *x) {
  const int nt = st_threads_for(n);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t lo, hi;
    st_share(n, 16, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) x[i] = value;
  }
}
