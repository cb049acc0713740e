// Inference-only kernels: the wasm side of InferKernels (src/engine/backend.ts), the same steps as
// native/infer.c. Rows are packed tokens (no padding); row-wise kernels may work in place.
//
// int8: weights are packed as the native kernels pack them (panels of 32 output channels, each
// int32 holding 4 consecutive k's of one channel), so one packed layout serves both backends.
// Activations are quantised per row to signed int16 values in [-127, 127] (no +128 offset: there
// is no u8 x s8 dot product in wasm SIMD, and sum(q w) is the same integer the native kernels get
// as sum((q + 128) w) - 128 colsum). The microkernel widens 16 weight bytes (4 channels x 4 k's)
// to two i16x8 vectors and multiplies them by the row's 4 k's (splat twice) with i32x4.dot_i16x8_s,
// which sums adjacent pairs exactly: each channel's int32 sum is two lanes, added at the end.

import { expv, normCdfv, hsum, hmax } from './simdmath';
import { lnApply } from './rows';

// ------------------------------------------------------------------ row kernels

/** x = gelu(x + bias) per row (bias 0: x = gelu(x)); erf GELU, as the Gelu unary op computes it. */
export function biasGelu(rows: i32, cols: i32, bias: usize, x: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      let v = v128.load(x + o);
      if (bias != 0) v = f32x4.add(v, v128.load(bias + o));
      v128.store(x + o, f32x4.mul(v, normCdfv(v)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      let s = load<f32>(x + o);
      if (bias != 0) s += load<f32>(bias + o);
      const v = f32x4.splat(s);
      store<f32>(x + o, f32x4.extract_lane(f32x4.mul(v, normCdfv(v)), 0));
    }
    x += rowBytes;
  }
}

/** x += bias per row. */
export function addBias(rows: i32, cols: i32, bias: usize, x: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(x + o, f32x4.add(v128.load(x + o), v128.load(bias + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(x + o, load<f32>(x + o) + load<f32>(bias + o));
    }
    x += rowBytes;
  }
}

/** y = LN(y) over one row whose values are in place, given their sum s (as layerNorm computes it). */
@inline
function lnFinish(cols: i32, s: f32, gamma: usize, beta: usize, eps: f32, y: usize): void {
  lnApply(cols, y, s * (<f32>1 / <f32>cols), gamma, beta, eps, y);
}

/** out = LN(a + b + c) per row (b or c may be 0: absent); out may alias a, b or c. */
export function sumLayerNorm(rows: i32, cols: i32, a: usize, b: usize, c: usize, gamma: usize, beta: usize, eps: f32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      let v = v128.load(a + o);
      if (b != 0) v = f32x4.add(v, v128.load(b + o));
      if (c != 0) v = f32x4.add(v, v128.load(c + o));
      v128.store(out + o, v);
      acc = f32x4.add(acc, v);
    }
    let s = hsum(acc);
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(a + o);
      if (b != 0) v += load<f32>(b + o);
      if (c != 0) v += load<f32>(c + o);
      store<f32>(out + o, v);
      s += v;
    }
    lnFinish(cols, s, gamma, beta, eps, out);
    a += rowBytes;
    if (b != 0) b += rowBytes;
    if (c != 0) c += rowBytes;
    out += rowBytes;
  }
}

/** The bias variant: out = LN(x + bias + res) with one bias row for every row. */
export function residualLayerNorm(rows: i32, cols: i32, x: usize, bias: usize, res: usize, gamma: usize, beta: usize, eps: f32, out: usize): void {
  if (bias == 0) {
    sumLayerNorm(rows, cols, x, res, 0, gamma, beta, eps, out);
    return;
  }
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      const v = f32x4.add(f32x4.add(v128.load(x + o), v128.load(bias + o)), v128.load(res + o));
      v128.store(out + o, v);
      acc = f32x4.add(acc, v);
    }
    let s = hsum(acc);
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      const v = (load<f32>(x + o) + load<f32>(bias + o)) + load<f32>(res + o);
      store<f32>(out + o, v);
      s += v;
    }
    lnFinish(cols, s, gamma, beta, eps, out);
    x += rowBytes;
    res += rowBytes;
    out += rowBytes;
  }
}

