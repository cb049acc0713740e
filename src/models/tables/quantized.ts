/**
 * Row-wise int8 / int4 scalar quantisation: each row keeps its own min and step, so a row of
 * small values loses no more than a row of large ones. The codes are frozen integers: a model
 * holding this table trains only its other parameters (compress --mode retrain), so a lookup is a
 * constant on the tape and needs no backward. Lookups are the engine's fused quantBagMean (codes
 * read and averaged straight into the bag, no rows written out); `expanded` keeps the path it
 * replaced (dequantise every looked-up row, then a second bag pass) for the before/after in
 * bench/tableSpeed.ts and the kernel's agreement test.
 */
import { Tensor, dropIds, embeddingBag, getBackend, type EmbeddingBagOptions, type Parameter } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import type { TensorToWrite } from '../../io/safetensors.js';
import { lookupByBags, unitOffsets, type EmbeddingTable, type TableSpec } from './table.js';

export type QuantBits = 8 | 4;

export class QuantTable implements EmbeddingTable {
  readonly kind: 'int8' | 'int4';
  private scratch = new Float32Array(0);
  private iota: Int32Array = new Int32Array(0);

  /**
   * `q` holds rows * dim*bits/32 words of packed codes (see backend dequantGather), `scaleBias`
   * rows * 2 floats.
   */
  constructor(readonly rows: number, readonly dim: number, readonly bits: QuantBits, readonly q: Int32Array, readonly scaleBias: Float32Array, private readonly opts: { expanded?: boolean } = {}) {
    this.kind = bits === 8 ? 'int8' : 'int4';
    checkQuantShape(`--method ${this.kind}`, dim, bits);
    if (q.length !== (rows * dim * bits) / 32 || scaleBias.length !== rows * 2) {
      throw new OpError('QuantTable', `${rows} x ${dim} at ${bits} bits needs ${(rows * dim * bits) / 32} code words and ${rows * 2} scales, got ${q.length} and ${scaleBias.length}`);
    }
  }

