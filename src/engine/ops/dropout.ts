/**
 * Inverted dropout: y = x * mask, mask[i] = 1/(1-p) if element i is kept else 0. The mask comes
 * from backend.dropout, a counter-based RNG keyed by `seed`, so the same seed drops the same
 * elements on every backend and every call (gradient checks rely on that). dx += dy * mask.
 * The mask is private to the op, so its buffer goes back to the pool when the graph is freed.
 */
import { BinaryOp } from '../backend.js';
import { getBackend } from '../backends.js';
import { Tensor } from '../tensor.js';
import { gradTarget, needsGrad, record } from '../autograd.js';
import { OpError } from '../../errors.js';
import { giveBack, takeBuffer } from '../pool.js';

export function dropout(x: Tensor, p: number, seed: number): Tensor {
  if (!(p >= 0 && p < 1)) throw new OpError('dropout', `probability ${p} must be in [0, 1)`);
  if (p === 0) return x;
  const be = getBackend();
  const out = new Tensor(takeBuffer(x.size), x.shape);
  const mask = takeBuffer(x.size);
  be.dropout(x.size, p, seed >>> 0, x.data, out.data, mask);
  if (!needsGrad(x)) {
    giveBack(mask);
    return out;
  }
  return record('dropout', out, [x], (g) => {
    const n = Int32Array.of(x.size);
    const one = Int32Array.of(1);
    const t = gradTarget(x);
    be.binary(BinaryOp.Mul, n, g, one, mask, one, t.buf, !t.fresh);
  }, () => giveBack(mask));
}
