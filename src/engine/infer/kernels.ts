/**
 * The fused inference kernels of a backend (Backend.infer), or, for a backend without them (the
 * wasm one), the same results composed from its generic kernels: one call per step instead of
 * one fused pass, but the same packed-token forward path and the same numbers (to float rounding).
 * int8 is native-only: the composed set has no q8 kernels, and callers say so.
 */
import { BinaryOp, UnaryOp, type Backend, type F32, type I32, type InferKernels } from '../backend.js';

export function inferKernels(be: Backend): InferKernels {
  return be.infer ?? composed(be);
}

const cache = new WeakMap<Backend, InferKernels>();

function composed(be: Backend): InferKernels {
  let k = cache.get(be);
  if (!k) {
    k = composedKernels(be);
    cache.set(be, k);
  }
  return k;
}

function composedKernels(be: Backend): InferKernels {
  const rowShape = (rows: number, cols: number): I32 => Int32Array.of(rows, cols);
  const full = (cols: number): I32 => Int32Array.of(cols, 1);
  const bcast = Int32Array.of(0, 1);
  const addRows = (rows: number, cols: number, x: F32, bias: F32, out: F32): void =>
    be.binary(BinaryOp.Add, rowShape(rows, cols), x, full(cols), bias, bcast, out, false);
  const layerNorm = (rows: number, cols: number, x: F32, gamma: F32, beta: F32, eps: number, out: F32): void =>
    be.layerNorm(rows, cols, x, gamma, beta, eps, out, new Float32Array(rows), new Float32Array(rows));

  return {
    biasGelu(rows, cols, bias, x) {
      if (bias) addRows(rows, cols, x, bias, x);
      be.unary(UnaryOp.Gelu, rows * cols, x, x);
    },
    addBias(rows, cols, bias, x) {
      addRows(rows, cols, x, bias, x);
    },
    residualLayerNorm(rows, cols, x, bias, residual, gamma, beta, eps, out) {
      const n = rows * cols;
      const t = new Float32Array(n);
      if (bias) addRows(rows, cols, x, bias, t);
      else t.set(x.subarray(0, n));
      be.binary(BinaryOp.Add, Int32Array.of(n), t, Int32Array.of(1), residual, Int32Array.of(1), t, false);
      layerNorm(rows, cols, t, gamma, beta, eps, out);
    },
    embedLayerNorm(n, dim, word, ids, position, positionIds, tokenType, tokenTypeIds, gamma, beta, eps, out) {
      const w = new Float32Array(n * dim);
      const p = new Float32Array(n * dim);
      be.gather(n, dim, word.length / dim, word, ids, w);
      be.gather(n, dim, position.length / dim, position, positionIds, p);
      be.binary(BinaryOp.Add, Int32Array.of(n * dim), w, Int32Array.of(1), p, Int32Array.of(1), w, false);
      be.gather(n, dim, tokenType.length / dim, tokenType, tokenTypeIds, p);
      be.binary(BinaryOp.Add, Int32Array.of(n * dim), w, Int32Array.of(1), p, Int32Array.of(1), w, false);
      layerNorm(n, dim, w, gamma, beta, eps, out);
    },
    attentionPacked(nSeq, offsets, heads, d, qkv, ctx) {
      const H = heads * d;
      const ld = 3 * H;
      const alpha = 1 / Math.sqrt(d);
      for (let s = 0; s < nSeq; s++) {
        const r0 = offsets[s]!;
        const L = offsets[s + 1]! - r0;
        if (L === 0) continue;
        const q = qkv.subarray(r0 * ld);
        const S = new Float32Array(heads * L * L);
        // One GEMM per step batched over heads: head h's Q/K/V columns start h*d further on.
        be.gemm(false, true, L, L, d, alpha, q, ld, d, q.subarray(H), ld, d, 0, S, L, L * L, heads);
        be.softmax(heads * L, L, S, S);
        be.gemm(false, false, L, d, L, 1, S, L, L * L, q.subarray(2 * H), ld, d, 0, ctx.subarray(r0 * H), H, d, heads);
      }
    },
  };
}
