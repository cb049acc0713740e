/**
 * Global gradient-norm clipping over dense and sparse gradients together: if the L2 norm of all
 * gradients exceeds maxNorm, every gradient is scaled by maxNorm / norm.
 */
import { getBackend } from '../backends.js';
import { OpError } from '../../errors.js';
import { foldSparseIntoDense, namedParams, type ParamsLike } from './optimizer.js';

/** Clips in place; returns the norm before clipping. Throws an OpError if it is NaN/Inf. */
export function clipGradNorm(params: ParamsLike, maxNorm: number): number {
  const be = getBackend();
  const ps = namedParams(params).map((np) => np.p).filter((p) => p.requiresGrad);
  // Rows held both sparsely and densely must be summed before squaring.
  for (const p of ps) foldSparseIntoDense(p);
  let sq = 0;
  for (const p of ps) {
    if (p.grad) sq += be.sumSquares(p.grad.length, p.grad);
    if (p.sparseGrad) sq += p.sparseGrad.sumSquares();
  }
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm)) throw new OpError('clipGradNorm', `gradient norm is ${norm} over ${ps.length} parameters`);
  if (norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const p of ps) {
      if (p.grad) be.axpby(p.grad.length, s, p.grad, 0, p.grad);
      p.sparseGrad?.scale(s);
    }
  }
  return norm;
}
