/**
 * Masked multi-head scaled dot-product attention as one op, forward and backward side by side:
 *   per batch entry b and head h, with Q, K, V that head's (T, d) slices:
 *   S = Q K^T / sqrt(d) + mask          (Tq, Tk)   mask additive, broadcastable to (B, h, Tq, Tk)
 *   P = softmax(S);  P' = dropout(P)
 *   O = P' V                            (Tq, dv)
 * Backward:
 *   dP' = dO V^T;  dV += P'^T dO;  dP = dP' * keep/(1-p);  dS = P * (dP - rowsum(dP * P))
 *   dQ += dS K / sqrt(d);  dK += dS^T Q / sqrt(d);  dmask += dS summed over broadcast dimensions
 *
 * Two layouts share the code: heads-first (B, h, T, d) for `attention`, and (B, T, h*d) for
 * `multiHeadAttention`, the layout a Linear projection writes and the next one reads. The heads are
 * addressed through GEMM strides (one batched GEMM per head, batched over B), so the latter needs no
 * split/merge copies at all. S, P, P' and the dropout mask are private to the op: they come from the
 * buffer pool and go back when the graph is freed, never reaching the caller.
 *
 * Plus the head split/merge reshapes and the additive mask BERT builds from an attention mask.
 */
import type { Backend } from '../backend.js';
import { BinaryOp } from '../backend.js';
import { getBackend } from '../backends.js';
import { Tensor, toIntTensor, type IdsLike } from '../tensor.js';
import { gradTarget, needsGrad, record } from '../autograd.js';
import { OpError } from '../../errors.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, fmt, foldDims, sameShape } from '../shapes.js';
import { giveBack, takeBuffer, takeZeroed } from '../pool.js';
import { reduceInto } from './elementwise.js';
import { permute, reshape } from './shape.js';

export interface AttentionOptions {
  /** Additive mask (0 to attend, large negative to ignore), e.g. (B, 1, 1, Tk). */
  mask?: Tensor;
  /** Dropout on the attention probabilities (training only). */
  dropout?: number;
  seed?: number;
}

/** q (B, h, Tq, d), k (B, h, Tk, d), v (B, h, Tk, dv) -> (B, h, Tq, dv). */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const [B, h, Tq, d] = q.shape as [number, number, number, number];
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4 || q.shape[3] !== k.shape[3] || k.shape[2] !== v.shape[2]
    || k.shape[0] !== B || v.shape[0] !== B || k.shape[1] !== h || v.shape[1] !== h) {
    throw new OpError('attention', `expected q (B, h, Tq, d), k (B, h, Tk, d), v (B, h, Tk, dv); got q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`);
  }
  const Tk = k.shape[2]!, dv = v.shape[3]!;
  // heads-first: row stride d, head stride T*d, batch stride h*T*d
  const lay = (T: number, w: number): Layout => ({ ld: w, head: T * w, batch: h * T * w });
  return attend('attention', { B, h, Tq, Tk, d, dv }, q, lay(Tq, d), k, lay(Tk, d), v, lay(Tk, dv), [B, h, Tq, dv], lay(Tq, dv), opts);
}

/**
 * Multi-head attention on the (B, T, heads*d) layout of the projections:
 *   q (B, Tq, h*d), k (B, Tk, h*d), v (B, Tk, h*dv) -> (B, Tq, h*dv)
 * equal to mergeHeads(attention(splitHeads(q, h), splitHeads(k, h), splitHeads(v, h), opts)).
 */
