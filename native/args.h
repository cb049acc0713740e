/*
 * Reading and checking N-API arguments. Every kernel entry point reads its arguments through
 * these, so a wrong type, a bad size or a too-short array becomes a JS exception that names the
 * kernel and the sizes, never an out-of-bounds access. After the first failure the helpers do
 * nothing (an exception is pending), so a binding checks `a.failed` once before calling a kernel.
 */
#ifndef SLIMTEXT_ARGS_H
#define SLIMTEXT_ARGS_H

#include <node_api.h>
#include <stdint.h>

#define ST_MAX_ARGS 20

typedef struct {
  napi_env env;
  const char *kernel;
  size_t argc;
  napi_value argv[ST_MAX_ARGS];
  int failed;
} StArgs;

/* Reads the call's arguments; fails unless at least `expected` were given. */
int st_args_init(StArgs *a, napi_env env, napi_callback_info info, const char *kernel, size_t expected);

/* Throws Error (kind 'T' TypeError, 'R' RangeError, else Error) "kernel: message". */
void st_fail(StArgs *a, char kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* An integer in [0, max]; sizes, dimensions, counts. */
int64_t st_arg_size(StArgs *a, size_t i, const char *name, int64_t max);
/* Any number (NaN and infinities pass: they are data, not sizes). */
double st_arg_num(StArgs *a, size_t i, const char *name);
/* A boolean, or a number (non-zero is true), as the TS wrapper may pass either. */
int st_arg_flag(StArgs *a, size_t i, const char *name);
/* ToInt32 of a number, as JS `x | 0` (seeds). */
uint32_t st_arg_u32(StArgs *a, size_t i, const char *name);
/* An integer enum value in [0, max]. */
int st_arg_enum(StArgs *a, size_t i, const char *name, int max);

/* A Float32Array (or null when nullable, giving NULL and *len 0); data starts at its byte offset. */
float *st_arg_f32(StArgs *a, size_t i, const char *name, int64_t *len, int nullable);
int32_t *st_arg_i32(StArgs *a, size_t i, const char *name, int64_t *len);
int8_t *st_arg_i8(StArgs *a, size_t i, const char *name, int64_t *len);
uint8_t *st_arg_u8(StArgs *a, size_t i, const char *name, int64_t *len);

/* Fails unless an array called `name` of `len` elements holds at least `need`. */
void st_need(StArgs *a, const char *name, int64_t len, int64_t need);

/* Saturating arithmetic for required lengths (a saturated need fails st_need). */
int64_t st_mul(int64_t x, int64_t y);
int64_t st_add(int64_t x, int64_t y);

/* Elements an array must hold for a strided walk of `shape` from index 0 (all strides must keep
 * the walk at index >= 0; fails otherwise). 0 for an empty shape. */
int64_t st_strided_need(StArgs *a, const char *name, int nd, const int64_t *shape, const int64_t *strides);

/* Reads an Int32Array of dims/strides of length >= nd into out[0..nd), checking nd <= ST_MAX_DIMS. */
void st_arg_dims(StArgs *a, size_t i, const char *name, int nd, int64_t *out, int nonnegative);

#endif
