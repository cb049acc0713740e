// Element-wise kernels: unary ops and their backward, axpby, broadcasting binary ops, strided copy.
// 1-D kernels (unary*, axpby) run over whole vectors: the JS side pads every buffer to a multiple of
// 4 floats, so lanes past n hold scratch values that are computed and never copied back.
// Strided kernels (binary, copyStrided) take shapes padded to 6 dimensions (leading 1s) by the
// caller, with the innermost dimension handled by SIMD when its strides allow.

import { expv, logv, tanhv, sigmoidv, normCdfv, normPdfv } from './simdmath';

const RELU = 0, TANH = 1, GELU = 2, EXP = 3, LOG = 4, NEG = 5, SQRT = 6, SQUARE = 7, SIGMOID = 8, ABS = 9;

@inline
function unaryOne(op: i32, x: v128): v128 {
  switch (op) {
    case RELU: return v128.and(x, f32x4.gt(x, f32x4.splat(0)));
    case TANH: return tanhv(x);
    case GELU: return f32x4.mul(x, normCdfv(x));
    case EXP: return expv(x);
    case LOG: return logv(x);
    case NEG: return f32x4.neg(x);
    case SQRT: return f32x4.sqrt(x);
    case SQUARE: return f32x4.mul(x, x);
    case SIGMOID: return sigmoidv(x);
    default: return f32x4.abs(x);
  }
}

// f'(x) * dy, given x, y = f(x), dy.
@inline
function unaryGrad(op: i32, x: v128, y: v128, dy: v128): v128 {
  const one = f32x4.splat(1.0);
  switch (op) {
    case RELU: return v128.and(dy, f32x4.gt(x, f32x4.splat(0)));
    case TANH: return f32x4.mul(dy, f32x4.sub(one, f32x4.mul(y, y)));
    case GELU: return f32x4.mul(dy, f32x4.add(normCdfv(x), f32x4.mul(x, normPdfv(x))));
    case EXP: return f32x4.mul(dy, y);
    case LOG: return f32x4.div(dy, x);
    case NEG: return f32x4.neg(dy);
    case SQRT: return f32x4.div(f32x4.mul(dy, f32x4.splat(0.5)), y);
    case SQUARE: return f32x4.mul(dy, f32x4.add(x, x));
    case SIGMOID: return f32x4.mul(dy, f32x4.mul(y, f32x4.sub(one, y)));
    default: {
      const sign = f32x4.sub(v128.and(f32x4.gt(x, f32x4.splat(0)), one), v128.and(f32x4.lt(x, f32x4.splat(0)), one));
      return f32x4.mul(dy, sign);
    }
  }
}

@inline
function unaryLoop(op: i32, n: i32, x: usize, y: usize): void {
  const end = x + <usize>((n + 3) & ~3) * 4;
  while (x < end) {
    v128.store(y, unaryOne(op, v128.load(x)));
    x += 16;
    y += 16;
  }
}

/** y = f(x) over ceil(n/4) vectors. */
export function unary(op: i32, n: i32, x: usize, y: usize): void {
  switch (op) {
    case RELU: unaryLoop(RELU, n, x, y); break;
    case TANH: unaryLoop(TANH, n, x, y); break;
    case GELU: unaryLoop(GELU, n, x, y); break;
    case EXP: unaryLoop(EXP, n, x, y); break;
    case LOG: unaryLoop(LOG, n, x, y); break;
    case NEG: unaryLoop(NEG, n, x, y); break;
    case SQRT: unaryLoop(SQRT, n, x, y); break;
    case SQUARE: unaryLoop(SQUARE, n, x, y); break;
    case SIGMOID: unaryLoop(SIGMOID, n, x, y); break;
    default: unaryLoop(ABS, n, x, y); break;
  }
}

@inline
function unaryBackLoop(op: i32, n: i32, x: usize, y: usize, dy: usize, dx: usize): void {
  const count = (n + 3) >> 2;
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 4;
    // x or y may be 0 (not copied) for ops that do not read them; the loads are then harmless.
    const g = unaryGrad(op, v128.load(x + o), v128.load(y + o), v128.load(dy + o));
    v128.store(dx + o, f32x4.add(v128.load(dx + o), g));
  }
}

/** dx += f'(x) * dy over ceil(n/4) vectors. */
export function unaryBackward(op: i32, n: i32, x: usize, y: usize, dy: usize, dx: usize): void {
  switch (op) {
    case RELU: unaryBackLoop(RELU, n, x, y, dy, dx); break;
    case TANH: unaryBackLoop(TANH, n, x, y, dy, dx); break;
    case GELU: unaryBackLoop(GELU, n, x, y, dy, dx); break;
    case EXP: unaryBackLoop(EXP, n, x, y, dy, dx); break;
    case LOG: unaryBackLoop(LOG, n, x, y, dy, dx); break;
    case NEG: unaryBackLoop(NEG, n, x, y, dy, dx); break;
    case SQRT: unaryBackLoop(SQRT, n, x, y, dy, dx); break;
    case SQUARE: unaryBackLoop(SQUARE, n, x, y, dy, dx); break;
    case SIGMOID: unaryBackLoop(SIGMOID, n, x, y, dy, dx); break;
    default: unaryBackLoop(ABS, n, x, y, dy, dx); break;
  }
}

