// Row-wise kernels over the last dimension: softmax, log-softmax, layer norm and their backward.
// Rows are contiguous (stride = cols), so each row runs 4 lanes at a time with a scalar tail that
// goes through the same vector math (on a splat) so every column is computed the same way.

import { expv, logv, hsum, hmax } from './simdmath';

@inline
function rowMax(cols: i32, x: usize): f32 {
  let j = 0;
  let m: f32 = -Infinity;
  if (cols >= 4) {
    let vm = v128.load(x);
    for (j = 4; j + 4 <= cols; j += 4) vm = f32x4.pmax(vm, v128.load(x + (<usize>j << 2)));
    m = hmax(vm);
  }
  for (; j < cols; j++) m = max(m, load<f32>(x + (<usize>j << 2)));
  return m;
}

// Writes e^(x - shift) to y (when y != 0) and returns its sum.
@inline
function expShiftSum(cols: i32, x: usize, shift: f32, y: usize): f32 {
  const vs = f32x4.splat(shift);
  let acc = f32x4.splat(0);
  let j = 0;
  // Four independent exp chains per iteration (see elementwise.ts), then single vectors.
  if (cols >= 16) {
    let a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (; j + 16 <= cols; j += 16) {
      const o = <usize>j << 2;
      const e0 = expv(f32x4.sub(v128.load(x + o), vs));
      const e1 = expv(f32x4.sub(v128.load(x + o, 16), vs));
      const e2 = expv(f32x4.sub(v128.load(x + o, 32), vs));
      const e3 = expv(f32x4.sub(v128.load(x + o, 48), vs));
      if (y != 0) {
        v128.store(y + o, e0);
        v128.store(y + o, e1, 16);
        v128.store(y + o, e2, 32);
        v128.store(y + o, e3, 48);
      }
      acc = f32x4.add(acc, e0);
      a1 = f32x4.add(a1, e1);
      a2 = f32x4.add(a2, e2);
      a3 = f32x4.add(a3, e3);
    }
    acc = f32x4.add(f32x4.add(acc, a1), f32x4.add(a2, a3));
  }
  for (; j + 4 <= cols; j += 4) {
    const o = <usize>j << 2;
    const e = expv(f32x4.sub(v128.load(x + o), vs));
    if (y != 0) v128.store(y + o, e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum(acc);
  for (; j < cols; j++) {
    const o = <usize>j << 2;
    const e = f32x4.extract_lane(expv(f32x4.splat(load<f32>(x + o) - shift)), 0);
    if (y != 0) store<f32>(y + o, e);
    s += e;
  }
  return s;
}

@inline
function rowDot(cols: i32, a: usize, b: usize): f32 {
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    const o = <usize>j << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = hsum(acc);
  for (; j < cols; j++) s += load<f32>(a + (<usize>j << 2)) * load<f32>(b + (<usize>j << 2));
  return s;
}

@inline
function rowSum(cols: i32, a: usize): f32 {
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= cols; j += 4) acc = f32x4.add(acc, v128.load(a + (<usize>j << 2)));
  let s = hsum(acc);
  for (; j < cols; j++) s += load<f32>(a + (<usize>j << 2));
  return s;
}

export function softmax(rows: i32, cols: i32, x: usize, y: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const m = rowMax(cols, x);
    const s = expShiftSum(cols, x, m, y);
    const inv = f32x4.splat(<f32>1 / s);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(y + o, f32x4.mul(v128.load(y + o), inv));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(y + o, load<f32>(y + o) * f32x4.extract_lane(inv, 0));
    }
    x += rowBytes;
    y += rowBytes;
  }
}

/** dx += y * (dy - sum(dy*y)) per row. */
export function softmaxBackward(rows: i32, cols: i32, y: usize, dy: usize, dx: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const s = rowDot(cols, dy, y);
    const vs = f32x4.splat(s);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      const g = f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(dy + o), vs));
      v128.store(dx + o, f32x4.add(v128.load(dx + o), g));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(dx + o, load<f32>(dx + o) + load<f32>(y + o) * (load<f32>(dy + o) - s));
    }
    y += rowBytes;
    dy += rowBytes;
    dx += rowBytes;
  }
}

/** y = x - max - log(sum(exp(x - max))) per row. */
export function logSoftmax(rows: i32, cols: i32, x: usize, y: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const m = rowMax(cols, x);
    const s = expShiftSum(cols, x, m, 0);
    const shift = m + f32x4.extract_lane(logv(f32x4.splat(s)), 0);
    const vs = f32x4.splat(shift);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(y + o, f32x4.sub(v128.load(x + o), vs));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(y + o, load<f32>(x + o) - shift);
    }
    x += rowBytes;
    y += rowBytes;
  }
}

/** dx += dy - exp(y) * sum(dy) per row (y is the log-softmax output). */
export function logSoftmaxBackward(rows: i32, cols: i32, y: usize, dy: usize, dx: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const s = rowSum(cols, dy);
    const vs = f32x4.splat(s);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      const g = f32x4.sub(v128.load(dy + o), f32x4.mul(expv(v128.load(y + o)), vs));
      v128.store(dx + o, f32x4.add(v128.load(dx + o), g));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      const e = f32x4.extract_lane(expv(f32x4.splat(load<f32>(y + o))), 0);
      store<f32>(dx + o, load<f32>(dx + o) + load<f32>(dy + o) - e * s);
    }
    y += rowBytes;
    dy += rowBytes;
    dx += rowBytes;
  }
}