export function multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, opts: AttentionOptions = {}): Tensor {
  const [B, Tq, Hq] = q.shape as [number, number, number];
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3 || k.shape[0] !== B || v.shape[0] !== B || k.shape[1] !== v.shape[1]
    || k.shape[2] !== Hq || !(Number.isInteger(heads) && heads > 0) || Hq % heads !== 0 || v.shape[2]! % heads !== 0) {
    throw new OpError('multiHeadAttention', `expected q (B, Tq, h*d), k (B, Tk, h*d), v (B, Tk, h*dv) with h = ${heads}; got q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`);
  }
  const Tk = k.shape[1]!, Hv = v.shape[2]!;
  // token-major: row stride h*d, head stride d, batch stride T*h*d
  const lay = (T: number, w: number): Layout => ({ ld: w, head: w / heads, batch: T * w });
  const dims = { B, h: heads, Tq, Tk, d: Hq / heads, dv: Hv / heads };
  return attend('multiHeadAttention', dims, q, lay(Tq, Hq), k, lay(Tk, Hq), v, lay(Tk, Hv), [B, Tq, Hv], lay(Tq, Hv), opts);
}

/** (B, T, h*d) -> (B, h, T, d). */
export function splitHeads(x: Tensor, heads: number): Tensor {
  if (x.ndim !== 3 || x.shape[2]! % heads !== 0) throw new OpError('splitHeads', `cannot split ${fmt(x.shape)} into ${heads} heads`);
  const [B, T, H] = x.shape as [number, number, number];
  return permute(reshape(x, [B, T, heads, H / heads]), [0, 2, 1, 3]);
}

/** (B, h, T, d) -> (B, T, h*d). */
export function mergeHeads(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new OpError('mergeHeads', `expected (B, h, T, d), got ${fmt(x.shape)}`);
  const [B, h, T, d] = x.shape as [number, number, number, number];
  return reshape(permute(x, [0, 2, 1, 3]), [B, T, h * d]);
}

/**
 * From an attention mask (B, T) of 1 (token) / 0 (padding) to the additive mask (B, 1, 1, T):
 * 0 where attended, `negative` where padded (HF's extended attention mask).
 */
export function additiveMask(attentionMask: IdsLike, shape: readonly [number, number], negative = -10000): Tensor {
  const m = toIntTensor(attentionMask).data;
  const [B, T] = shape;
  if (m.length !== B * T) throw new OpError('additiveMask', `mask has ${m.length} entries, expected (B, T) = ${fmt(shape)}`);
  const out = new Float32Array(B * T);
  for (let i = 0; i < m.length; i++) out[i] = m[i] ? 0 : negative;
  return new Tensor(out, [B, 1, 1, T]);
}

// ------------------------------------------------------------------ implementation

/** Where a head's (T, w) matrix lives in a tensor: row stride, and offsets between heads and batch entries. */
interface Layout {
  ld: number;
  head: number;
  batch: number;
}

interface Dims {
  B: number;
  h: number;
  Tq: number;
  Tk: number;
  d: number;
  dv: number;
}

