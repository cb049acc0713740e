// Element-wise kernels: unary ops and their backward, axpby, broadcasting binary ops, strided copy.
// 1-D kernels (unary*, axpby) run over whole blocks of 16 floats (4 vectors per iteration, which
// lets the CPU overlap the long dependency chains of exp/erf; 2.5x faster than one vector): the JS
// arena rounds every buffer up to 64 bytes, so lanes past n hold scratch values that are computed
// and never copied back.
// Strided kernels (binary, copyStrided) take shapes padded to 6 dimensions (leading 1s) by the
// caller, with the innermost dimension handled by SIMD when its strides allow.

import { expv, logv, tanhv, sigmoidv, normCdfv, geluGradv, k4, ZERO, HALF, ONE } from './simdmath';

const RELU = 0, TANH = 1, GELU = 2, EXP = 3, LOG = 4, NEG = 5, SQRT = 6, SQUARE = 7, SIGMOID = 8, ABS = 9;

// Each op gets its own loop function (rather than one loop around a switch): binaryen folds
// identical loops that differ only in a constant op code back into one loop with a br_table per
// vector, which halved the throughput of exp/gelu.

/** Bytes covered by the 16-float blocks holding n floats. */
@inline
function blocks(n: i32): usize {
  return <usize>((n + 15) & ~15) << 2;
}

@inline
function st4(p: usize, a: v128, b: v128, c: v128, d: v128): void {
  v128.store(p, a);
  v128.store(p, b, 16);
  v128.store(p, c, 32);
  v128.store(p, d, 48);
}

// ------------------------------------------------------------------ forward: y = f(x)

@inline
function reluF(x: v128): v128 {
  return v128.and(x, f32x4.gt(x, k4(ZERO)));
}

function reluLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, reluF(v128.load(x + o)), reluF(v128.load(x + o, 16)), reluF(v128.load(x + o, 32)), reluF(v128.load(x + o, 48)));
  }
}

@inline
function tanhF(x: v128): v128 {
  return tanhv(x);
}

function tanhLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, tanhF(v128.load(x + o)), tanhF(v128.load(x + o, 16)), tanhF(v128.load(x + o, 32)), tanhF(v128.load(x + o, 48)));
  }
}

@inline
function geluF(x: v128): v128 {
  return f32x4.mul(x, normCdfv(x));
}

function geluLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, geluF(v128.load(x + o)), geluF(v128.load(x + o, 16)), geluF(v128.load(x + o, 32)), geluF(v128.load(x + o, 48)));
  }
}

@inline
function expF(x: v128): v128 {
  return expv(x);
}

function expLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, expF(v128.load(x + o)), expF(v128.load(x + o, 16)), expF(v128.load(x + o, 32)), expF(v128.load(x + o, 48)));
  }
}

@inline
function logF(x: v128): v128 {
  return logv(x);
}

function logLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, logF(v128.load(x + o)), logF(v128.load(x + o, 16)), logF(v128.load(x + o, 32)), logF(v128.load(x + o, 48)));
  }
}

@inline
function negF(x: v128): v128 {
  return f32x4.neg(x);
}

function negLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, negF(v128.load(x + o)), negF(v128.load(x + o, 16)), negF(v128.load(x + o, 32)), negF(v128.load(x + o, 48)));
  }
}

@inline
function sqrtF(x: v128): v128 {
  return f32x4.sqrt(x);
}

function sqrtLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, sqrtF(v128.load(x + o)), sqrtF(v128.load(x + o, 16)), sqrtF(v128.load(x + o, 32)), sqrtF(v128.load(x + o, 48)));
  }
}

@inline
function squareF(x: v128): v128 {
  return f32x4.mul(x, x);
}

function squareLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, squareF(v128.load(x + o)), squareF(v128.load(x + o, 16)), squareF(v128.load(x + o, 32)), squareF(v128.load(x + o, 48)));
  }
}

