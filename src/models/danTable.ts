/**
 * The n-gram embedding table of a DAN student, behind a few verbs (fastText's `Matrix`): average
 * rows into vectors (on the autograd tape for training, or straight into a caller's buffer for
 * inference), name the tensors to save. The DAN only talks to the EmbeddingTable interface
 * (tables/table.ts), so a compressed table replaces the dense one without touching the model.
 */
import { BinaryOp } from '../engine/backend.js';
import { Module, Parameter, embedding, embeddingBag, getBackend, type EmbeddingBagOptions, type Tensor } from '../engine/index.js';
import type { TensorToWrite } from '../io/safetensors.js';
import type { EmbeddingTable, TableSpec } from './tables/table.js';
import { OpError } from '../errors.js';

/** The n-gram table of a DAN: any embedding table (models/tables/table.ts). */
export type NgramTable = EmbeddingTable;

/** A plain rows x dim float32 table. */
export class DenseNgramTable extends Module implements EmbeddingTable {
  readonly kind = 'dense' as const;
  readonly weight: Parameter;

  /**
   * `data`, when given, becomes the table as it is (no copy: a buffer read from a model file, or a
   * SharedArrayBuffer view that worker threads update together). With `initSeed` the table is
   * initialised (see fillRandomSigns); without, it is left as it is.
   */
  /** How tensors() stores the table unless told otherwise (f16 compression keeps 'F16'). */
  readonly storeDtype: 'F32' | 'F16';

  constructor(readonly rows: number, readonly dim: number, opts: { data?: Float32Array; initSeed?: number; storeDtype?: 'F32' | 'F16' } = {}) {
    super();
    this.storeDtype = opts.storeDtype ?? 'F32';
    if (!(Number.isInteger(rows) && rows >= 1 && Number.isInteger(dim) && dim >= 1)) throw new OpError('DenseNgramTable', `needs whole rows >= 1 and dim >= 1, got ${rows} x ${dim}`);
    const data = opts.data ?? new Float32Array(rows * dim);
    if (data.length !== rows * dim) throw new OpError('DenseNgramTable', `data holds ${data.length} values, the table needs ${rows} x ${dim}`);
    this.weight = new Parameter(data, [rows, dim], 'weight');
    if (opts.initSeed !== undefined) fillRandomSigns(data, 1 / dim, opts.initSeed);
  }

  bagMean(ids: Int32Array, offsets: Int32Array, opts: EmbeddingBagOptions = {}): Tensor {
    return embeddingBag(this.weight, ids, offsets, opts);
  }

  lookup(ids: Int32Array): Tensor {
    return embedding(this.weight, ids);
  }

  bagMeanInto(nBags: number, ids: Int32Array, offsets: Int32Array, out: Float32Array): void {
    getBackend().embeddingBagMean(nBags, this.dim, this.rows, this.weight.data, ids, offsets, out);
  }

  tensors(prefix: string, dtype: 'F32' | 'F16' = this.storeDtype): Map<string, TensorToWrite> {
    return new Map([[`${prefix}weight`, { shape: [this.rows, this.dim], data: this.weight.data, dtype }]]);
  }

  spec(): TableSpec {
    return { kind: 'dense', rows: this.rows, dim: this.dim, ...(this.storeDtype === 'F16' ? { dtype: 'F16' as const } : {}) };
  }

  trainable(): Parameter[] {
    return [this.weight];
  }

  toDense(): Float32Array {
    return this.weight.data;
  }
}

/**
 * x[i] = +-scale with random signs: the same spread as fastText's uniform(-1/dim, 1/dim) start, but
 * drawn by the backend's counter-based RNG (the dropout kernel: mask = 0 or 2 at p = 0.5, then
 * scale * (mask - 1)). A table of a million rows holds hundreds of millions of values; the seeded
 * JS generator takes ~30 ns a value (minutes), the kernel a fraction of a second.
 */
export function fillRandomSigns(x: Float32Array, scale: number, seed: number): void {
  const be = getBackend();
  const CHUNK = 1 << 20;
  const ones = new Float32Array(Math.min(CHUNK, x.length));
  be.fill(ones.length, 1, ones);
  const scratch = new Float32Array(ones.length);
  const shift = Float32Array.of(-scale);
  for (let o = 0, k = 0; o < x.length; o += CHUNK, k++) {
    const n = Math.min(CHUNK, x.length - o);
    const part = x.subarray(o, o + n);
    be.dropout(n, 0.5, (seed + Math.imul(k, 0x9e3779b9)) >>> 0, ones, scratch, part);
    be.axpby(n, scale, part, 0, part);
    be.binary(BinaryOp.Add, Int32Array.of(n), part, Int32Array.of(1), shift, Int32Array.of(0), part, false);
  }
}
