/**
 * Low-rank table: row r = u[r] @ v, u [rows, rank], v [rank, dim]. A bag's mean is the mean of
 * its u rows times v, so lookups cost a rank-wide bag plus one small product per batch.
 */
import { Module, Parameter, embeddingBag, getBackend, matmul, type EmbeddingBagOptions, type Tensor } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import type { TensorToWrite } from '../../io/safetensors.js';
import { lookupByBags, type EmbeddingTable, type TableSpec } from './table.js';

export class LowRankTable extends Module implements EmbeddingTable {
  readonly kind = 'lowrank' as const;
  readonly u: Parameter;
  readonly v: Parameter;
  private scratch = new Float32Array(0);

  constructor(readonly rows: number, readonly dim: number, readonly rank: number, u: Float32Array, v: Float32Array) {
    super();
    checkRank('--rank', rank, dim);
    if (u.length !== rows * rank || v.length !== rank * dim) throw new OpError('LowRankTable', `rank ${rank} of a ${rows} x ${dim} table needs u of ${rows * rank} and v of ${rank * dim} values, got ${u.length} and ${v.length}`);
    this.u = new Parameter(u, [rows, rank], 'u');
    this.v = new Parameter(v, [rank, dim], 'v');
  }

  bagMean(ids: Int32Array, offsets: Int32Array, opts: EmbeddingBagOptions = {}): Tensor {
    return matmul(embeddingBag(this.u, ids, offsets, opts), this.v);
  }

  lookup(ids: Int32Array): Tensor {
    return lookupByBags(this, ids);
  }

  bagMeanInto(nBags: number, ids: Int32Array, offsets: Int32Array, out: Float32Array): void {
    const r = this.rank;
    if (this.scratch.length < nBags * r) this.scratch = new Float32Array(Math.max(nBags, 64) * 2 * r);
    const be = getBackend();
    be.embeddingBagMean(nBags, r, this.rows, this.u.data, ids, offsets, this.scratch);
    be.gemm(false, false, nBags, this.dim, r, 1, this.scratch, r, 0, this.v.data, this.dim, 0, 0, out, this.dim, 0, 1);
  }

  tensors(prefix: string, dtype: 'F32' | 'F16' = 'F32'): Map<string, TensorToWrite> {
    return new Map([
      [`${prefix}u`, { shape: [this.rows, this.rank], data: this.u.data, dtype }],
      [`${prefix}v`, { shape: [this.rank, this.dim], data: this.v.data, dtype }],
    ]);
  }

  spec(): TableSpec {
    return { kind: 'lowrank', rows: this.rows, dim: this.dim, rank: this.rank };
  }

  trainable(): Parameter[] {
    return [this.u, this.v];
  }

  toDense(): Float32Array {
    const out = new Float32Array(this.rows * this.dim);
    getBackend().gemm(false, false, this.rows, this.dim, this.rank, 1, this.u.data, this.rank, 0, this.v.data, this.dim, 0, 0, out, this.dim, 0, 1);
    return out;
  }
}

export function checkRank(flag: string, rank: number, dim: number): void {
  if (!(Number.isInteger(rank) && rank >= 1 && rank <= dim)) throw new OpError(flag, `rank ${rank} must be a whole number from 1 to the table width ${dim}`);
}