/** y = alpha*x + beta*y over ceil(n/4) vectors; beta == 0 never reads y. */
export function axpby(n: i32, alpha: f32, x: usize, beta: f32, y: usize): void {
  const count = (n + 3) >> 2;
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  if (beta == 0) {
    for (let i = 0; i < count; i++) {
      const o = <usize>i << 4;
      v128.store(y + o, f32x4.mul(va, v128.load(x + o)));
    }
  } else {
    for (let i = 0; i < count; i++) {
      const o = <usize>i << 4;
      v128.store(y + o, f32x4.add(f32x4.mul(va, v128.load(x + o)), f32x4.mul(vb, v128.load(y + o))));
    }
  }
}

// ------------------------------------------------------------------ binary with broadcasting

@inline
function binOp(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    default: return f32x4.div(a, b);
  }
}

@inline
function binOp1(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    default: return a / b;
  }
}

@inline
function binaryInner(op: i32, acc: bool, n: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let r = binOp(op, v128.load(a + o), v128.load(b + o));
      if (acc) r = f32x4.add(v128.load(out + o), r);
      v128.store(out + o, r);
    }
  } else if (sa == 1 && sb == 0) {
    const vb = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let r = binOp(op, v128.load(a + o), vb);
      if (acc) r = f32x4.add(v128.load(out + o), r);
      v128.store(out + o, r);
    }
  } else if (sa == 0 && sb == 1) {
    const va = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let r = binOp(op, va, v128.load(b + o));
      if (acc) r = f32x4.add(v128.load(out + o), r);
      v128.store(out + o, r);
    }
  }
  const sab = <usize>sa << 2;
  const sbb = <usize>sb << 2;
  let pa = a + <usize>i * sab;
  let pb = b + <usize>i * sbb;
  for (; i < n; i++) {
    const p = out + (<usize>i << 2);
    let r = binOp1(op, load<f32>(pa), load<f32>(pb));
    if (acc) r += load<f32>(p);
    store<f32>(p, r);
    pa += sab;
    pb += sbb;
  }
}

@inline
function binaryLoops(op: i32, acc: bool, dims: usize, a: usize, b: usize, out: usize): void {
  // dims: shape[6], aStrides[6], bStrides[6] as i32
  const s0 = load<i32>(dims), s1 = load<i32>(dims, 4), s2 = load<i32>(dims, 8);
  const s3 = load<i32>(dims, 12), s4 = load<i32>(dims, 16), n = load<i32>(dims, 20);
  const a0 = <usize>load<i32>(dims, 24) << 2, a1 = <usize>load<i32>(dims, 28) << 2, a2 = <usize>load<i32>(dims, 32) << 2;
  const a3 = <usize>load<i32>(dims, 36) << 2, a4 = <usize>load<i32>(dims, 40) << 2, sa = load<i32>(dims, 44);
  const b0 = <usize>load<i32>(dims, 48) << 2, b1 = <usize>load<i32>(dims, 52) << 2, b2 = <usize>load<i32>(dims, 56) << 2;
  const b3 = <usize>load<i32>(dims, 60) << 2, b4 = <usize>load<i32>(dims, 64) << 2, sb = load<i32>(dims, 68);
  const rowBytes = <usize>n << 2;
  for (let i0 = 0; i0 < s0; i0++) {
    const pa0 = a + <usize>i0 * a0, pb0 = b + <usize>i0 * b0;
    for (let i1 = 0; i1 < s1; i1++) {
      const pa1 = pa0 + <usize>i1 * a1, pb1 = pb0 + <usize>i1 * b1;
      for (let i2 = 0; i2 < s2; i2++) {
        const pa2 = pa1 + <usize>i2 * a2, pb2 = pb1 + <usize>i2 * b2;
        for (let i3 = 0; i3 < s3; i3++) {
          const pa3 = pa2 + <usize>i3 * a3, pb3 = pb2 + <usize>i3 * b3;
          for (let i4 = 0; i4 < s4; i4++) {
            binaryInner(op, acc, n, pa3 + <usize>i4 * a4, sa, pb3 + <usize>i4 * b4, sb, out);
            out += rowBytes;
          }
        }
      }
    }
  }
}

