// Kernels for tables of one-byte codes (product quantisation, additive codes) and the k-means
// assignment step. As for the other sparse kernels the JS side copies in only what a call reads:
// the codebooks (small: words x dim floats), one row of M codes (and its norm factor) per id
// occurrence, in occurrence order.

// dst += alpha * src over n floats.
@inline
function axpy(n: i32, alpha: f32, src: usize, dst: usize): void {
  const va = f32x4.splat(alpha);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(va, v128.load(src + o))));
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(dst + o) + alpha * load<f32>(src + o));
  }
}

/**
 * out[b] = mean over occurrences k of bag b of s_k * row_k, row_k = concat (kind 0, pq) or sum
 * (kind 1, codes) over m of books[m*K + codes[k*M + m]]; s_k = scale[k], or 1 when scale is 0.
 * Occurrence k's codes sit at codes + (k - offsets[0]) * M.
 */
export function codesBagMean(kind: i32, nBags: i32, dim: i32, M: i32, K: i32, books: usize, codes: usize, scale: usize, offsets: usize, out: usize): void {
  const sub = kind == 0 ? dim / M : dim;
  const base = load<i32>(offsets);
  for (let b = 0; b < nBags; b++) {
    const lo = load<i32>(offsets + (<usize>b << 2));
    const hi = load<i32>(offsets + (<usize>(b + 1) << 2));
    const o = out + ((<usize>b * <usize>dim) << 2);
    memory.fill(o, 0, <usize>dim << 2);
    if (hi <= lo) continue;
    for (let k = lo; k < hi; k++) {
      const c = codes + <usize>(k - base) * <usize>M;
      const s: f32 = scale ? load<f32>(scale + (<usize>(k - base) << 2)) : 1;
      for (let m = 0; m < M; m++) {
        const w = books + ((<usize>(m * K + <i32>load<u8>(c + <usize>m)) * <usize>sub) << 2);
        axpy(sub, s, w, kind == 0 ? o + ((<usize>m * <usize>sub) << 2) : o);
      }
    }
    const inv: f32 = <f32>1 / <f32>(hi - lo);
    const vi = f32x4.splat(inv);
    let j = 0;
    for (; j + 4 <= dim; j += 4) v128.store(o + (<usize>j << 2), f32x4.mul(v128.load(o + (<usize>j << 2)), vi));
    for (; j < dim; j++) store<f32>(o + (<usize>j << 2), load<f32>(o + (<usize>j << 2)) * inv);
  }
}

/** grad[m*K + codes[k*M + m]] += s_k * dy[b] (slice m for pq) / count_b; the codebooks' gradient. */
export function codesBagMeanBackward(kind: i32, nBags: i32, dim: i32, M: i32, K: i32, codes: usize, scale: usize, offsets: usize, dy: usize, grad: usize): void {
  const sub = kind == 0 ? dim / M : dim;
  const base = load<i32>(offsets);
  for (let b = 0; b < nBags; b++) {
    const lo = load<i32>(offsets + (<usize>b << 2));
    const hi = load<i32>(offsets + (<usize>(b + 1) << 2));
    if (hi <= lo) continue;
    const inv: f32 = <f32>1 / <f32>(hi - lo);
    const g = dy + ((<usize>b * <usize>dim) << 2);
    for (let k = lo; k < hi; k++) {
      const c = codes + <usize>(k - base) * <usize>M;
      const s: f32 = (scale ? load<f32>(scale + (<usize>(k - base) << 2)) : <f32>1) * inv;
      for (let m = 0; m < M; m++) {
        const d = grad + ((<usize>(m * K + <i32>load<u8>(c + <usize>m)) * <usize>sub) << 2);
        axpy(sub, s, kind == 0 ? g + ((<usize>m * <usize>sub) << 2) : g, d);
      }
    }
  }
}

/** out[i] = argmin_k |x_i - c_k|^2 (first on ties) as |c_k|^2 - 2 x_i.c_k; cn: K floats of scratch. */
export function nearestCentroids(n: i32, d: i32, K: i32, x: usize, c: usize, cn: usize, out: usize): void {
  for (let k = 0; k < K; k++) store<f32>(cn + (<usize>k << 2), dotRow(d, c + ((<usize>k * <usize>d) << 2), c + ((<usize>k * <usize>d) << 2)));
  for (let i = 0; i < n; i++) {
    const xi = x + ((<usize>i * <usize>d) << 2);
    let best: f32 = f32.MAX_VALUE;
    let arg = 0;
    for (let k = 0; k < K; k++) {
      const v = load<f32>(cn + (<usize>k << 2)) - <f32>2 * dotRow(d, xi, c + ((<usize>k * <usize>d) << 2));
      if (v < best) {
        best = v;
        arg = k;
      }
    }
    store<i32>(out + (<usize>i << 2), arg);
  }
}

@inline
function dotRow(d: i32, a: usize, b: usize): f32 {
  let j = 0;
  let s: f32 = 0;
  if (d >= 8) {
    let acc = f32x4.splat(0);
    for (; j + 4 <= d; j += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>j << 2)), v128.load(b + (<usize>j << 2))));
    s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  }
  for (; j < d; j++) s += load<f32>(a + (<usize>j << 2)) * load<f32>(b + (<usize>j << 2));
  return s;
}