// ------------------------------------------------------------------ attention over packed sequences

/**
 * Self-attention for sequences [s0, s1): for each sequence, head and query row, the scores against
 * the sequence's keys go to `scratch` (maxL floats), are soft-maxed in place and weight its values.
 * qkv rows hold Q | K | V (3 * heads * d floats); ctx rows hold heads * d.
 */
export function attentionPacked(s0: i32, s1: i32, offsets: usize, heads: i32, d: i32, qkv: usize, ctx: usize, scratch: usize): void {
  const H = heads * d;
  const ld = <usize>(3 * H) << 2;
  const alpha: f32 = <f32>1 / Mathf.sqrt(<f32>d);
  for (let s = s0; s < s1; s++) {
    const r0 = load<i32>(offsets + (<usize>s << 2));
    const L = load<i32>(offsets + (<usize>(s + 1) << 2)) - r0;
    for (let h = 0; h < heads; h++) {
      const hb = <usize>(h * d) << 2;
      const kBase = qkv + <usize>r0 * ld + (<usize>H << 2) + hb;
      const vBase = kBase + (<usize>H << 2);
      for (let i = 0; i < L; i++) {
        const q = qkv + <usize>(r0 + i) * ld + hb;
        // scores and their max
        let m: f32 = -Infinity;
        for (let j = 0; j < L; j++) {
          const k = kBase + <usize>j * ld;
          let acc = f32x4.splat(0);
          let t = 0;
          for (; t + 4 <= d; t += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(q + (<usize>t << 2)), v128.load(k + (<usize>t << 2))));
          let dot = hsum(acc);
          for (; t < d; t++) dot += load<f32>(q + (<usize>t << 2)) * load<f32>(k + (<usize>t << 2));
          const sc = dot * alpha;
          store<f32>(scratch + (<usize>j << 2), sc);
          m = max(m, sc);
        }
        // softmax in place
        let sum: f32 = 0;
        let j = 0;
        const vm = f32x4.splat(m);
        let vs = f32x4.splat(0);
        for (; j + 4 <= L; j += 4) {
          const e = expv(f32x4.sub(v128.load(scratch + (<usize>j << 2)), vm));
          v128.store(scratch + (<usize>j << 2), e);
          vs = f32x4.add(vs, e);
        }
        sum = hsum(vs);
        for (; j < L; j++) {
          const e = f32x4.extract_lane(expv(f32x4.splat(load<f32>(scratch + (<usize>j << 2)) - m)), 0);
          store<f32>(scratch + (<usize>j << 2), e);
          sum += e;
        }
        const inv: f32 = <f32>1 / sum;
        // ctx row = sum_j p_j v_j
        const c = ctx + <usize>(r0 + i) * (<usize>H << 2) + hb;
        let t = 0;
        for (; t + 4 <= d; t += 4) {
          let acc = f32x4.splat(0);
          for (let jj = 0; jj < L; jj++) {
            const p = f32x4.splat(load<f32>(scratch + (<usize>jj << 2)) * inv);
            acc = f32x4.add(acc, f32x4.mul(p, v128.load(vBase + <usize>jj * ld + (<usize>t << 2))));
          }
          v128.store(c + (<usize>t << 2), acc);
        }
        for (; t < d; t++) {
          let acc: f32 = 0;
          for (let jj = 0; jj < L; jj++) acc += load<f32>(scratch + (<usize>jj << 2)) * inv * load<f32>(vBase + <usize>jj * ld + (<usize>t << 2));
          store<f32>(c + (<usize>t << 2), acc);
        }
      }
    }
  }
}

// ------------------------------------------------------------------ int8

const NR: i32 = 32; // output channels per packed panel (native/infer.c Q8_NR)
const MC: i32 = 64; // rows per block of q8Gemm (even: rows go in pairs)

