/**
 * Scores between two sets of sentence vectors, for the bi-encoder:
 *   scoreMatrix('cosine' | 'dot', u (B, H), v (N, H), scale) -> (B, N) = scale * sim(u_i, v_j)
 * Cosine normalises the rows first (normalizeRows), so its product is the cosine; the scale turns
 * cosines in [-1, 1] into logits sharp enough for a softmax over in-batch candidates (20, as
 * sentence-transformers' MultipleNegativesRankingLoss uses).
 */
import { addScalar, div, matmul, sqrt, square, sum, type Tensor } from '../../engine/index.js';
import { OpError } from '../../errors.js';

export type Score = 'cosine' | 'dot';

export const SCORES: readonly Score[] = ['cosine', 'dot'];

/** The usual scale for each score. */
export const DEFAULT_SCALE: Readonly<Record<Score, number>> = { cosine: 20, dot: 1 };

/** Rows divided by their L2 norm: (N, H) -> (N, H). */
export function normalizeRows(x: Tensor): Tensor {
  if (x.ndim !== 2) throw new OpError('normalizeRows', `expected (N, H), got [${x.shape.join(', ')}]`);
  return div(x, sqrt(addScalar(sum(square(x), -1, { keepDims: true }), 1e-12)));
}

/**
 * u and v as prepared by `prepare` (normalised for cosine), so that a fixed candidate set is
 * normalised once rather than for every query.
 */
export function scorePrepared(u: Tensor, v: Tensor, scale: number): Tensor {
  if (u.ndim !== 2 || v.ndim !== 2 || u.shape[1] !== v.shape[1]) {
    throw new OpError('scoreMatrix', `expected u (B, H) and v (N, H), got [${u.shape.join(', ')}] and [${v.shape.join(', ')}]`);
  }
  return matmul(u, v, { transB: true, alpha: scale });
}

export function prepare(kind: Score, x: Tensor): Tensor {
  return kind === 'cosine' ? normalizeRows(x) : x;
}

export function scoreMatrix(kind: Score, u: Tensor, v: Tensor, scale: number): Tensor {
  return scorePrepared(prepare(kind, u), prepare(kind, v), scale);
}