  /** Quantises a dense [rows, dim] table (one pass over it, at compression time). */
  static quantize(dense: Float32Array, rows: number, dim: number, bits: QuantBits): QuantTable {
    checkQuantShape(`--method int${bits}`, dim, bits);
    const levels = (1 << bits) - 1;
    const bytes = new Uint8Array((rows * dim * bits) / 8);
    const sb = new Float32Array(rows * 2);
    const rowBytes = (dim * bits) / 8;
    for (let r = 0; r < rows; r++) {
      const o = r * dim;
      let lo = Infinity, hi = -Infinity;
      for (let j = 0; j < dim; j++) {
        const v = dense[o + j]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const step = hi > lo ? (hi - lo) / levels : 1;
      sb[2 * r] = step;
      sb[2 * r + 1] = lo;
      for (let j = 0; j < dim; j++) {
        const c = Math.min(levels, Math.max(0, Math.round((dense[o + j]! - lo) / step)));
        if (bits === 8) bytes[r * rowBytes + j] = c;
        else bytes[r * rowBytes + (j >> 1)] |= c << (4 * (j & 1));
      }
    }
    return new QuantTable(rows, dim, bits, new Int32Array(bytes.buffer), sb);
  }

  bagMean(ids: Int32Array, offsets: Int32Array, opts: EmbeddingBagOptions = {}): Tensor {
    if (this.opts.expanded) return this.bagMeanExpanded(ids, offsets, opts);
    const p = opts.dropIds ?? 0;
    if (p > 0) ({ ids, offsets } = dropIds(ids, offsets, p, opts.seed));
    const nBags = offsets.length - 1;
    const out = new Float32Array(nBags * this.dim);
    getBackend().quantBagMean(nBags, this.dim, this.bits, this.rows, this.q, this.scaleBias, ids, offsets, out);
    // No trainable values: the bag is a constant on the tape.
    return new Tensor(out, [nBags, this.dim]);
  }

  lookup(ids: Int32Array): Tensor {
    return lookupByBags(this, ids);
  }

  bagMeanInto(nBags: number, ids: Int32Array, offsets: Int32Array, out: Float32Array): void {
    if (this.opts.expanded) return this.bagMeanIntoExpanded(nBags, ids, offsets, out);
    getBackend().quantBagMean(nBags, this.dim, this.bits, this.rows, this.q, this.scaleBias, ids, offsets, out);
  }

  tensors(prefix: string): Map<string, TensorToWrite> {
    return new Map<string, TensorToWrite>([
      [`${prefix}q`, { shape: [this.rows, (this.dim * this.bits) / 8], data: new Uint8Array(this.q.buffer, this.q.byteOffset, this.q.byteLength), dtype: 'U8' }],
      [`${prefix}scale_bias`, { shape: [this.rows, 2], data: this.scaleBias }],
    ]);
  }

  spec(): TableSpec {
    return { kind: this.kind, rows: this.rows, dim: this.dim };
  }

  trainable(): Parameter[] {
    return [];
  }

  toDense(): Float32Array {
    const out = new Float32Array(this.rows * this.dim);
    const ids = new Int32Array(this.rows);
    for (let i = 0; i < this.rows; i++) ids[i] = i;
    getBackend().dequantGather(this.rows, this.dim, this.bits, this.rows, this.q, this.scaleBias, ids, out);
    return out;
  }

  /** The old path of bagMean: every looked-up row dequantised, then a bag over them. */
  private bagMeanExpanded(ids: Int32Array, offsets: Int32Array, opts: EmbeddingBagOptions): Tensor {
    const n = ids.length;
    const rowsOut = new Float32Array(n * this.dim);
    getBackend().dequantGather(n, this.dim, this.bits, this.rows, this.q, this.scaleBias, ids, rowsOut);
    return embeddingBag(new Tensor(rowsOut, [n, this.dim]), this.iotaOf(n), offsets, opts);
  }

  /** The old path of bagMeanInto: the window's rows dequantised into scratch, then a bag pass. */
  private bagMeanIntoExpanded(nBags: number, ids: Int32Array, offsets: Int32Array, out: Float32Array): void {
    const n = offsets[nBags]! - offsets[0]!;
    const lo = offsets[0]!;
    if (this.scratch.length < n * this.dim) this.scratch = new Float32Array(Math.max(n, 64) * 2 * this.dim);
    const be = getBackend();
    be.dequantGather(n, this.dim, this.bits, this.rows, this.q, this.scaleBias, ids.subarray(lo, lo + n), this.scratch);
    // Rows were gathered in id order, so bag b's rows sit at offsets[b] - lo ..: shift the ids by lo.
    const iota = this.iotaOf(offsets[nBags]!);
    be.embeddingBagMean(nBags, this.dim, offsets[nBags]!, lo === 0 ? this.scratch : shiftRows(this.scratch, lo, this.dim), iota, offsets, out);
  }

  private iotaOf(n: number): Int32Array {
    if (this.iota.length < n) this.iota = unitOffsets(Math.max(n, this.iota.length * 2)).subarray(0, Math.max(n, this.iota.length * 2));
    return this.iota.subarray(0, n);
  }
}

/** Packs U8 codes as read from a file (one int32 per byte) into the words the kernel reads. */
export function packBytes(codes: Int32Array | Uint8Array): Int32Array {
  const bytes = new Uint8Array(Math.ceil(codes.length / 4) * 4);
  bytes.set(codes);
  return new Int32Array(bytes.buffer);
}

export function checkQuantShape(flag: string, dim: number, bits: number): void {
  if ((dim * bits) % 32 !== 0) {
    throw new OpError(flag, `int${bits} rows must fill whole 32-bit words: the table width ${dim} x ${bits} bits is not a multiple of 32 (width must be a multiple of ${32 / bits})`);
  }
}

// A view in which row lo of `rows` is row 0 would need a negative offset; the callers always
// start at 0 except for a sliced batch, so make that rare case a copy.
function shiftRows(rows: Float32Array, lo: number, dim: number): Float32Array {
  const out = new Float32Array(rows.length + lo * dim);
  out.set(rows, lo * dim);
  return out;
}
