/**
 * Tables of small integer codes into learned codebooks, M codebooks of K codewords each:
 *   pq     product quantisation: the width splits into M sub-vectors of dim/M; row r is the
 *          concatenation of codebooks[m*K + codes[r, m]] (fastText's quantize, k-means per
 *          sub-vector)
 *   codes  additive compositional codes (Shu & Nakayama 2018): row r is the sum of
 *          codebooks[m*K + codes[r, m]], each codeword full width
 * Both reduce to a mean embedding bag over the codebooks once each id is expanded into its M
 * codeword ids, so lookups and the (sparse) codebook gradient are the engine's embeddingBag,
 * checked like every op. pq bag (b, m) holds the m-th codeword of every id of bag b, so the
 * (B*M, dim/M) result is already (B, dim); codes bag b holds all M codewords of every id and its
 * mean is scaled by M. The codes themselves are frozen integers; the codebooks train.
 */
import { Module, Parameter, dropIds, embeddingBag, getBackend, reshape, scale, type EmbeddingBagOptions, type Tensor } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import type { TensorToWrite } from '../../io/safetensors.js';
import { lookupByBags, type EmbeddingTable, type TableSpec } from './table.js';

export type CodesKind = 'pq' | 'codes';

export class CodesTable extends Module implements EmbeddingTable {
  readonly codebooks: Parameter;
  /** Width of one codeword: dim/M for pq, dim for additive codes. */
  readonly sub: number;
  private exIds = new Int32Array(0);
  private exOff = new Int32Array(0);

  /** `codes` [rows, M] in [0, K); `codebooks` [M*K, sub]. */
  constructor(readonly kind: CodesKind, readonly rows: number, readonly dim: number, readonly books: number, readonly words: number, readonly codes: Uint8Array | Int32Array, codebooks: Float32Array) {
    super();
    this.sub = kind === 'pq' ? checkPq(dim, books) : dim;
    if (!(Number.isInteger(words) && words >= 2)) throw new OpError(`--method ${kind}`, `needs at least 2 codewords a codebook, got ${words}`);
    if (codes.length !== rows * books) throw new OpError('CodesTable', `${rows} rows x ${books} codebooks needs ${rows * books} codes, got ${codes.length}`);
    if (codebooks.length !== books * words * this.sub) throw new OpError('CodesTable', `${books} x ${words} codewords of ${this.sub} need ${books * words * this.sub} values, got ${codebooks.length}`);
    this.codebooks = new Parameter(codebooks, [books * words, this.sub], 'codebooks');
  }

  bagMean(ids: Int32Array, offsets: Int32Array, opts: EmbeddingBagOptions = {}): Tensor {
    const p = opts.dropIds ?? 0;
    if (p > 0) ({ ids, offsets } = dropIds(ids, offsets, p, opts.seed));
    const nBags = offsets.length - 1;
    const { ids: ex, offsets: exOff } = this.expand(nBags, ids, offsets, true);
    const bag = embeddingBag(this.codebooks, ex, exOff);
    return this.kind === 'pq' ? reshape(bag, [nBags, this.dim]) : scale(bag, this.books);
  }

  lookup(ids: Int32Array): Tensor {
    return lookupByBags(this, ids);
  }

  bagMeanInto(nBags: number, ids: Int32Array, offsets: Int32Array, out: Float32Array): void {
    const { ids: ex, offsets: exOff } = this.expand(nBags, ids, offsets, false);
    const be = getBackend();
    const M = this.books;
    be.embeddingBagMean(this.kind === 'pq' ? nBags * M : nBags, this.sub, M * this.words, this.codebooks.data, ex, exOff, out);
    if (this.kind === 'codes') be.axpby(nBags * this.dim, M, out, 0, out);
  }

  tensors(prefix: string, dtype: 'F32' | 'F16' = 'F32'): Map<string, TensorToWrite> {
    const small = this.words <= 256;
    return new Map<string, TensorToWrite>([
      [`${prefix}codes`, { shape: [this.rows, this.books], data: small ? Uint8Array.from(this.codes) : Int32Array.from(this.codes), dtype: small ? 'U8' : 'I32' }],
      [`${prefix}codebooks`, { shape: [this.books * this.words, this.sub], data: this.codebooks.data, dtype }],
    ]);
  }

  spec(): TableSpec {
    return { kind: this.kind, rows: this.rows, dim: this.dim, books: this.books, words: this.words };
  }

  trainable(): Parameter[] {
    return [this.codebooks];
  }

  toDense(): Float32Array {
    const n = this.rows;
    const offsets = new Int32Array(n + 1);
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = i;
      offsets[i + 1] = i + 1;
    }
    const out = new Float32Array(n * this.dim);
    this.bagMeanInto(n, ids, offsets, out);
    return out;
  }

  /**
   * Codeword ids of each id occurrence, CSR: pq bags (b, m) in that order, codes bags b. Integer
   * index work of M per id (no float arithmetic); buffers reused unless `fresh` (the tape keeps
   * the arrays it is given until backward).
   */
  private expand(nBags: number, ids: Int32Array, offsets: Int32Array, fresh: boolean): { ids: Int32Array; offsets: Int32Array } {
    const M = this.books, K = this.words, codes = this.codes;
    const lo = offsets[0]!, n = offsets[nBags]! - lo;
    const nOff = (this.kind === 'pq' ? nBags * M : nBags) + 1;
    let ex = this.exIds, off = this.exOff;
    if (fresh) {
      ex = new Int32Array(n * M);
      off = new Int32Array(nOff);
    } else {
      if (ex.length < n * M) ex = this.exIds = new Int32Array(Math.max(n * M, ex.length * 2));
      if (off.length < nOff) off = this.exOff = new Int32Array(Math.max(nOff, off.length * 2));
    }
    for (const id of ids.subarray(lo, lo + n)) if (!(id >= 0 && id < this.rows)) throw new OpError('embeddingBag', `id ${id} is out of range for a ${this.kind} table of ${this.rows} rows`);
    let k = 0;
    off[0] = 0;
    if (this.kind === 'pq') {
      for (let b = 0; b < nBags; b++) {
        const a = offsets[b]!, e = offsets[b + 1]!;
        for (let m = 0; m < M; m++) {
          const base = m * K;
          for (let j = a; j < e; j++) ex[k++] = base + codes[ids[j]! * M + m]!;
          off[b * M + m + 1] = k;
        }
      }
    } else {
      for (let b = 0; b < nBags; b++) {
        for (let j = offsets[b]!; j < offsets[b + 1]!; j++) {
          const c = ids[j]! * M;
          for (let m = 0; m < M; m++) ex[k++] = m * K + codes[c + m]!;
        }
        off[b + 1] = k;
      }
    }
    return { ids: ex.subarray(0, k), offsets: off.subarray(0, nOff) };
  }
}

/** Sub-vector width of PQ with M codebooks; the error names the flag and the sizes. */
export function checkPq(dim: number, books: number): number {
  if (!(Number.isInteger(books) && books >= 1 && dim % books === 0)) {
    throw new OpError('--pq-dsub', `the table width ${dim} must split into whole sub-vectors: ${dim} / ${books} codebooks is not whole`);
  }
  return dim / books;
}
