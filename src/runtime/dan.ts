/**
 * The DAN student in the runtime: text -> words -> n-gram ids (vocabulary Map, else fastText's
 * hash into buckets, exactly as text/featurizer.ts) -> mean of table rows (the table kept in its
 * compressed form; each row decoded as it is added) -> tanh(dense) -> logits. Plain JS: a text
 * touches tens of rows of tens of values, which is below what a WebAssembly call would save.
 */
import { FNV_OFFSET, fnvByte, fnvString } from '../text/fnv.js';
import { BundleError, type Container, type DanInfo } from './format.js';
import { words } from './text.js';

export interface LogitsModel {
  readonly numLabels: number;
  /** Logits of one text, written into `out` (length numLabels). */
  logitsInto(text: string, out: Float32Array): void;
}

export type AddRow = (id: number, acc: Float64Array) => void;

export class DanRuntime implements LogitsModel {
  readonly numLabels: number;
  private readonly vocab = new Map<string, number>();
  private readonly addRow: AddRow;
  private readonly acc: Float64Array;
  private readonly hid: Float64Array;
  private readonly w1: Float32Array | undefined;
  private readonly b1: Float32Array | undefined;
  private readonly w2: Float32Array;
  private readonly b2: Float32Array;

  constructor(private readonly info: DanInfo, c: Container, numLabels: number) {
    const { dim, hidden, vocab, buckets } = info;
    this.numLabels = numLabels;
    const ngrams = c.strings('ngrams');
    if (ngrams.length !== vocab) throw new BundleError(`bundle is corrupted: ${ngrams.length} n-grams, the manifest says ${vocab}`);
    for (let i = 0; i < ngrams.length; i++) this.vocab.set(ngrams[i]!, i);
    if (info.table.rows !== vocab + buckets || info.table.dim !== dim) throw new BundleError(`bundle is corrupted: a ${info.table.rows} x ${info.table.dim} table for ${vocab} n-grams + ${buckets} buckets of width ${dim}`);
    this.addRow = tableReader(info.table, c, 'embeddings.');
    this.acc = new Float64Array(dim);
    this.hid = new Float64Array(Math.max(1, hidden));
    const width = hidden > 0 ? hidden : dim;
    if (hidden > 0) {
      this.w1 = sized(c.floats('hidden.weight'), hidden * dim, 'hidden.weight');
      this.b1 = sized(c.floats('hidden.bias'), hidden, 'hidden.bias');
    }
    this.w2 = sized(c.floats('output.weight'), numLabels * width, 'output.weight');
    this.b2 = sized(c.floats('output.bias'), numLabels, 'output.bias');
  }

  logitsInto(text: string, out: Float32Array): void {
    const { maxN, buckets, dim, hidden, vocab: V } = this.info;
    const ws = words(text, this.info.lowercase);
    const acc = this.acc;
    acc.fill(0);
    let n = 0;
    for (let i = 0; i < ws.length; i++) {
      const last = Math.min(maxN, ws.length - i);
      let g = '';
      let h = FNV_OFFSET;
      for (let k = 1; k <= last; k++) {
        const w = ws[i + k - 1]!;
        g = k === 1 ? w : `${g} ${w}`;
        if (buckets > 0) {
          if (k > 1) h = fnvByte(h, 0x20);
          h = fnvString(h, w);
        }
        let id = this.vocab.get(g);
        if (id === undefined) {
          if (buckets === 0) continue;
          id = V + ((h >>> 0) % buckets);
        }
        this.addRow(id, acc);
        n++;
      }
    }
    if (n > 0) for (let j = 0; j < dim; j++) acc[j] = Math.fround(acc[j]! / n);
    let x: Float64Array = acc;
    let width = dim;
    if (this.w1) {
      dense(acc, dim, this.w1, this.b1!, hidden, this.hid);
      for (let j = 0; j < hidden; j++) this.hid[j] = Math.tanh(this.hid[j]!);
      x = this.hid;
      width = hidden;
    }
    const C = this.numLabels;
    for (let c = 0; c < C; c++) {
      let s = this.b2[c]!;
      const o = c * width;
      for (let j = 0; j < width; j++) s += this.w2[o + j]! * x[j]!;
      out[c] = s;
    }
  }
}

function dense(x: Float64Array, inW: number, w: Float32Array, b: Float32Array, outW: number, y: Float64Array): void {
  for (let r = 0; r < outW; r++) {
    let s = b[r]!;
    const o = r * inW;
    for (let j = 0; j < inW; j++) s += w[o + j]! * x[j]!;
    y[r] = s;
  }
}

