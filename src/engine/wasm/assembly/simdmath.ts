// Vectorised float32 transcendental functions (4 lanes). WebAssembly has no SIMD exp/log/erf and
// AssemblyScript's Mathf is scalar, so these are hand-written: Cephes-style range reduction plus
// minimax polynomials, each accurate to a few ulp (well inside the 1e-4 cross-backend tolerance).
// Scalar users call the vector version on a splat so vector and tail lanes agree bit for bit.
//
// Constants live in a table in linear memory and are read with v128.load32_splat (one
// vbroadcastss each): V8 rebuilds every v128 literal inside a loop with three instructions and
// never hoists them, which made exp 2.5x slower (416 vs 1050 Melem/s with 4x unrolled callers).
// The table is a static data segment: every instance (one per worker thread) writes the same bytes.

@inline
export function k4(p: usize): v128 {
  return v128.load32_splat(p);
}

@inline
function ki(p: usize, i: i32): v128 {
  return v128.load32_splat(p + (<usize>i << 2));
}

// exp: clamp bounds, log2(e), 1.5*2^23 (rounding), ln2 split in two, flush-to-zero bound
const EXP_K = memory.data<f32>([89.0, -104.0, 1.44269504088896341, 12582912.0, 0.693359375, -2.12194440e-4, -103.0]);
const EXP_P = memory.data<f32>([1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]);
const LOG_P = memory.data<f32>([
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
]);
// log: smallest normal, 2^23, sqrt(1/2)
const LOG_K = memory.data<f32>([1.17549435e-38, 8388608.0, 0.707106781186547524]);
const TANH_P = memory.data<f32>([-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1]);
// Numerical Recipes erfcc coefficients, highest degree first
const ERFC_P = memory.data<f32>([
  0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418,
  0.37409196, 1.00002368, -1.26551223,
]);
// exp(u) - (1 + u) Taylor terms, highest degree first: 1/24, 1/6, 1/2
const TAYLOR_P = memory.data<f32>([0.041666666666666667, 0.16666666666666667, 0.5]);
// 1/sqrt(2), 1/sqrt(2 pi)
const NORM_K = memory.data<f32>([0.70710678118654752, 0.39894228040143268]);
// small scalars used everywhere
export const ZERO = memory.data<f32>([0.0]);
export const HALF = memory.data<f32>([0.5]);
export const ONE = memory.data<f32>([1.0]);
export const TWO = memory.data<f32>([2.0]);
const INF = memory.data<f32>([Infinity]);
const NEG_INF = memory.data<f32>([-Infinity]);
const NAN = memory.data<f32>([NaN]);
const TANH_NEAR = memory.data<f32>([0.625]);
// integer masks: exponent bias, mantissa|sign, 0.5's exponent, sign bit, keep 12 mantissa bits
const I_127 = memory.data<i32>([127]);
const I_23 = memory.data<i32>([23]);
const I_126 = memory.data<i32>([126]);
const I_MANT = memory.data<i32>([0x807fffff]);
const I_HALF = memory.data<i32>([0x3f000000]);
const I_SIGN = memory.data<i32>([0x80000000]);
const I_HI12 = memory.data<i32>([0xfffff000]);

/** e^x per lane; overflows to +inf, underflows through denormals to 0, NaN stays NaN. */
@inline
export function expv(x: v128): v128 {
  // pmin/pmax (one instruction each) keep a NaN x as x, so NaN still comes out NaN.
  const xc = f32x4.pmax(f32x4.pmin(x, ki(EXP_K, 0)), ki(EXP_K, 1));
  // Round x*log2(e) to an integer by adding 1.5*2^23: the integer lands in the low mantissa bits.
  const magic = ki(EXP_K, 3);
  const t = f32x4.add(f32x4.mul(xc, ki(EXP_K, 2)), magic);
  const n = f32x4.sub(t, magic);
  let r = f32x4.sub(xc, f32x4.mul(n, ki(EXP_K, 4)));
  r = f32x4.sub(r, f32x4.mul(n, ki(EXP_K, 5)));
  let p = ki(EXP_P, 0);
  p = f32x4.add(f32x4.mul(p, r), ki(EXP_P, 1));
  p = f32x4.add(f32x4.mul(p, r), ki(EXP_P, 2));
  p = f32x4.add(f32x4.mul(p, r), ki(EXP_P, 3));
  p = f32x4.add(f32x4.mul(p, r), ki(EXP_P, 4));
  p = f32x4.add(f32x4.mul(p, r), ki(EXP_P, 5));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), k4(ONE));
  // 2^n in two halves so n in [-150, 128] never leaves the normal exponent range.
  const ni = i32x4.sub(t, magic);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const bias = k4(I_127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  const out = f32x4.mul(f32x4.mul(y, s1), s2);
  // Below -103 the true value rounds to 0 (also makes exp(-inf) exactly 0).
  return v128.andnot(out, f32x4.lt(x, ki(EXP_K, 6)));
}