@inline
function sigmoidF(x: v128): v128 {
  return sigmoidv(x);
}

function sigmoidLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, sigmoidF(v128.load(x + o)), sigmoidF(v128.load(x + o, 16)), sigmoidF(v128.load(x + o, 32)), sigmoidF(v128.load(x + o, 48)));
  }
}

@inline
function absF(x: v128): v128 {
  return f32x4.abs(x);
}

function absLoop(n: i32, x: usize, y: usize): void {
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(y + o, absF(v128.load(x + o)), absF(v128.load(x + o, 16)), absF(v128.load(x + o, 32)), absF(v128.load(x + o, 48)));
  }
}

/** y = f(x) over ceil(n/16) blocks of 16 floats. */
export function unary(op: i32, n: i32, x: usize, y: usize): void {
  switch (op) {
    case RELU: reluLoop(n, x, y); break;
    case TANH: tanhLoop(n, x, y); break;
    case GELU: geluLoop(n, x, y); break;
    case EXP: expLoop(n, x, y); break;
    case LOG: logLoop(n, x, y); break;
    case NEG: negLoop(n, x, y); break;
    case SQRT: sqrtLoop(n, x, y); break;
    case SQUARE: squareLoop(n, x, y); break;
    case SIGMOID: sigmoidLoop(n, x, y); break;
    case ABS: absLoop(n, x, y); break;
    default: break;
  }
}

// ------------------------------------------------------------------ backward: dx += f'(x) dy

@inline
function reluG(dx: v128, x: v128, _y: v128, dy: v128): v128 {
  return f32x4.add(dx, v128.and(dy, f32x4.gt(x, k4(ZERO))));
}

function reluBackLoop(n: i32, x: usize, _y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, reluG(v128.load(dx + o), v128.load(x + o), z, v128.load(dy + o)), reluG(v128.load(dx + o, 16), v128.load(x + o, 16), z, v128.load(dy + o, 16)), reluG(v128.load(dx + o, 32), v128.load(x + o, 32), z, v128.load(dy + o, 32)), reluG(v128.load(dx + o, 48), v128.load(x + o, 48), z, v128.load(dy + o, 48)));
  }
}

@inline
function tanhG(dx: v128, _x: v128, y: v128, dy: v128): v128 {
  return f32x4.add(dx, f32x4.mul(dy, f32x4.sub(k4(ONE), f32x4.mul(y, y))));
}

function tanhBackLoop(n: i32, _x: usize, y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, tanhG(v128.load(dx + o), z, v128.load(y + o), v128.load(dy + o)), tanhG(v128.load(dx + o, 16), z, v128.load(y + o, 16), v128.load(dy + o, 16)), tanhG(v128.load(dx + o, 32), z, v128.load(y + o, 32), v128.load(dy + o, 32)), tanhG(v128.load(dx + o, 48), z, v128.load(y + o, 48), v128.load(dy + o, 48)));
  }
}

@inline
function geluG(dx: v128, x: v128, _y: v128, dy: v128): v128 {
  return f32x4.add(dx, f32x4.mul(dy, geluGradv(x)));
}

function geluBackLoop(n: i32, x: usize, _y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, geluG(v128.load(dx + o), v128.load(x + o), z, v128.load(dy + o)), geluG(v128.load(dx + o, 16), v128.load(x + o, 16), z, v128.load(dy + o, 16)), geluG(v128.load(dx + o, 32), v128.load(x + o, 32), z, v128.load(dy + o, 32)), geluG(v128.load(dx + o, 48), v128.load(x + o, 48), z, v128.load(dy + o, 48)));
  }
}

@inline
function expG(dx: v128, _x: v128, y: v128, dy: v128): v128 {
  return f32x4.add(dx, f32x4.mul(dy, y));
}

