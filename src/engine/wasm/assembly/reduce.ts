// Whole-array reductions with double-precision accumulation (as the contract asks), two f64x2
// accumulators per f32x4 load. The JS side zero-pads buffers to a multiple of 4 floats.

@inline
function hi(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 0, 1);
}

/** Sum of x over ceil(n/4) vectors. */
export function sum(n: i32, x: usize): f64 {
  const count = (n + 3) >> 2;
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  for (let i = 0; i < count; i++) {
    const v = v128.load(x + (<usize>i << 4));
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(hi(v)));
  }
  const s = f64x2.add(s0, s1);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** Sum of x*y (products and sums in double). */
export function dot(n: i32, x: usize, y: usize): f64 {
  const count = (n + 3) >> 2;
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 4;
    const u = v128.load(x + o);
    const w = v128.load(y + o);
    s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(u), f64x2.promote_low_f32x4(w)));
    s1 = f64x2.add(s1, f64x2.mul(f64x2.promote_low_f32x4(hi(u)), f64x2.promote_low_f32x4(hi(w))));
  }
  const s = f64x2.add(s0, s1);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** Sum of x*x (in double). */
export function sumSquares(n: i32, x: usize): f64 {
  const count = (n + 3) >> 2;
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  for (let i = 0; i < count; i++) {
    const v = v128.load(x + (<usize>i << 4));
    const l = f64x2.promote_low_f32x4(v);
    const h = f64x2.promote_low_f32x4(hi(v));
    s0 = f64x2.add(s0, f64x2.mul(l, l));
    s1 = f64x2.add(s1, f64x2.mul(h, h));
  }
  const s = f64x2.add(s0, s1);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** 1 iff every element is finite: x - x is 0 for finite x and NaN for inf/NaN, and NaN sticks. */
export function allFinite(n: i32, x: usize): i32 {
  const count = (n + 3) >> 2;
  let acc = f32x4.splat(0);
  for (let i = 0; i < count; i++) {
    const v = v128.load(x + (<usize>i << 4));
    acc = f32x4.add(acc, f32x4.sub(v, v));
  }
  return i32x4.all_true(f32x4.eq(acc, f32x4.splat(0))) ? 1 : 0;
}