/** Natural log per lane: log(0) = -inf, log(<0) = NaN, log(inf) = inf, denormals handled. */
@inline
export function logv(x: v128): v128 {
  // Scale denormals into the normal range first.
  const tiny = f32x4.lt(x, ki(LOG_K, 0));
  const bits = v128.bitselect(f32x4.mul(x, ki(LOG_K, 1)), x, tiny);
  let e = i32x4.sub(i32x4.shr_u(bits, 23), k4(I_126));
  e = i32x4.sub(e, v128.and(tiny, k4(I_23)));
  let m = v128.or(v128.and(bits, k4(I_MANT)), k4(I_HALF));
  // m in [0.5, 1): move to [sqrt(1/2), sqrt(2)) - 1
  const small = f32x4.lt(m, ki(LOG_K, 2));
  e = i32x4.add(e, small); // small lanes are -1 (all bits set)
  m = f32x4.sub(f32x4.add(m, v128.and(m, small)), k4(ONE));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let p = ki(LOG_P, 0);
  p = f32x4.add(f32x4.mul(p, m), ki(LOG_P, 1));
  p = f32x4.add(f32x4.mul(p, m), ki(LOG_P, 2));
  p = f32x4.add(f32x4.mul(p, m), ki(LOG_P, 3));
  p = f32x4.add(f32x4.mul(p, m), ki(LOG_P, 4));
  p = f32x4.add(f32x4.mul(p, m), ki(LOG_P, 5));
  p = f32x4.add(f32x4.mul(p, m), ki(LOG_P, 6));
  p = f32x4.add(f32x4.mul(p, m), ki(LOG_P, 7));
  p = f32x4.add(f32x4.mul(p, m), ki(LOG_P, 8));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = f32x4.add(y, f32x4.mul(ef, ki(EXP_K, 5)));
  y = f32x4.sub(y, f32x4.mul(z, k4(HALF)));
  let r = f32x4.add(f32x4.add(m, y), f32x4.mul(ef, ki(EXP_K, 4)));
  // Special values: 0 -> -inf, negative or NaN -> NaN, +inf -> +inf.
  r = v128.bitselect(k4(NEG_INF), r, f32x4.eq(x, k4(ZERO)));
  r = v128.bitselect(k4(INF), r, f32x4.eq(x, k4(INF)));
  return v128.bitselect(k4(NAN), r, v128.not(f32x4.ge(x, k4(ZERO))));
}

/** tanh per lane: odd polynomial near 0 (keeps relative accuracy), 1 - 2/(e^2|x| + 1) beyond. */
@inline
export function tanhv(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = ki(TANH_P, 0);
  p = f32x4.add(f32x4.mul(p, z), ki(TANH_P, 1));
  p = f32x4.add(f32x4.mul(p, z), ki(TANH_P, 2));
  p = f32x4.add(f32x4.mul(p, z), ki(TANH_P, 3));
  p = f32x4.add(f32x4.mul(p, z), ki(TANH_P, 4));
  const near = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const one = k4(ONE);
  const e = expv(f32x4.add(ax, ax));
  const farAbs = f32x4.sub(one, f32x4.div(k4(TWO), f32x4.add(e, one)));
  // copy the sign of x onto the far branch
  const far = v128.or(farAbs, v128.and(x, k4(I_SIGN)));
  // ax < 0.625 is false for NaN, so NaN takes the far branch, which is NaN too.
  return v128.bitselect(near, far, f32x4.lt(ax, k4(TANH_NEAR)));
}

