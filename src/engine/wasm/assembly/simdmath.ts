// Vectorised float32 transcendental functions (4 lanes). WebAssembly has no SIMD exp/log/erf and
// AssemblyScript's Mathf is scalar, so these are hand-written: Cephes-style range reduction plus
// minimax polynomials, each accurate to a few ulp (well inside the 1e-4 cross-backend tolerance).
// Scalar users call the vector version on a splat so vector and tail lanes agree bit for bit.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

/** e^x per lane; overflows to +inf, underflows through denormals to 0, NaN stays NaN. */
@inline
export function expv(x: v128): v128 {
  const xc = f32x4.max(f32x4.min(x, f32x4.splat(89.0)), f32x4.splat(-104.0));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  const y = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  // 2^n in two halves so n in [-150, 128] never leaves the normal exponent range.
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  const out = f32x4.mul(f32x4.mul(y, s1), s2);
  // Below -103 the true value rounds to 0 (also makes exp(-inf) exactly 0).
  return v128.andnot(out, f32x4.lt(x, f32x4.splat(-103.0)));
}

/** Natural log per lane: log(0) = -inf, log(<0) = NaN, log(inf) = inf, denormals handled. */
@inline
export function logv(x: v128): v128 {
  // Scale denormals into the normal range first.
  const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608.0)), x, tiny);
  const bits = xs;
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126));
  e = i32x4.sub(e, v128.and(tiny, i32x4.splat(23)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000));
  // m in [0.5, 1): move to [sqrt(1/2), sqrt(2)) - 1
  const small = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = i32x4.add(e, small); // small lanes are -1 (all bits set)
  m = f32x4.sub(f32x4.add(m, v128.and(m, small)), f32x4.splat(1.0));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = f32x4.add(y, f32x4.mul(ef, f32x4.splat(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  let r = f32x4.add(f32x4.add(m, y), f32x4.mul(ef, f32x4.splat(LN2_HI)));
  // Special values: 0 -> -inf, negative or NaN -> NaN, +inf -> +inf.
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
  r = v128.bitselect(f32x4.splat(Infinity), r, f32x4.eq(x, f32x4.splat(Infinity)));
  return v128.bitselect(f32x4.splat(NaN), r, v128.not(f32x4.ge(x, f32x4.splat(0))));
}

/** tanh per lane: odd polynomial near 0 (keeps relative accuracy), 1 - 2/(e^2|x| + 1) beyond. */
@inline
export function tanhv(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const near = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = expv(f32x4.add(ax, ax));
  const farAbs = f32x4.sub(f32x4.splat(1.0), f32x4.div(f32x4.splat(2.0), f32x4.add(e, f32x4.splat(1.0))));
  // copy the sign of x onto the far branch
  const far = v128.or(farAbs, v128.and(x, i32x4.splat(0x80000000)));
  // ax < 0.625 is false for NaN, so NaN takes the far branch, which is NaN too.
  return v128.bitselect(near, far, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** 1 / (1 + e^-x) per lane. */
@inline
export function sigmoidv(x: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), expv(f32x4.neg(x))));
}

/**
 * Phi(-a) = 0.5 * erfc(a / sqrt 2) for a >= 0 per lane, relative error ~1e-6 out to a = 13:
 * Numerical Recipes' erfcc Chebyshev fit (relative error 1.2e-7 everywhere), with exp(-a^2/2)
 * evaluated as exp(-s^2/2) * exp(-(a-s)(a+s)/2) where s is `a` cut to 12 significant bits, so
 * s^2 is exact: rounding a^2 ~ 100 in float32 alone would cost ~4e-6 relative in the tail.
 */
@inline
export function normTailv(a: v128): v128 {
  const z = f32x4.mul(a, f32x4.splat(0.70710678118654752));
  const t = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), f32x4.mul(f32x4.splat(0.5), z)));
  let p = f32x4.splat(0.17087277);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.82215223));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.48851587));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.13520398));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.27886807));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.18628806));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.09678418));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.37409196));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.00002368));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.26551223));
  const half = f32x4.splat(0.5);
  const s = v128.and(a, i32x4.splat(0xfffff000));
  const e1 = expv(f32x4.mul(f32x4.neg(f32x4.mul(s, s)), half));
  const e2 = expv(f32x4.sub(p, f32x4.mul(f32x4.mul(f32x4.sub(a, s), f32x4.add(a, s)), half)));
  return f32x4.mul(f32x4.mul(half, t), f32x4.mul(e1, e2));
}

/** Standard normal CDF Phi(x) = 0.5 * erfc(-x / sqrt 2), accurate in both tails. */
@inline
export function normCdfv(x: v128): v128 {
  const h = normTailv(f32x4.abs(x)); // Phi(-|x|)
  return v128.bitselect(f32x4.sub(f32x4.splat(1.0), h), h, f32x4.gt(x, f32x4.splat(0)));
}

/** Standard normal density phi(x) = exp(-x^2/2) / sqrt(2 pi). */
@inline
export function normPdfv(x: v128): v128 {
  return f32x4.mul(expv(f32x4.mul(f32x4.mul(x, x), f32x4.splat(-0.5))), f32x4.splat(0.39894228040143268));
}

/** exp of one float through the vector path (so tails match the vector lanes). */
@inline
export function expf1(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

/** Horizontal sum of four lanes. */
@inline
export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Horizontal max of four lanes. */
@inline
export function hmax(v: v128): f32 {
  const s = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return max(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1));
}
