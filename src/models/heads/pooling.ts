/**
 * Sentence vectors from token vectors:
 *   clsVector(hidden (B, T, H))                       -> (B, H)   the first ([CLS]) token
 *   meanVector(hidden (B, T, H), attentionMask (B, T)) -> (B, H)   mean over real (unpadded) tokens
 */
import { IntTensor, Tensor, div, mul, reshape, slice, sum } from '../../engine/index.js';
import { OpError } from '../../errors.js';

export type Pooling = 'cls' | 'mean';

export const POOLINGS: readonly Pooling[] = ['cls', 'mean'];

export function pool(kind: Pooling, hidden: Tensor, attentionMask: IntTensor): Tensor {
  return kind === 'cls' ? clsVector(hidden) : meanVector(hidden, attentionMask);
}

export function clsVector(hidden: Tensor): Tensor {
  const [B, , H] = dims('clsVector', hidden);
  return reshape(slice(hidden, 1, 0, 1), [B, H]);
}

export function meanVector(hidden: Tensor, attentionMask: IntTensor): Tensor {
  const [B, T] = dims('meanVector', hidden);
  if (attentionMask.size !== B * T) throw new OpError('meanVector', `mask has ${attentionMask.size} entries, hidden states are (${B}, ${T}, H)`);
  // Masks are built once per batch (B * T ints), not per element of the (B, T, H) product.
  const m = Float32Array.from(attentionMask.data);
  const counts = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    let c = 0;
    for (let t = 0; t < T; t++) c += m[b * T + t]!;
    counts[b] = Math.max(c, 1);
  }
  const summed = sum(mul(hidden, new Tensor(m, [B, T, 1])), 1);
  return div(summed, new Tensor(counts, [B, 1]));
}

function dims(op: string, hidden: Tensor): [number, number, number] {
  if (hidden.ndim !== 3) throw new OpError(op, `expected hidden states (B, T, H), got [${hidden.shape.join(', ')}]`);
  return hidden.shape as [number, number, number];
}