/** y = (x - mu) * rstd * gamma + beta over one row, the variance taken about mu (second pass); returns rstd. y may be x. */
@inline
export function lnApply(cols: i32, x: usize, mu: f32, gamma: usize, beta: usize, eps: f32, y: usize): f32 {
  const invCols: f32 = <f32>1 / <f32>cols;
  const vmu = f32x4.splat(mu);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    const d = f32x4.sub(v128.load(x + (<usize>j << 2)), vmu);
    acc = f32x4.add(acc, f32x4.mul(d, d));
  }
  let ss = hsum(acc);
  for (; j < cols; j++) {
    const d = load<f32>(x + (<usize>j << 2)) - mu;
    ss += d * d;
  }
  const rs: f32 = <f32>1 / Mathf.sqrt(ss * invCols + eps);
  const vrs = f32x4.splat(rs);
  j = 0;
  for (; j + 4 <= cols; j += 4) {
    const o = <usize>j << 2;
    const xh = f32x4.mul(f32x4.sub(v128.load(x + o), vmu), vrs);
    v128.store(y + o, f32x4.add(f32x4.mul(xh, v128.load(gamma + o)), v128.load(beta + o)));
  }
  for (; j < cols; j++) {
    const o = <usize>j << 2;
    store<f32>(y + o, (load<f32>(x + o) - mu) * rs * load<f32>(gamma + o) + load<f32>(beta + o));
  }
  return rs;
}

/** y = (x - mean) * rstd * gamma + beta per row; writes mean[rows], rstd[rows]. Two-pass variance. */
export function layerNorm(rows: i32, cols: i32, x: usize, gamma: usize, beta: usize, eps: f32, y: usize, mean: usize, rstd: usize): void {
  const rowBytes = <usize>cols << 2;
  const invCols: f32 = <f32>1 / <f32>cols;
  for (let r = 0; r < rows; r++) {
    const mu = rowSum(cols, x) * invCols;
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), lnApply(cols, x, mu, gamma, beta, eps, y));
    x += rowBytes;
    y += rowBytes;
  }
}

/**
 * Accumulates dx, dgamma, dbeta (a pointer of 0 skips that output):
 *   xhat = (x - mean) * rstd; g = dy * gamma
 *   dx += rstd * (g - mean(g) - xhat * mean(g * xhat)); dgamma += dy * xhat; dbeta += dy
 */
export function layerNormBackward(
  rows: i32, cols: i32, x: usize, gamma: usize, mean: usize, rstd: usize, dy: usize,
  dx: usize, dgamma: usize, dbeta: usize,
): void {
  const rowBytes = <usize>cols << 2;
  const invCols: f32 = <f32>1 / <f32>cols;
  for (let r = 0; r < rows; r++) {
    const mu = load<f32>(mean + (<usize>r << 2));
    const rs = load<f32>(rstd + (<usize>r << 2));
    const vmu = f32x4.splat(mu);
    const vrs = f32x4.splat(rs);
    if (dx != 0) {
      let ag = f32x4.splat(0), agx = f32x4.splat(0);
      let j = 0;
      for (; j + 4 <= cols; j += 4) {
        const o = <usize>j << 2;
        const xh = f32x4.mul(f32x4.sub(v128.load(x + o), vmu), vrs);
        const g = f32x4.mul(v128.load(dy + o), v128.load(gamma + o));
        ag = f32x4.add(ag, g);
        agx = f32x4.add(agx, f32x4.mul(g, xh));
      }
      let sg = hsum(ag), sgx = hsum(agx);
      for (; j < cols; j++) {
        const o = <usize>j << 2;
        const xh = (load<f32>(x + o) - mu) * rs;
        const g = load<f32>(dy + o) * load<f32>(gamma + o);
        sg += g;
        sgx += g * xh;
      }
      const mg = sg * invCols, mgx = sgx * invCols;
      const vmg = f32x4.splat(mg), vmgx = f32x4.splat(mgx);
      j = 0;
      for (; j + 4 <= cols; j += 4) {
        const o = <usize>j << 2;
        const xh = f32x4.mul(f32x4.sub(v128.load(x + o), vmu), vrs);
        const g = f32x4.mul(v128.load(dy + o), v128.load(gamma + o));
        const d = f32x4.mul(vrs, f32x4.sub(f32x4.sub(g, vmg), f32x4.mul(xh, vmgx)));
        v128.store(dx + o, f32x4.add(v128.load(dx + o), d));
      }
      for (; j < cols; j++) {
        const o = <usize>j << 2;
        const xh = (load<f32>(x + o) - mu) * rs;
        const g = load<f32>(dy + o) * load<f32>(gamma + o);
        store<f32>(dx + o, load<f32>(dx + o) + rs * (g - mg - xh * mgx));
      }
      dx += rowBytes;
    }
    if (dgamma != 0 || dbeta != 0) {
      let j = 0;
      for (; j + 4 <= cols; j += 4) {
        const o = <usize>j << 2;
        const d = v128.load(dy + o);
        if (dgamma != 0) {
          const xh = f32x4.mul(f32x4.sub(v128.load(x + o), vmu), vrs);
          v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), f32x4.mul(d, xh)));
        }
        if (dbeta != 0) v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), d));
      }
      for (; j < cols; j++) {
        const o = <usize>j << 2;
        const d = load<f32>(dy + o);
        if (dgamma != 0) store<f32>(dgamma + o, load<f32>(dgamma + o) + d * (load<f32>(x + o) - mu) * rs);
        if (dbeta != 0) store<f32>(dbeta + o, load<f32>(dbeta + o) + d);
      }
    }
    x += rowBytes;
    dy += rowBytes;
  }
}
