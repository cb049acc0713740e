/* AdamW steps, dense and lazy (rows of a table). Bias corrections are computed once in double;
 * the per-element update is float. */
#include <math.h>
#include "kernels.h"
#include "parallel.h"
#include "simd.h"

typedef struct { float b1, nb1, b2, nb2, c1, c2, lr, eps, lrwd; } AdamK;

static AdamK adam_constants(double lr, double b1, double b2, double eps, double wd, double t) {
  AdamK k;
  k.b1 = (float)b1;
  k.nb1 = (float)(1.0 - b1);
  k.b2 = (float)b2;
  k.nb2 = (float)(1.0 - b2);
  k.c1 = (float)(1.0 / (1.0 - pow(b1, t)));
  k.c2 = (float)(1.0 / (1.0 - pow(b2, t)));
  k.lr = (float)lr;
  k.eps = (float)eps;
  k.lrwd = (float)(lr * wd);
  return k;
}

ST_HOT static void adam_run(int64_t n, float *p, const float *g, float *m, float *v, const AdamK *k) {
  for (int64_t i = 0; i < n; i++) {
    const float mi = k->b1 * m[i] + k->nb1 * g[i];
    const float vi = k->b2 * v[i] + k->nb2 * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] -= k->lr * (mi * k->c1) / (sqrtf(vi * k->c2) + k->eps) + k->lrwd * p[i];
  }
}

void st_adam(int64_t n, float *p, const float *g, float *m, float *v,
             double lr, double b1, double b2, double eps, double wd, double t) {
  const AdamK k = adam_constants(lr, b1, b2, eps, wd, t);
  const int nt = st_threads_for(n * 8);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t lo, hi;
    st_share(n, 16, &lo, &hi);
    adam_run(hi - lo, p + lo, g + lo, m + lo, v + lo, &k);
  }
}

void st_adam_rows(int64_t nRows, int64_t dim, const int32_t *rowIds, const float *gradRows,
                  float *p, float *m, float *v,
                  double lr, double b1, double b2, double eps, double wd, double t) {
  const AdamK k = adam_constants(lr, b1, b2, eps, wd, t);
  const int nt = st_threads_for(nRows * dim * 8);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t r = 0; r < nRows; r++) {
    const int64_t o = (int64_t)rowIds[r] * dim;
    adam_run(dim, p + o, gradRows + r * dim, m + o, v + o, &k);
  }
}