function attend(
  op: string, s: Dims, q: Tensor, lq: Layout, k: Tensor, lk: Layout, v: Tensor, lv: Layout,
  outShape: number[], lo: Layout, opts: AttentionOptions,
): Tensor {
  const { B, h, Tq, Tk, d, dv } = s;
  const p = opts.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new OpError('dropout', `probability ${p} must be in [0, 1)`);
  if (p > 0 && opts.seed === undefined) throw new OpError(op, 'attention dropout needs a seed');
  const be = getBackend();
  const alpha = 1 / Math.sqrt(d);
  const sShape = [B, h, Tq, Tk];
  const n = B * h * Tq * Tk;
  // The score matrices, (B, h, Tq, Tk) contiguous: head stride Tq*Tk, batch stride h*Tq*Tk.
  const ls: Layout = { ld: Tk, head: Tq * Tk, batch: h * Tq * Tk };
  const mask = opts.mask;
  const mf = mask ? maskFold(op, mask, sShape) : undefined;

  // S = mask (broadcast), then S += alpha Q K^T
  const S = takeBuffer(n);
  if (mf) be.copyStrided(mf.shape, mask!.data, mf.strides[0]!, S, mf.strides[1]!, 1, false);
  heads(be, h, false, true, Tq, Tk, d, alpha, q.data, lq, k.data, lk, mf ? 1 : 0, S, ls, B);
  const P = takeBuffer(n);
  be.softmax(B * h * Tq, Tk, S, P);
  giveBack(S);
  let Pd = P;
  let keep: Float32Array | undefined;
  if (p > 0) {
    Pd = takeBuffer(n);
    keep = takeBuffer(n);
    be.dropout(n, p, opts.seed! >>> 0, P, Pd, keep);
  }
  const out = new Tensor(takeBuffer(outShape.reduce((a, b) => a * b, 1)), outShape);
  heads(be, h, false, false, Tq, dv, Tk, 1, Pd, ls, v.data, lv, 0, out.data, lo, B);

  const release = () => {
    giveBack(P);
    if (keep) {
      giveBack(Pd);
      giveBack(keep);
    }
  };
  if (!needsGrad(q, k, v, mask)) {
    release();
    return out;
  }
  return record(op, out, mask ? [q, k, v, mask] : [q, k, v], (g) => {
    // dP' = dO V^T (overwrites), dV += P'^T dO
    const dP = takeBuffer(n);
    heads(be, h, false, true, Tq, Tk, dv, 1, g, lo, v.data, lv, 0, dP, ls, B);
    if (v.requiresGrad) {
      const t = gradTarget(v);
      heads(be, h, true, false, Tk, dv, Tq, 1, Pd, ls, g, lo, t.fresh ? 0 : 1, t.buf, lv, B);
    }
    if (keep) be.binary(BinaryOp.Mul, Int32Array.of(n), dP, Int32Array.of(1), keep, Int32Array.of(1), dP, false);
    const dS = takeZeroed(n, (m, x) => be.fill(m, 0, x));
    be.softmaxBackward(B * h * Tq, Tk, P, dP, dS);
    giveBack(dP);
    if (q.requiresGrad) {
      const t = gradTarget(q);
      heads(be, h, false, false, Tq, d, Tk, alpha, dS, ls, k.data, lk, t.fresh ? 0 : 1, t.buf, lq, B);
    }
    if (k.requiresGrad) {
      const t = gradTarget(k);
      heads(be, h, true, false, Tk, d, Tq, alpha, dS, ls, q.data, lq, t.fresh ? 0 : 1, t.buf, lk, B);
    }
    if (mask?.requiresGrad) reduceInto(op, dS, sShape, mask, 1);
    giveBack(dS);
  }, release);
}

/**
 * For every head i: C_i = alpha op(A_i) op(B_i) + beta C_i, batched over the B entries; the
 * matrices are addressed through their layouts (op(A) is M x K, op(B) K x N, C M x N).
 */
function heads(
  be: Backend, h: number, transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  a: Float32Array, la: Layout, b: Float32Array, lb: Layout, beta: number, c: Float32Array, lc: Layout, batch: number,
): void {
  for (let i = 0; i < h; i++) {
    be.gemm(
      transA, transB, M, N, K, alpha,
      a.subarray(i * la.head), la.ld, la.batch,
      b.subarray(i * lb.head), lb.ld, lb.batch,
      beta, c.subarray(i * lc.head), lc.ld, lc.batch, batch,
    );
  }
}

/** Strides reading the mask as (B, h, Tq, Tk), folded for copyStrided; the mask may only broadcast up to it. */
function maskFold(op: string, mask: Tensor, sShape: number[]): { shape: Int32Array; strides: Int32Array[] } {
  if (!sameShape(broadcastShapes(op, mask.shape, sShape), sShape)) {
    throw new OpError(op, `mask ${fmt(mask.shape)} does not broadcast to the scores' shape ${fmt(sShape)}`);
  }
  return foldDims(op, sShape, [broadcastStrides(mask.shape, sShape), contiguousStrides(sShape)]);
}