function expBackLoop(n: i32, _x: usize, y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, expG(v128.load(dx + o), z, v128.load(y + o), v128.load(dy + o)), expG(v128.load(dx + o, 16), z, v128.load(y + o, 16), v128.load(dy + o, 16)), expG(v128.load(dx + o, 32), z, v128.load(y + o, 32), v128.load(dy + o, 32)), expG(v128.load(dx + o, 48), z, v128.load(y + o, 48), v128.load(dy + o, 48)));
  }
}

@inline
function logG(dx: v128, x: v128, _y: v128, dy: v128): v128 {
  return f32x4.add(dx, f32x4.div(dy, x));
}

function logBackLoop(n: i32, x: usize, _y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, logG(v128.load(dx + o), v128.load(x + o), z, v128.load(dy + o)), logG(v128.load(dx + o, 16), v128.load(x + o, 16), z, v128.load(dy + o, 16)), logG(v128.load(dx + o, 32), v128.load(x + o, 32), z, v128.load(dy + o, 32)), logG(v128.load(dx + o, 48), v128.load(x + o, 48), z, v128.load(dy + o, 48)));
  }
}

@inline
function negG(dx: v128, _x: v128, _y: v128, dy: v128): v128 {
  return f32x4.add(dx, f32x4.neg(dy));
}

function negBackLoop(n: i32, _x: usize, _y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, negG(v128.load(dx + o), z, z, v128.load(dy + o)), negG(v128.load(dx + o, 16), z, z, v128.load(dy + o, 16)), negG(v128.load(dx + o, 32), z, z, v128.load(dy + o, 32)), negG(v128.load(dx + o, 48), z, z, v128.load(dy + o, 48)));
  }
}

@inline
function sqrtG(dx: v128, _x: v128, y: v128, dy: v128): v128 {
  return f32x4.add(dx, f32x4.div(f32x4.mul(dy, k4(HALF)), y));
}

function sqrtBackLoop(n: i32, _x: usize, y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, sqrtG(v128.load(dx + o), z, v128.load(y + o), v128.load(dy + o)), sqrtG(v128.load(dx + o, 16), z, v128.load(y + o, 16), v128.load(dy + o, 16)), sqrtG(v128.load(dx + o, 32), z, v128.load(y + o, 32), v128.load(dy + o, 32)), sqrtG(v128.load(dx + o, 48), z, v128.load(y + o, 48), v128.load(dy + o, 48)));
  }
}

@inline
function squareG(dx: v128, x: v128, _y: v128, dy: v128): v128 {
  return f32x4.add(dx, f32x4.mul(dy, f32x4.add(x, x)));
}

function squareBackLoop(n: i32, x: usize, _y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, squareG(v128.load(dx + o), v128.load(x + o), z, v128.load(dy + o)), squareG(v128.load(dx + o, 16), v128.load(x + o, 16), z, v128.load(dy + o, 16)), squareG(v128.load(dx + o, 32), v128.load(x + o, 32), z, v128.load(dy + o, 32)), squareG(v128.load(dx + o, 48), v128.load(x + o, 48), z, v128.load(dy + o, 48)));
  }
}

@inline
function sigmoidG(dx: v128, _x: v128, y: v128, dy: v128): v128 {
  return f32x4.add(dx, f32x4.mul(dy, f32x4.mul(y, f32x4.sub(k4(ONE), y))));
}

function sigmoidBackLoop(n: i32, _x: usize, y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, sigmoidG(v128.load(dx + o), z, v128.load(y + o), v128.load(dy + o)), sigmoidG(v128.load(dx + o, 16), z, v128.load(y + o, 16), v128.load(dy + o, 16)), sigmoidG(v128.load(dx + o, 32), z, v128.load(y + o, 32), v128.load(dy + o, 32)), sigmoidG(v128.load(dx + o, 48), z, v128.load(y + o, 48), v128.load(dy + o, 48)));
  }
}

@inline
function absG(dx: v128, x: v128, _y: v128, dy: v128): v128 {
  return f32x4.add(dx, f32x4.mul(dy, f32x4.sub(v128.and(f32x4.gt(x, k4(ZERO)), k4(ONE)), v128.and(f32x4.lt(x, k4(ZERO)), k4(ONE)))));
}

