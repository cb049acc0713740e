/**
 * Embedding lookups with SPARSE gradients: the gradient of a leaf table is kept as the distinct row
 * ids a batch touched plus one row each (SparseGrad), never a dense vocab x dim buffer.
 *
 *   embedding(table (V, D), ids (...S))                 -> (...S, D)
 *   embeddingBag(table (V, D), ids (nnz), offsets (B+1)) -> (B, D), row b = mean of
 *       table[ids[offsets[b] .. offsets[b+1])] (an empty bag gives zeros)
 *
 * A table that is itself computed (not a leaf) gets a dense gradient instead (indexAdd).
 * embeddingBag can drop whole ids (feature dropout, fastText/DAN style): id occurrence j is dropped
 * iff hashUniform(seed, j) < p, and a bag's mean is taken over the ids it keeps.
 */
import { hashUniform } from '../backend.js';
import { getBackend } from '../backends.js';
import { Tensor, toIntTensor, type IdsLike } from '../tensor.js';
import { gradOf, needsGrad, record } from '../autograd.js';
import { SparseGrad } from '../sparseGrad.js';
import { OpError } from '../../errors.js';
import { fmt } from '../shapes.js';

export function embedding(table: Tensor, idsLike: IdsLike): Tensor {
  const ids = toIntTensor(idsLike);
  const [rows, dim] = tableDims('embedding', table);
  const be = getBackend();
  const out = new Tensor(new Float32Array(ids.size * dim), [...ids.shape, dim]);
  kernel('embedding', table, ids.size, () => be.gather(ids.size, dim, rows, table.data, ids.data, out.data));
  if (!needsGrad(table)) return out;
  return record('embedding', out, [table], (g) => {
    if (table.isLeaf) {
      table.sparseGrad ??= new SparseGrad(rows, dim);
      table.sparseGrad.add('embedding', ids.data, g);
    } else {
      be.indexAdd(ids.size, dim, g, ids.data, 1, gradOf(table));
    }
  });
}

export interface EmbeddingBagOptions {
  /** Probability of dropping each id occurrence (training only; default 0). */
  dropIds?: number;
  /** Seed for the id dropout (required when dropIds > 0). */
  seed?: number;
}

export function embeddingBag(table: Tensor, idsLike: IdsLike, offsetsLike: IdsLike, opts: EmbeddingBagOptions = {}): Tensor {
  let ids = toIntTensor(idsLike).data;
  let offsets = toIntTensor(offsetsLike).data;
  const [rows, dim] = tableDims('embeddingBag', table);
  checkOffsets(ids, offsets);
  const p = opts.dropIds ?? 0;
  if (p > 0) ({ ids, offsets } = dropIds(ids, offsets, p, opts.seed));
  const nBags = offsets.length - 1;
  const be = getBackend();
  const out = new Tensor(new Float32Array(nBags * dim), [nBags, dim]);
  kernel('embeddingBag', table, ids.length, () => be.embeddingBagMean(nBags, dim, rows, table.data, ids, offsets, out.data));
  if (!needsGrad(table)) return out;
  return record('embeddingBag', out, [table], (g) => {
    const sg = table.isLeaf ? (table.sparseGrad ??= new SparseGrad(rows, dim)) : new SparseGrad(rows, dim);
    const slots = sg.slotsFor('embeddingBag', ids);
    be.embeddingBagMeanBackward(nBags, dim, offsets, slots, g, sg.rows);
    if (!table.isLeaf) sg.addInto(gradOf(table));
  });
}

// ------------------------------------------------------------------ implementation

function tableDims(op: string, table: Tensor): [number, number] {
  if (table.ndim !== 2) throw new OpError(op, `table must be 2-D (rows, dim), got ${fmt(table.shape)}`);
  return [table.shape[0]!, table.shape[1]!];
}

// Kernels throw a plain error on an id outside the table; re-throw it as an OpError with shapes.
function kernel(op: string, table: Tensor, nIds: number, run: () => void): void {
  try {
    run();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new OpError(op, `${msg} (table ${fmt(table.shape)}, ${nIds} ids)`);
  }
}

function checkOffsets(ids: Int32Array, offsets: Int32Array): void {
  const bad = (why: string) => new OpError('embeddingBag', `offsets (length ${offsets.length}) for ${ids.length} ids: ${why}`);
  if (offsets.length < 1) throw bad('need at least one offset (bags are offsets[b]..offsets[b+1])');
  if (offsets[0] !== 0) throw bad(`must start at 0, not ${offsets[0]}`);
  if (offsets[offsets.length - 1] !== ids.length) throw bad(`must end at the number of ids, not ${offsets[offsets.length - 1]}`);
  for (let b = 1; b < offsets.length; b++) if (offsets[b]! < offsets[b - 1]!) throw bad(`decrease at bag ${b - 1}`);
}

/** The id dropout of embeddingBag on its own (for tables that expand ids before bagging). */
export function dropIds(ids: Int32Array, offsets: Int32Array, p: number, seed: number | undefined): { ids: Int32Array; offsets: Int32Array } {
  if (!(p < 1)) throw new OpError('embeddingBag', `id dropout probability ${p} must be below 1`);
  if (seed === undefined) throw new OpError('embeddingBag', 'id dropout needs a seed (from the module Rng)');
  const keptIds = new Int32Array(ids.length);
  const keptOff = new Int32Array(offsets.length);
  let n = 0;
  for (let b = 0; b + 1 < offsets.length; b++) {
    for (let j = offsets[b]!; j < offsets[b + 1]!; j++) if (hashUniform(seed >>> 0, j) >= p) keptIds[n++] = ids[j]!;
    keptOff[b + 1] = n;
  }
  return { ids: keptIds.subarray(0, n), offsets: keptOff };
}
