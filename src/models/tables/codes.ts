/**
 * Tables of small integer codes into learned codebooks, M codebooks of K codewords each:
 *   pq     product quantisation: the width splits into M sub-vectors of dim/M; row r is the
 *          concatenation of codebooks[m*K + codes[r, m]] (fastText's quantize, k-means per
 *          sub-vector)
 *   codes  additive compositional codes (Shu & Nakayama 2018): row r is the sum of
 *          codebooks[m*K + codes[r, m]], each codeword full width
 * With one-byte codes (K <= 256, the usual case) lookups and the codebook gradient are the
 * engine's fused codesBag op (native / wasm kernels reading codes and codebooks directly). With
 * wider codes both reduce to a mean embedding bag over the codebooks once each id is expanded
 * into its M codeword ids: pq bag (b, m) holds the m-th codeword of every id of bag b, so the
 * (B*M, dim/M) result is already (B, dim); codes bag b holds all M codewords of every id and its
 * mean is scaled by M. The codes themselves are frozen integers; the codebooks train.
 *
 * Norm quantisation (pq only, fastText's -qnorm): the codebooks describe unit-length rows and
 * each row's norm is a one-byte code into its own 1-D codebook of norms; a row is its norm times
 * its unit PQ vector. The norms are frozen with the codes.
 */
import { Module, Parameter, codesBag, dropIds, embeddingBag, getBackend, reshape, scale, type CodesLayout, type EmbeddingBagOptions, type Tensor } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import type { TensorToWrite } from '../../io/safetensors.js';
import { lookupByBags, type EmbeddingTable, type TableSpec } from './table.js';

export type CodesKind = 'pq' | 'codes';

/** Quantised row norms: norm of row r = book[codes[r]]. */
export interface QuantNorms {
  codes: Uint8Array;
  book: Float32Array;
}

export class CodesTable extends Module implements EmbeddingTable {
  readonly codebooks: Parameter;
  /** Width of one codeword: dim/M for pq, dim for additive codes. */
  readonly sub: number;
  private exIds = new Int32Array(0);
  private exOff = new Int32Array(0);
  /** What the fused kernels read (one-byte codes only). */
  private readonly layout: CodesLayout | undefined;

  /** `codes` [rows, M] in [0, K); `codebooks` [M*K, sub]; `norms` (pq, one-byte codes) quantised row norms. */
  constructor(readonly kind: CodesKind, readonly rows: number, readonly dim: number, readonly books: number, readonly words: number, readonly codes: Uint8Array | Int32Array, codebooks: Float32Array, readonly norms?: QuantNorms) {
    super();
    this.sub = kind === 'pq' ? checkPq(dim, books) : dim;
    if (!(Number.isInteger(words) && words >= 2)) throw new OpError(`--method ${kind}`, `needs at least 2 codewords a codebook, got ${words}`);
    if (codes.length !== rows * books) throw new OpError('CodesTable', `${rows} rows x ${books} codebooks needs ${rows * books} codes, got ${codes.length}`);
    if (codebooks.length !== books * words * this.sub) throw new OpError('CodesTable', `${books} x ${words} codewords of ${this.sub} need ${books * words * this.sub} values, got ${codebooks.length}`);
    this.codebooks = new Parameter(codebooks, [books * words, this.sub], 'codebooks');
    let rowScale: Float32Array | null = null;
    if (norms) {
      if (kind !== 'pq' || !(codes instanceof Uint8Array)) throw new OpError('--qnorm', `norm quantisation is for pq tables of at most 256 codewords (this is ${kind}, ${words} codewords)`);
      if (norms.codes.length !== rows) throw new OpError('CodesTable', `${rows} rows need ${rows} norm codes, got ${norms.codes.length}`);
      rowScale = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        const c = norms.codes[r]!;
        if (c >= norms.book.length) throw new OpError('CodesTable', `row ${r} has norm code ${c}, beyond the ${norms.book.length} norms`);
        rowScale[r] = norms.book[c]!;
      }
    }
    this.layout = codes instanceof Uint8Array ? { kind, rows, dim, books, words, codes, rowScale } : undefined;
  }

  bagMean(ids: Int32Array, offsets: Int32Array, opts: EmbeddingBagOptions = {}): Tensor {
    const p = opts.dropIds ?? 0;
    if (p > 0) ({ ids, offsets } = dropIds(ids, offsets, p, opts.seed));
    const nBags = offsets.length - 1;
    if (this.layout) return codesBag(this.codebooks, this.layout, ids, offsets);
    const { ids: ex, offsets: exOff } = this.expand(nBags, ids, offsets, true);
    const bag = embeddingBag(this.codebooks, ex, exOff);
    return this.kind === 'pq' ? reshape(bag, [nBags, this.dim]) : scale(bag, this.books);
  }

  lookup(ids: Int32Array): Tensor {
    return lookupByBags(this, ids);
  }

  bagMeanInto(nBags: number, ids: Int32Array, offsets: Int32Array, out: Float32Array): void {
    const be = getBackend();
    const L = this.layout;
    if (L) {
      const lo = offsets[0]!;
      // The kernels want ids and offsets that start together; a caller's window may not.
      const offs = lo === 0 ? offsets.subarray(0, nBags + 1) : offsets.subarray(0, nBags + 1).map((o) => o - lo);
      be.codesBagMean(L.kind === 'pq' ? 0 : 1, nBags, this.dim, this.rows, this.books, this.words, L.codes, this.codebooks.data, L.rowScale, ids.subarray(lo), offs, out);
      return;
    }
    const { ids: ex, offsets: exOff } = this.expand(nBags, ids, offsets, false);
    const M = this.books;
    be.embeddingBagMean(this.kind === 'pq' ? nBags * M : nBags, this.sub, M * this.words, this.codebooks.data, ex, exOff, out);
    if (this.kind === 'codes') be.axpby(nBags * this.dim, M, out, 0, out);
  }

  tensors(prefix: string, dtype: 'F32' | 'F16' = 'F32'): Map<string, TensorToWrite> {
    const small = this.words <= 256;
    const m = new Map<string, TensorToWrite>([
      [`${prefix}codes`, { shape: [this.rows, this.books], data: small ? Uint8Array.from(this.codes) : Int32Array.from(this.codes), dtype: small ? 'U8' : 'I32' }],
      [`${prefix}codebooks`, { shape: [this.books * this.words, this.sub], data: this.codebooks.data, dtype }],
    ]);
    if (this.norms) {
      m.set(`${prefix}norm_codes`, { shape: [this.rows], data: this.norms.codes, dtype: 'U8' });
      m.set(`${prefix}norm_book`, { shape: [this.norms.book.length], data: this.norms.book, dtype: 'F32' });
    }
    return m;
  }

  spec(): TableSpec {
    return { kind: this.kind, rows: this.rows, dim: this.dim, books: this.books, words: this.words, ...(this.norms ? { qnorm: true } : {}) };
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
