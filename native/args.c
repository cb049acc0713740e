#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include "args.h"
#include "kernels.h"

int st_args_init(StArgs *a, napi_env env, napi_callback_info info, const char *kernel, size_t expected) {
  a->env = env;
  a->kernel = kernel;
  a->failed = 0;
  a->argc = ST_MAX_ARGS;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok) {
    st_fail(a, 'E', "could not read arguments");
    return 0;
  }
  if (a->argc < expected) {
    st_fail(a, 'T', "expected %zu arguments, got %zu", expected, a->argc);
    return 0;
  }
  return 1;
}

void st_fail(StArgs *a, char kind, const char *fmt, ...) {
  if (a->failed) return;
  a->failed = 1;
  char msg[512];
  int k = snprintf(msg, sizeof msg, "%s: ", a->kernel);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
  va_end(ap);
  if (kind == 'T') napi_throw_type_error(a->env, NULL, msg);
  else if (kind == 'R') napi_throw_range_error(a->env, NULL, msg);
  else napi_throw_error(a->env, NULL, msg);
}

static int is_type(StArgs *a, size_t i, napi_valuetype want) {
  napi_valuetype t;
  return i < a->argc && napi_typeof(a->env, a->argv[i], &t) == napi_ok && t == want;
}

double st_arg_num(StArgs *a, size_t i, const char *name) {
  double v = 0;
  if (a->failed) return 0;
  if (!is_type(a, i, napi_number) || napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) {
    st_fail(a, 'T', "%s (argument %zu) must be a number", name, i + 1);
    return 0;
  }
  return v;
}

int64_t st_arg_size(StArgs *a, size_t i, const char *name, int64_t max) {
  const double v = st_arg_num(a, i, name);
  if (a->failed) return 0;
  if (!(v >= 0 && v == floor(v) && v <= (double)max)) {
    st_fail(a, 'R', "%s must be an integer in [0, %lld], got %g", name, (long long)max, v);
    return 0;
  }
  return (int64_t)v;
}

int st_arg_flag(StArgs *a, size_t i, const char *name) {
  if (a->failed) return 0;
  if (is_type(a, i, napi_boolean)) {
    bool b = false;
    napi_get_value_bool(a->env, a->argv[i], &b);
    return b ? 1 : 0;
  }
  if (is_type(a, i, napi_number)) {
    double v = 0;
    napi_get_value_double(a->env, a->argv[i], &v);
    return v != 0 ? 1 : 0;
  }
  st_fail(a, 'T', "%s (argument %zu) must be a boolean", name, i + 1);
  return 0;
}

uint32_t st_arg_u32(StArgs *a, size_t i, const char *name) {
  int32_t v = 0;
  if (a->failed) return 0;
  if (!is_type(a, i, napi_number) || napi_get_value_int32(a->env, a->argv[i], &v) != napi_ok) {
    st_fail(a, 'T', "%s (argument %zu) must be a number", name, i + 1);
    return 0;
  }
  return (uint32_t)v;
}

int st_arg_enum(StArgs *a, size_t i, const char *name, int max) {
  return (int)st_arg_size(a, i, name, max);
}

static void *typed(StArgs *a, size_t i, const char *name, napi_typedarray_type want, const char *want_name,
                   int64_t *len, int nullable) {
  *len = 0;
  if (a->failed) return NULL;
  if (nullable && (is_type(a, i, napi_null) || is_type(a, i, napi_undefined))) return NULL;
  bool ok = false;
  if (i < a->argc) napi_is_typedarray(a->env, a->argv[i], &ok);
  napi_typedarray_type t;
  size_t n = 0;
  void *data = NULL;
  /* N-API's data pointer already includes the view's byte offset. */
  if (!ok || napi_get_typedarray_info(a->env, a->argv[i], &t, &n, &data, NULL, NULL) != napi_ok || t != want) {
    st_fail(a, 'T', "%s (argument %zu) must be a %s%s", name, i + 1, want_name, nullable ? " or null" : "");
    return NULL;
  }
  *len = (int64_t)n;
  return data;
}

float *st_arg_f32(StArgs *a, size_t i, const char *name, int64_t *len, int nullable) {
  return (float *)typed(a, i, name, napi_float32_array, "Float32Array", len, nullable);
}

int32_t *st_arg_i32(StArgs *a, size_t i, const char *name, int64_t *len) {
  return (int32_t *)typed(a, i, name, napi_int32_array, "Int32Array", len, 0);
}

int8_t *st_arg_i8(StArgs *a, size_t i, const char *name, int64_t *len) {
  return (int8_t *)typed(a, i, name, napi_int8_array, "Int8Array", len, 0);
}

uint8_t *st_arg_u8(StArgs *a, size_t i, const char *name, int64_t *len) {
  return (uint8_t *)typed(a, i, name, napi_uint8_array, "Uint8Array", len, 0);
}

void st_need(StArgs *a, const char *name, int64_t len, int64_t need) {
  if (a->failed || len >= need) return;
  if (need == INT64_MAX) st_fail(a, 'R', "%s would need more elements than can be addressed", name);
  else st_fail(a, 'R', "%s has %lld elements, needs %lld", name, (long long)len, (long long)need);
}

int64_t st_mul(int64_t x, int64_t y) {
  int64_t r;
  return __builtin_mul_overflow(x, y, &r) ? INT64_MAX : r;
}

int64_t st_add(int64_t x, int64_t y) {
  int64_t r;
  if (x == INT64_MAX || y == INT64_MAX) return INT64_MAX;
  return __builtin_add_overflow(x, y, &r) ? INT64_MAX : r;
}

int64_t st_strided_need(StArgs *a, const char *name, int nd, const int64_t *shape, const int64_t *strides) {
  if (a->failed) return 0;
  for (int d = 0; d < nd; d++)
    if (shape[d] == 0) return 0;
  int64_t lo = 0, hi = 0;
  for (int d = 0; d < nd; d++) {
    const int64_t step = st_mul(strides[d] < 0 ? -strides[d] : strides[d], shape[d] - 1);
    if (strides[d] >= 0) hi = st_add(hi, step);
    else lo = st_add(lo, step);
  }
  if (lo != 0) {
    st_fail(a, 'R', "%s strides reach %lld elements before the start of the array", name, (long long)lo);
    return 0;
  }
  return st_add(hi, 1);
}

void st_arg_dims(StArgs *a, size_t i, const char *name, int nd, int64_t *out, int nonnegative) {
  int64_t len;
  const int32_t *v = st_arg_i32(a, i, name, &len);
  if (a->failed) return;
  if (nd > ST_MAX_DIMS) {
    st_fail(a, 'R', "%d dimensions, at most %d are supported", nd, ST_MAX_DIMS);
    return;
  }
  if (len < nd) {
    st_fail(a, 'R', "%s has %lld entries, needs %d (one per dimension)", name, (long long)len, nd);
    return;
  }
  for (int d = 0; d < nd; d++) {
    if (nonnegative && v[d] < 0) {
      st_fail(a, 'R', "%s[%d] is %d, must be >= 0", name, d, v[d]);
      return;
    }
    out[d] = v[d];
  }
}
