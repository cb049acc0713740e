/**
 * One interface for every embedding table (fastText's `Matrix`): the DAN student's n-gram table
 * and a transformer's word embeddings both talk only to this, so a compressed table replaces a
 * dense one without touching model code. A table averages rows into bags (on the tape for
 * training, straight into a caller's buffer for inference), names its tensors, and describes
 * itself in a small JSON `TableSpec` saved in the model manifest (`architecture.table`), which is
 * all a loader needs to rebuild it from the tensors.
 *
 * Formats (tensors under the model's prefix, 'embeddings.' for a DAN):
 *   dense    weight [rows, dim] F32 or F16
 *   int8/4   q [rows, dim*bits/8] U8 (int4: two codes a byte, even column in the low nibble),
 *            scale_bias [rows, 2] F32: row = scale * q + bias (min/max row-wise quantisation)
 *   lowrank  u [rows, rank], v [rank, dim]: row = u[row] @ v
 *   pq       codes [rows, M] U8 (or I32 when K > 256), codebooks [M*K, dim/M]: row = concat over
 *            m of codebooks[m*K + codes[row, m]]  (product quantisation, k-means per sub-vector);
 *            with `qnorm`: also norm_codes [rows] U8, norm_book [N] F32, and the row is
 *            norm_book[norm_codes[row]] times that concatenation (a unit vector when fitted)
 *   codes    codes [rows, M], codebooks [M*K, dim]: row = sum over m of codebooks[m*K + codes[row, m]]
 *            (additive compositional codes)
 */
import type { EmbeddingBagOptions, Parameter, Tensor } from '../../engine/index.js';
import type { TensorToWrite } from '../../io/safetensors.js';

export type TableKind = 'dense' | 'int8' | 'int4' | 'lowrank' | 'pq' | 'codes';

export interface TableSpec {
  kind: TableKind;
  rows: number;
  dim: number;
  /** lowrank: rank; pq/codes: codebooks M and codewords K. */
  rank?: number;
  books?: number;
  words?: number;
  /** dense: stored as float16. */
  dtype?: 'F16';
  /** pq: row norms quantised apart (fastText's -qnorm). */
  qnorm?: boolean;
}

export interface EmbeddingTable {
  readonly kind: TableKind;
  readonly rows: number;
  readonly dim: number;
  /** (B, dim): the mean row of each bag ids[offsets[b] .. offsets[b+1]), on the tape. */
  bagMean(ids: Int32Array, offsets: Int32Array, opts?: EmbeddingBagOptions): Tensor;
  /** (n, dim): row ids[i] for each i, on the tape (a transformer's word-embedding lookup). */
  lookup(ids: Int32Array): Tensor;
  /** The same, no tape, written into out[0 .. nBags*dim) (the inference path). */
  bagMeanInto(nBags: number, ids: Int32Array, offsets: Int32Array, out: Float32Array): void;
  /** Tensors to save, by name under `prefix`; float tensors may be stored as float16. */
  tensors(prefix: string, dtype?: 'F32' | 'F16'): Map<string, TensorToWrite>;
  /** The JSON that, with the tensors, rebuilds this table. */
  spec(): TableSpec;
  /** The trainable values (empty for a table whose codes are frozen integers). */
  trainable(): Parameter[];
  /** Every row, reconstructed as float32 [rows, dim] (for re-compression and checks). */
  toDense(): Float32Array;
}

/** lookup() through the bag verbs: each id its own bag of one. */
export function lookupByBags(t: EmbeddingTable, ids: Int32Array): Tensor {
  return t.bagMean(ids, unitOffsets(ids.length));
}

/** Offsets 0, 1, ..., n: each id its own bag (a plain lookup through the bag verbs). */
export function unitOffsets(n: number): Int32Array {
  const o = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) o[i] = i;
  return o;
}

/** Bytes a table's tensors take as saved. */
export function tableBytes(t: EmbeddingTable, dtype: 'F32' | 'F16' = 'F32'): number {
  let n = 0;
  for (const w of t.tensors('', dtype).values()) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    const per = w.dtype === 'U8' || w.dtype === 'I8' ? 1 : w.dtype === 'F16' || w.dtype === 'BF16' ? 2 : 4;
    n += size * per;
  }
  return n;
}