/** 1 / (1 + e^-x) per lane. */
@inline
export function sigmoidv(x: v128): v128 {
  const one = k4(ONE);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

/** t = 1 / (1 + a / (2 sqrt 2)), the variable of the erfc fit below, for a = |x| >= 0. */
@inline
function erfcT(a: v128): v128 {
  const one = k4(ONE);
  return f32x4.div(one, f32x4.add(one, f32x4.mul(k4(HALF), f32x4.mul(a, ki(NORM_K, 0)))));
}

/** The exponent correction of Numerical Recipes' erfcc fit: erfc(z) = t exp(-z^2 + P(t)). */
@inline
function erfcP(t: v128): v128 {
  let p = ki(ERFC_P, 0);
  p = f32x4.add(f32x4.mul(p, t), ki(ERFC_P, 1));
  p = f32x4.add(f32x4.mul(p, t), ki(ERFC_P, 2));
  p = f32x4.add(f32x4.mul(p, t), ki(ERFC_P, 3));
  p = f32x4.add(f32x4.mul(p, t), ki(ERFC_P, 4));
  p = f32x4.add(f32x4.mul(p, t), ki(ERFC_P, 5));
  p = f32x4.add(f32x4.mul(p, t), ki(ERFC_P, 6));
  p = f32x4.add(f32x4.mul(p, t), ki(ERFC_P, 7));
  p = f32x4.add(f32x4.mul(p, t), ki(ERFC_P, 8));
  return f32x4.add(f32x4.mul(p, t), ki(ERFC_P, 9));
}

/** exp(-s^2/2) for s with at most 12 significant bits (s^2 is then exact in float32). */
@inline
function expHalfSquare(s: v128): v128 {
  return expv(f32x4.mul(f32x4.neg(f32x4.mul(s, s)), k4(HALF)));
}

/** -(a - s)(a + s) / 2: the rest of -a^2/2 after expHalfSquare(s). */
@inline
function halfSquareRest(a: v128, s: v128): v128 {
  return f32x4.neg(f32x4.mul(f32x4.mul(f32x4.sub(a, s), f32x4.add(a, s)), k4(HALF)));
}

/**
 * Phi(-a) = 0.5 * erfc(a / sqrt 2) for a >= 0 per lane, relative error ~1e-6 out to a = 13:
 * Numerical Recipes' erfcc Chebyshev fit (relative error 1.2e-7 everywhere), with exp(-a^2/2)
 * evaluated as exp(-s^2/2) * exp(-(a-s)(a+s)/2) where s is `a` cut to 12 significant bits, so
 * s^2 is exact: rounding a^2 ~ 100 in float32 alone would cost ~4e-6 relative in the tail.
 */
@inline
export function normTailv(a: v128): v128 {
  const t = erfcT(a);
  const s = v128.and(a, k4(I_HI12));
  const e2 = expv(f32x4.add(erfcP(t), halfSquareRest(a, s)));
  return f32x4.mul(f32x4.mul(k4(HALF), t), f32x4.mul(expHalfSquare(s), e2));
}

/** Standard normal CDF Phi(x) = 0.5 * erfc(-x / sqrt 2), accurate in both tails. */
@inline
export function normCdfv(x: v128): v128 {
  const h = normTailv(f32x4.abs(x)); // Phi(-|x|)
  return v128.bitselect(f32x4.sub(k4(ONE), h), h, f32x4.gt(x, k4(ZERO)));
}

/**
 * d/dx gelu(x) = Phi(x) + x * phi(x) per lane, sharing exp(-x^2/2) between the two terms: as in
 * normTailv, with exp(-(a-s)(a+s)/2) (an argument below 0.09 for |x| <= 13) from a 4th-degree
 * Taylor polynomial (error < 4e-8), so this costs two exps instead of three.
 */
@inline
export function geluGradv(x: v128): v128 {
  const one = k4(ONE);
  const a = f32x4.abs(x);
  const t = erfcT(a);
  const s = v128.and(a, k4(I_HI12));
  const u = halfSquareRest(a, s);
  let q = ki(TAYLOR_P, 0);
  q = f32x4.add(f32x4.mul(q, u), ki(TAYLOR_P, 1));
  q = f32x4.add(f32x4.mul(q, u), ki(TAYLOR_P, 2));
  q = f32x4.add(f32x4.mul(q, u), one);
  q = f32x4.add(f32x4.mul(q, u), one);
  const e = f32x4.mul(expHalfSquare(s), q); // exp(-x^2/2)
  const h = f32x4.mul(f32x4.mul(k4(HALF), t), f32x4.mul(e, expv(erfcP(t)))); // Phi(-|x|)
  const cdf = v128.bitselect(f32x4.sub(one, h), h, f32x4.gt(x, k4(ZERO)));
  return f32x4.add(cdf, f32x4.mul(x, f32x4.mul(e, ki(NORM_K, 1))));
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