/** out (=|+=) a op b over a 6-D index space; `dims` holds shape, aStrides, bStrides (i32 x 18). */
export function binary(op: i32, dims: usize, a: usize, b: usize, out: usize, accumulate: i32): void {
  if (accumulate != 0) {
    switch (op) {
      case 0: binaryLoops(0, true, dims, a, b, out); break;
      case 1: binaryLoops(1, true, dims, a, b, out); break;
      case 2: binaryLoops(2, true, dims, a, b, out); break;
      default: binaryLoops(3, true, dims, a, b, out); break;
    }
  } else {
    switch (op) {
      case 0: binaryLoops(0, false, dims, a, b, out); break;
      case 1: binaryLoops(1, false, dims, a, b, out); break;
      case 2: binaryLoops(2, false, dims, a, b, out); break;
      default: binaryLoops(3, false, dims, a, b, out); break;
    }
  }
}

// ------------------------------------------------------------------ strided copy / reduce

@inline
function copyInner(acc: bool, n: i32, src: usize, ss: i32, dst: usize, ds: i32, alpha: f32): void {
  let i = 0;
  if (ss == 1 && ds == 1) {
    if (!acc && alpha == 1) {
      memory.copy(dst, src, <usize>n << 2);
      return;
    }
    const va = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let r = f32x4.mul(va, v128.load(src + o));
      if (acc) r = f32x4.add(v128.load(dst + o), r);
      v128.store(dst + o, r);
    }
  } else if (ds == 0 && acc) {
    // Reduction along the inner dimension (backward of broadcasting).
    let total: f32 = 0;
    if (ss == 1) {
      let vs = f32x4.splat(0);
      for (; i + 4 <= n; i += 4) vs = f32x4.add(vs, v128.load(src + (<usize>i << 2)));
      total = f32x4.extract_lane(vs, 0) + f32x4.extract_lane(vs, 1) + f32x4.extract_lane(vs, 2) + f32x4.extract_lane(vs, 3);
    }
    const ssb = <usize>ss << 2;
    let ps = src + <usize>i * ssb;
    for (; i < n; i++) {
      total += load<f32>(ps);
      ps += ssb;
    }
    store<f32>(dst, load<f32>(dst) + alpha * total);
    return;
  }
  const ssb = <usize>ss << 2;
  const dsb = <usize>ds << 2;
  let ps = src + <usize>i * ssb;
  let pd = dst + <usize>i * dsb;
  for (; i < n; i++) {
    let r = alpha * load<f32>(ps);
    if (acc) r += load<f32>(pd);
    store<f32>(pd, r);
    ps += ssb;
    pd += dsb;
  }
}

@inline
function copyLoops(acc: bool, dims: usize, src: usize, dst: usize, alpha: f32): void {
  // dims: shape[6], srcStrides[6], dstStrides[6] as i32
  const s0 = load<i32>(dims), s1 = load<i32>(dims, 4), s2 = load<i32>(dims, 8);
  const s3 = load<i32>(dims, 12), s4 = load<i32>(dims, 16), n = load<i32>(dims, 20);
  const a0 = <usize>load<i32>(dims, 24) << 2, a1 = <usize>load<i32>(dims, 28) << 2, a2 = <usize>load<i32>(dims, 32) << 2;
  const a3 = <usize>load<i32>(dims, 36) << 2, a4 = <usize>load<i32>(dims, 40) << 2, ss = load<i32>(dims, 44);
  const b0 = <usize>load<i32>(dims, 48) << 2, b1 = <usize>load<i32>(dims, 52) << 2, b2 = <usize>load<i32>(dims, 56) << 2;
  const b3 = <usize>load<i32>(dims, 60) << 2, b4 = <usize>load<i32>(dims, 64) << 2, ds = load<i32>(dims, 68);
  for (let i0 = 0; i0 < s0; i0++) {
    const ps0 = src + <usize>i0 * a0, pd0 = dst + <usize>i0 * b0;
    for (let i1 = 0; i1 < s1; i1++) {
      const ps1 = ps0 + <usize>i1 * a1, pd1 = pd0 + <usize>i1 * b1;
      for (let i2 = 0; i2 < s2; i2++) {
        const ps2 = ps1 + <usize>i2 * a2, pd2 = pd1 + <usize>i2 * b2;
        for (let i3 = 0; i3 < s3; i3++) {
          const ps3 = ps2 + <usize>i3 * a3, pd3 = pd2 + <usize>i3 * b3;
          for (let i4 = 0; i4 < s4; i4++) {
            copyInner(acc, n, ps3 + <usize>i4 * a4, ss, pd3 + <usize>i4 * b4, ds, alpha);
          }
        }
      }
    }
  }
}

/** dst[i . dstStrides] (=|+=) alpha * src[i . srcStrides]; `dims` as in `binary`. */
export function copyStrided(dims: usize, src: usize, dst: usize, alpha: f32, accumulate: i32): void {
  if (accumulate != 0) copyLoops(true, dims, src, dst, alpha);
  else copyLoops(false, dims, src, dst, alpha);
}
