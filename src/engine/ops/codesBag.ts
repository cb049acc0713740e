/**
 * Mean embedding bags over a table stored as one-byte codes into learned codebooks (product
 * quantisation or additive codes), optionally with a per-row norm factor, without expanding the
 * rows:
 *
 *   codesBag(codebooks (M*K, w), layout, ids (nnz), offsets (B+1)) -> (B, dim)
 *     pq     row(r) = s_r * concat over m of codebooks[m*K + codes[r, m]]   (w = dim / M)
 *     codes  row(r) = s_r * sum over m of codebooks[m*K + codes[r, m]]      (w = dim)
 *     bag b  = mean of row(id) over ids[offsets[b] .. offsets[b+1])
 *
 * s_r = rowScale[r] (quantised norms) or 1. The codes and norm factors are frozen; the gradient
 * goes to the codebooks, dense (they are small: K x dim floats).
 */
import { getBackend } from '../backends.js';
import { Tensor } from '../tensor.js';
import { gradOf, needsGrad, record } from '../autograd.js';
import { OpError } from '../../errors.js';
import { fmt } from '../shapes.js';

export interface CodesLayout {
  kind: 'pq' | 'codes';
  rows: number;
  dim: number;
  books: number;
  words: number;
  /** [rows, books], each < words. */
  codes: Uint8Array;
  /** [rows] per-row factors, or null for none. */
  rowScale: Float32Array | null;
}

export function codesBag(codebooks: Tensor, t: CodesLayout, ids: Int32Array, offsets: Int32Array): Tensor {
  const width = t.kind === 'pq' ? t.dim / t.books : t.dim;
  if (codebooks.ndim !== 2 || codebooks.shape[0] !== t.books * t.words || codebooks.shape[1] !== width) {
    throw new OpError('codesBag', `codebooks must be (${t.books * t.words}, ${width}), got ${fmt(codebooks.shape)}`);
  }
  if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== ids.length) {
    throw new OpError('codesBag', `offsets (length ${offsets.length}) must run from 0 to the number of ids (${ids.length})`);
  }
  const nBags = offsets.length - 1;
  const kind = t.kind === 'pq' ? 0 : 1;
  const be = getBackend();
  const out = new Tensor(new Float32Array(nBags * t.dim), [nBags, t.dim]);
  be.codesBagMean(kind, nBags, t.dim, t.rows, t.books, t.words, t.codes, codebooks.data, t.rowScale, ids, offsets, out.data);
  if (!needsGrad(codebooks)) return out;
  return record('codesBag', out, [codebooks], (g) => {
    be.codesBagMeanBackward(kind, nBags, t.dim, t.rows, t.books, t.words, t.codes, t.rowScale, ids, offsets, g, gradOf(codebooks));
  });
}