@inline
function q8Round(v: f32): i32 {
  const q: f32 = nearest<f32>(v); // round half to even, as C's nearbyintf
  const c: f32 = q > <f32>127 ? <f32>127 : q < <f32>-127 ? <f32>-127 : q;
  return <i32>c;
}

/** Per-output-channel codes (N, K) int8 and scales max|w|/127, rounded as the native q8Pack does. */
export function q8Quantize(N: i32, K: i32, w: usize, codes: usize, scales: usize): void {
  for (let n = 0; n < N; n++) {
    const row = w + (<usize>n * <usize>K << 2);
    let amax: f32 = 0;
    for (let k = 0; k < K; k++) amax = max(amax, Mathf.abs(load<f32>(row + (<usize>k << 2))));
    const inv: f32 = amax > 0 ? <f32>127 / amax : 0;
    store<f32>(scales + (<usize>n << 2), amax / <f32>127);
    const out = codes + <usize>n * <usize>K;
    for (let k = 0; k < K; k++) store<i8>(out + <usize>k, <i8>q8Round(load<f32>(row + (<usize>k << 2)) * inv));
  }
}

/** Lays codes (N, K) out in panels of 32 channels x 4 k's per int32 (zero padded); colsum[n] = sum of row n. */
export function q8PackCodes(N: i32, K: i32, codes: usize, packed: usize, colsum: usize): void {
  const K4 = (K + 3) >> 2;
  const Np = (N + NR - 1) / NR * NR;
  memory.fill(packed, 0, <usize>Np * <usize>K4 * 4);
  for (let n = 0; n < N; n++) {
    let cs = 0;
    const panel = packed + <usize>(n / NR) * <usize>NR * <usize>K4 * 4;
    const lane = <usize>(n % NR) * 4;
    const src = codes + <usize>n * <usize>K;
    for (let k = 0; k < K; k++) {
      const q = load<i8>(src + <usize>k);
      cs += q;
      store<i8>(panel + <usize>(k >> 2) * <usize>NR * 4 + lane + <usize>(k & 3), q);
    }
    store<i32>(colsum + (<usize>n << 2), cs);
  }
}

/** Rows [m0, m1) of x (M, K) quantised per row to int16 codes in rows of Kp (zero padded), scales sa[m] = max|x|/127. */
export function q8QuantizeRows(m0: i32, m1: i32, K: i32, Kp: i32, x: usize, qa: usize, sa: usize): void {
  for (let m = m0; m < m1; m++) {
    const row = x + (<usize>m * <usize>K << 2);
    let vmax = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= K; k += 4) vmax = f32x4.max(vmax, f32x4.abs(v128.load(row + (<usize>k << 2))));
    let amax = hmax(vmax);
    for (; k < K; k++) amax = max(amax, Mathf.abs(load<f32>(row + (<usize>k << 2))));
    const inv: f32 = amax > 0 ? <f32>127 / amax : 0;
    store<f32>(sa + (<usize>m << 2), amax / <f32>127);
    const out = qa + (<usize>m * <usize>Kp << 1);
    for (k = 0; k < K; k++) store<i16>(out + (<usize>k << 1), <i16>q8Round(load<f32>(row + (<usize>k << 2)) * inv));
    for (; k < Kp; k++) store<i16>(out + (<usize>k << 1), 0);
  }
}

/** Four channels' int32 sums from the pair-lane accumulators of two i16x8 halves. */
@inline
function pairSum(lo: v128, hi: v128): v128 {
  return i32x4.add(v128.shuffle<i32>(lo, hi, 0, 2, 4, 6), v128.shuffle<i32>(lo, hi, 1, 3, 5, 7));
}

/** y[m, n0..n0+4) = float(acc) * sa[m] * scales + bias for the lanes that are real columns. */
@inline
function q8Store(acc: v128, s: f32, scales: usize, bias: usize, y: usize, n0: i32, nw: i32): void {
  let v = f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(acc), f32x4.splat(s)), v128.load(scales + (<usize>n0 << 2)));
  if (bias != 0) v = f32x4.add(v, v128.load(bias + (<usize>n0 << 2)));
  const p = y + (<usize>n0 << 2);
  if (nw >= 4) v128.store(p, v);
  else {
    if (nw > 0) store<f32>(p, f32x4.extract_lane(v, 0));
    if (nw > 1) store<f32>(p + 4, f32x4.extract_lane(v, 1));
    if (nw > 2) store<f32>(p + 8, f32x4.extract_lane(v, 2));
  }
}