function absBackLoop(n: i32, x: usize, _y: usize, dy: usize, dx: usize): void {
  const z = f32x4.splat(0);
  for (let o: usize = 0, e = blocks(n); o < e; o += 64) {
    st4(dx + o, absG(v128.load(dx + o), v128.load(x + o), z, v128.load(dy + o)), absG(v128.load(dx + o, 16), v128.load(x + o, 16), z, v128.load(dy + o, 16)), absG(v128.load(dx + o, 32), v128.load(x + o, 32), z, v128.load(dy + o, 32)), absG(v128.load(dx + o, 48), v128.load(x + o, 48), z, v128.load(dy + o, 48)));
  }
}

/** dx += f'(x) * dy over ceil(n/16) blocks of 16 floats (x, y unread by ops that do not need them). */
export function unaryBackward(op: i32, n: i32, x: usize, y: usize, dy: usize, dx: usize): void {
  switch (op) {
    case RELU: reluBackLoop(n, x, y, dy, dx); break;
    case TANH: tanhBackLoop(n, x, y, dy, dx); break;
    case GELU: geluBackLoop(n, x, y, dy, dx); break;
    case EXP: expBackLoop(n, x, y, dy, dx); break;
    case LOG: logBackLoop(n, x, y, dy, dx); break;
    case NEG: negBackLoop(n, x, y, dy, dx); break;
    case SQRT: sqrtBackLoop(n, x, y, dy, dx); break;
    case SQUARE: squareBackLoop(n, x, y, dy, dx); break;
    case SIGMOID: sigmoidBackLoop(n, x, y, dy, dx); break;
    case ABS: absBackLoop(n, x, y, dy, dx); break;
    default: break;
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

// Transpose-like copies (one side strided in the inner dimension, the other contiguous in the
// next one) in TILE x TILE tiles, so each strided cache line is reused TILE times instead of
// being fetched again for every row.
const TILE = 16;

@inline
function copyTiled(acc: bool, rows: i32, n: i32, src: usize, srb: usize, ssb: usize, dst: usize, drb: usize, dsb: usize, alpha: f32): void {
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = min(i0 + TILE, rows);
    for (let j0 = 0; j0 < n; j0 += TILE) {
      const cnt = min(TILE, n - j0);
      for (let i = i0; i < i1; i++) {
        let ps = src + <usize>i * srb + <usize>j0 * ssb;
        let pd = dst + <usize>i * drb + <usize>j0 * dsb;
        for (let j = 0; j < cnt; j++) {
          let r = alpha * load<f32>(ps);
          if (acc) r += load<f32>(pd);
          store<f32>(pd, r);
          ps += ssb;
          pd += dsb;
        }
      }
    }
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
  // One side walks the inner dimension with a stride while the other is contiguous in the next.
  const tiled = s4 > 1 && n > 1 && ((ds == 1 && ss > 1 && a4 == 4) || (ss == 1 && ds > 1 && b4 == 4));
  for (let i0 = 0; i0 < s0; i0++) {
    const ps0 = src + <usize>i0 * a0, pd0 = dst + <usize>i0 * b0;
    for (let i1 = 0; i1 < s1; i1++) {
      const ps1 = ps0 + <usize>i1 * a1, pd1 = pd0 + <usize>i1 * b1;
      for (let i2 = 0; i2 < s2; i2++) {
        const ps2 = ps1 + <usize>i2 * a2, pd2 = pd1 + <usize>i2 * b2;
        for (let i3 = 0; i3 < s3; i3++) {
          const ps3 = ps2 + <usize>i3 * a3, pd3 = pd2 + <usize>i3 * b3;
          if (tiled) {
            copyTiled(acc, s4, n, ps3, a4, <usize>ss << 2, pd3, b4, <usize>ds << 2, alpha);
            continue;
          }
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
