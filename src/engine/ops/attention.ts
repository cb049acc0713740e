/**
 * Masked multi-head scaled dot-product attention, composed from checked ops:
 *   q (B, h, Tq, d), k (B, h, Tk, d), v (B, h, Tk, d), mask additive, broadcastable to (B, h, Tq, Tk)
 *   scores = q k^T / sqrt(d) + mask      (B, h, Tq, Tk)
 *   out    = dropout(softmax(scores)) v  (B, h, Tq, d)
 * plus the head split/merge reshapes and the additive mask BERT builds from an attention mask.
 */
import { Tensor, toIntTensor, type IdsLike } from '../tensor.js';
import { OpError } from '../../errors.js';
import { fmt } from '../shapes.js';
import { matmul } from './matmul.js';
import { add } from './elementwise.js';
import { softmax } from './softmax.js';
import { dropout } from './dropout.js';
import { permute, reshape } from './shape.js';

export interface AttentionOptions {
  /** Additive mask (0 to attend, large negative to ignore), e.g. (B, 1, 1, Tk). */
  mask?: Tensor;
  /** Dropout on the attention probabilities (training only). */
  dropout?: number;
  seed?: number;
}

export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4 || q.shape[3] !== k.shape[3] || k.shape[2] !== v.shape[2]) {
    throw new OpError('attention', `expected q (B, h, Tq, d), k (B, h, Tk, d), v (B, h, Tk, dv); got q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`);
  }
  let scores = matmul(q, k, { transB: true, alpha: 1 / Math.sqrt(q.shape[3]!) });
  if (opts.mask) scores = add(scores, opts.mask);
  let probs = softmax(scores);
  const p = opts.dropout ?? 0;
  if (p > 0) {
    if (opts.seed === undefined) throw new OpError('attention', 'attention dropout needs a seed');
    probs = dropout(probs, p, opts.seed);
  }
  return matmul(probs, v);
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