/**
 * y (M, N) for panels [p0, p1) from rows quantised by q8QuantizeRows (qa: M rows of Kp int16):
 * y = float(sum_k q w) * sa[m] * scales[n] + bias[n] (bias 0: none). Tiles of 2 rows x 8 channels
 * keep 8 accumulators, 4 widened weight vectors and 2 row vectors in V8's 15 xmm registers.
 * `scales` and `bias` must be readable up to the panel edge (the JS side pads them to 32).
 */
export function q8Gemm(M: i32, N: i32, K: i32, Kp: i32, qa: usize, sa: usize, packed: usize, scales: usize, bias: usize, y: usize, p0: i32, p1: i32): void {
  const K4 = Kp >> 2;
  const panelBytes = <usize>NR * <usize>K4 * 4;
  const rowBytes = <usize>Kp << 1;
  const yRow = <usize>N << 2;
  // Blocks of MC rows (their int16 codes stay in L2) pass over every panel of this job in turn.
  for (let mc = 0; mc < M; mc += MC) {
    const mEnd = min(mc + MC, M);
    for (let p = p0; p < p1; p++) {
      const panel = packed + <usize>p * panelBytes;
      const nBase = p * NR;
      for (let m = mc; m < mEnd; m += 2) {
        const two = m + 1 < mEnd;
        const a0 = qa + <usize>m * rowBytes;
        const a1 = two ? a0 + rowBytes : a0;
        const s0 = load<f32>(sa + (<usize>m << 2));
        const s1 = two ? load<f32>(sa + (<usize>(m + 1) << 2)) : s0;
        for (let c = 0; c < NR; c += 8) {
          const n0 = nBase + c;
          if (n0 >= N) break;
          let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c02 = i32x4.splat(0), c03 = i32x4.splat(0);
          let c10 = i32x4.splat(0), c11 = i32x4.splat(0), c12 = i32x4.splat(0), c13 = i32x4.splat(0);
          let wp = panel + (<usize>c << 2);
          for (let k4 = 0; k4 < K4; k4++) {
            const wa = v128.load(wp);
            const wb = v128.load(wp, 16);
            const wa0 = i16x8.extend_low_i8x16_s(wa), wa1 = i16x8.extend_high_i8x16_s(wa);
            const wb0 = i16x8.extend_low_i8x16_s(wb), wb1 = i16x8.extend_high_i8x16_s(wb);
            const o = <usize>k4 << 3;
            const x0 = v128.load64_splat(a0 + o);
            const x1 = v128.load64_splat(a1 + o);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wa0));
            c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wa1));
            c02 = i32x4.add(c02, i32x4.dot_i16x8_s(x0, wb0));
            c03 = i32x4.add(c03, i32x4.dot_i16x8_s(x0, wb1));
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wa0));
            c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wa1));
            c12 = i32x4.add(c12, i32x4.dot_i16x8_s(x1, wb0));
            c13 = i32x4.add(c13, i32x4.dot_i16x8_s(x1, wb1));
            wp += <usize>NR * 4;
          }
          const y0 = y + <usize>m * yRow;
          const nw = N - n0;
          q8Store(pairSum(c00, c01), s0, scales, bias, y0, n0, nw);
          q8Store(pairSum(c02, c03), s0, scales, bias, y0, n0 + 4, nw - 4);
          if (two) {
            const y1 = y0 + yRow;
            q8Store(pairSum(c10, c11), s1, scales, bias, y1, n0, nw);
            q8Store(pairSum(c12, c13), s1, scales, bias, y1, n0 + 4, nw - 4);
          }
        }
      }
    }
  }
}
