/*
 * Vectorisable expf and the normal CDF for GELU. libm's expf/erff are scalar calls that stop
 * GCC from vectorising a loop (libmvec needs -ffast-math, which would also break NaN checks), and
 * GELU over B*T*3072 activations is hot, so these are written as straight-line float code the
 * compiler can turn into SIMD. Accuracy (checked against double libm in the kernel tests):
 *   st_expf: < 1e-7 relative (Cephes polynomial); st_phi: < 5e-7 relative, tails included.
 */
#ifndef SLIMTEXT_FASTMATH_H
#define SLIMTEXT_FASTMATH_H

#include <stdint.h>
#include <string.h>

static inline float st_bits_to_float(int32_t i) { float f; memcpy(&f, &i, sizeof f); return f; }
static inline int32_t st_float_to_bits(float f) { int32_t i; memcpy(&i, &f, sizeof i); return i; }

/* e^(hi + lo) where lo is a small correction (|lo| << 1) carried separately so that a large
 * argument's rounding error does not become the result's relative error. Results below ~2.6e-38
 * flush to 0; above FLT_MAX give +inf; NaN stays NaN. */
static inline float st_expf2(float hi, float lo) {
  const float x = hi + lo;
  /* Clamp so the float->int conversion below stays defined (NaN and out-of-range results are
   * selected at the end; NaN still propagates through hc). */
  float xc = x < -86.5f ? -86.5f : x;
  xc = xc > 88.7228f ? 88.7228f : xc;
  xc = x == x ? xc : 0.0f;
  const float hc = hi + (xc - x);
  const float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  /* Cody-Waite: ln2 = C1 + C2 with C1 exact in 9 bits, so n*C1 and hc - n*C1 are exact. */
  float r = hc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  r = r + lo;
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  /* 2^n as (2^(n-1))*2 so that n = 128 (results near FLT_MAX) stays representable. */
  const float s = st_bits_to_float((int32_t)((uint32_t)((int32_t)n + 126) << 23));
  float y = (p * s) * 2.0f;
  y = x < -86.5f ? 0.0f : y;
  y = x > 88.7228f ? __builtin_inff() : y;
  return y;
}

static inline float st_expf(float x) { return st_expf2(x, 0.0f); }

/* -x^2/2 as hi + lo exactly (up to lo's rounding): x's top 12 bits square exactly in float. */
static inline void st_neg_half_square(float x, float *hi, float *lo) {
  const float xh = st_bits_to_float(st_float_to_bits(x) & (int32_t)0xFFFFF000);
  const float xl = x - xh;
  *hi = -0.5f * (xh * xh);
  *lo = -(xh * xl + 0.5f * (xl * xl));
}

/* Normal CDF Phi(x) = 0.5 erfc(-x/sqrt2), and with it exp(-x^2/2) for the pdf. erfc(z) for z >= 0
 * is t*exp(-z^2 + P(t)), t = 1/(1 + z/2) (Numerical Recipes' erfcc, fractional error < 1.2e-7
 * everywhere), so the negative tail keeps full relative accuracy instead of cancelling 1 - erf. */
static inline float st_phi(float x, float *gauss) {
  /* Beyond +-15 Phi is 0 or 1 in float; clamping keeps infinities out of the hi/lo split. */
  x = x < -15.0f ? -15.0f : (x > 15.0f ? 15.0f : x);
  float hi, lo;
  st_neg_half_square(x, &hi, &lo);
  const float z = (x < 0.0f ? -x : x) * 0.70710678118654752f;
  const float t = 1.0f / (1.0f + 0.5f * z);
  float q = 0.17087277f;
  q = q * t - 0.82215223f;
  q = q * t + 1.48851587f;
  q = q * t - 1.13520398f;
  q = q * t + 0.27886807f;
  q = q * t - 0.18628806f;
  q = q * t + 0.09678418f;
  q = q * t + 0.37409196f;
  q = q * t + 1.00002368f;
  q = q * t - 1.26551223f;
  const float half_erfc = 0.5f * t * st_expf2(hi, lo + q);
  if (gauss) *gauss = st_expf2(hi, lo);
  return x < 0.0f ? half_erfc : 1.0f - half_erfc;
}

#endif