function sized(t: Float32Array, n: number, name: string): Float32Array {
  if (t.length !== n) throw new BundleError(`bundle is corrupted: tensor ${name} holds ${t.length} values, the model needs ${n}`);
  return t;
}

/** acc += row `id` of the table (tensors under `prefix`), decoded from whatever form it is stored in. */
export function tableReader(t: DanInfo['table'], c: Container, prefix: string): AddRow {
  const { rows, dim } = t;
  const need = (name: string, n: number): Float32Array | Uint8Array | Int32Array => {
    const x = c.tensor(`${prefix}${name}`);
    if (x.length !== n) throw new BundleError(`bundle is corrupted: ${prefix}${name} holds ${x.length} values, a ${t.kind} table of ${rows} x ${dim} needs ${n}`);
    return x;
  };
  const floats = (name: string, n: number): Float32Array => {
    const x = need(name, n);
    if (!(x instanceof Float32Array)) throw new BundleError(`bundle is corrupted: ${prefix}${name} should be floating point`);
    return x;
  };
  const whole = (v: number | undefined, what: string): number => {
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new BundleError(`bundle is corrupted: table ${what} missing`);
    return v;
  };
  switch (t.kind) {
    case 'dense': {
      const w = floats('weight', rows * dim);
      return (id, acc) => {
        const o = id * dim;
        for (let j = 0; j < dim; j++) acc[j] += w[o + j]!;
      };
    }
    case 'int8':
    case 'int4': {
      const bits = t.kind === 'int8' ? 8 : 4;
      const q = need('q', (rows * dim * bits) / 8);
      const sb = floats('scale_bias', rows * 2);
      const rb = (dim * bits) / 8;
      return bits === 8
        ? (id, acc) => {
            const s = sb[2 * id]!, b = sb[2 * id + 1]!, o = id * rb;
            for (let j = 0; j < dim; j++) acc[j] += Math.fround(s * q[o + j]! + b);
          }
        : (id, acc) => {
            const s = sb[2 * id]!, b = sb[2 * id + 1]!, o = id * rb;
            for (let j = 0; j < dim; j++) acc[j] += Math.fround(s * ((q[o + (j >> 1)]! >> (4 * (j & 1))) & 15) + b);
          };
    }
    case 'lowrank': {
      const r = whole(t.rank, 'rank');
      const u = floats('u', rows * r);
      const v = floats('v', r * dim);
      return (id, acc) => {
        for (let j = 0; j < dim; j++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += u[id * r + k]! * v[k * dim + j]!;
          acc[j] += Math.fround(s);
        }
      };
    }
    case 'pq':
    case 'codes': {
      const M = whole(t.books, 'books'), K = whole(t.words, 'words');
      const sub = t.kind === 'pq' ? dim / M : dim;
      if (!Number.isInteger(sub)) throw new BundleError(`bundle is corrupted: ${M} books do not divide width ${dim}`);
      const codes = need('codes', rows * M);
      const books = floats('codebooks', M * K * sub);
      for (let i = 0; i < codes.length; i++) if (codes[i]! < 0 || codes[i]! >= K) throw new BundleError(`bundle is corrupted: code ${codes[i]} out of range 0..${K - 1}`);
      if (t.qnorm && t.kind === 'pq') {
        const nc = need('norm_codes', rows);
        const nb = c.tensor(`${prefix}norm_book`);
        if (!(nb instanceof Float32Array)) throw new BundleError(`bundle is corrupted: ${prefix}norm_book should be floating point`);
        for (let i = 0; i < rows; i++) if (nc[i]! < 0 || nc[i]! >= nb.length) throw new BundleError(`bundle is corrupted: norm code ${nc[i]} out of range 0..${nb.length - 1}`);
        return (id, acc) => {
          const s = nb[nc[id]!]!;
          for (let m = 0; m < M; m++) {
            const o = (m * K + codes[id * M + m]!) * sub;
            for (let j = 0; j < sub; j++) acc[m * sub + j] += Math.fround(s * books[o + j]!);
          }
        };
      }
      return t.kind === 'pq'
        ? (id, acc) => {
            for (let m = 0; m < M; m++) {
              const o = (m * K + codes[id * M + m]!) * sub;
              for (let j = 0; j < sub; j++) acc[m * sub + j] += books[o + j]!;
            }
          }
        : (id, acc) => {
            for (let j = 0; j < dim; j++) {
              let s = 0;
              for (let m = 0; m < M; m++) s += books[(m * K + codes[id * M + m]!) * dim + j]!;
              acc[j] += Math.fround(s);
            }
          };
    }
    default:
      throw new BundleError(`bundle uses table kind ${JSON.stringify((t as { kind: unknown }).kind)}, which this runtime does not know: update slimtext`);
  }
}
