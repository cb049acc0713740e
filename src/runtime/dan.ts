/**
 * The DAN student in the runtime: text -> words -> n-gram ids -> mean of table rows (the table
 * kept in its compressed form) -> tanh(dense) -> logits, allocating nothing per text.
 *
 * Where the time went in the first, plain-JS version (CLINC150 student, 20,000 n-grams, PQ
 * table, 200 wide, 150 labels; per text, on the loaded machine): dense layers ~270 us (70,000
 * multiply-adds in JS number loops, ~75%), building scores for 150 labels and sorting them ~90 us,
 * table rows ~27 us (18 ids x 200 through a closure), n-gram strings + Map lookups ~12 us, word
 * split ~0.5 us. So now:
 *   - words are found by a char-code scan (printable ASCII; anything else takes the normaliser
 *     and the regex split, exactly as before) as spans of one string, no word strings;
 *   - n-grams are looked up by their fastText hash (computed word by word anyway, for buckets) in
 *     an open-addressing table of typed arrays, each hit confirmed against the n-gram's string
 *     char by char, so the lookup stays exact (no fingerprints, no joined strings);
 *   - the dense layers, and the rows of a PQ (norm-quantised or not), int8 or int4 table, run in a small WebAssembly SIMD kernel
 *     (assembly/index.ts, inlined) over the model's tensors laid out once at load; where
 *     WebAssembly SIMD is missing the same steps run in plain JS.
 */
import { FNV_OFFSET, FNV_PRIME, fnvSlice, fnvString } from '../text/fnv.js';
import { bertNormalize } from '../text/bertNormalize.js';
import { BundleError, halfLut, type Container, type DanInfo } from './format.js';
import { WORD } from './text.js';
import { kernel, type Kernel } from './kernel.js';

export interface LogitsModel {
  readonly numLabels: number;
  /** Logits of one text, written into `out` (length numLabels). */
  logitsInto(text: string, out: Float32Array): void;
}

export interface RuntimeOptions {
  /** Use the WebAssembly kernel when the engine has WebAssembly SIMD (default true). */
  wasm?: boolean;
}

export type AddRow = (id: number, acc: Float64Array) => void;

/** Ids summed per kernel call (longer texts go in several calls). */
const CHUNK = 2048;

export class DanRuntime implements LogitsModel {
  readonly numLabels: number;
  /** Whether the WebAssembly kernel runs this model. */
  readonly wasm: boolean;
  /** Whether the kernel also sums the table's rows (PQ tables, norm-quantised or not, int8 and int4 ones); else a JS reader does. */
  readonly tableInKernel: boolean;
  private readonly ngrams: string[];
  private readonly slotId: Int32Array;
  private readonly slotHash: Int32Array;
  private readonly mask: number;
  private readonly addRow: AddRow;
  private readonly acc: Float64Array;
  private readonly hid: Float64Array;
  private readonly w1: Float32Array | undefined;
  private readonly b1: Float32Array | undefined;
  private readonly w2: Float32Array;
  private readonly b2: Float32Array;
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  /** The text the word spans point into (normalised). */
  private norm = '';
  private ids: Int32Array;
  private k: Kernel | undefined;
  private pq: { codes: number; wide: number; books: number; M: number; K: number; sub: number; ncodes: number; nbook: number } | undefined;
  private quant: { q: number; bits: number; sb: number } | undefined;
  private ptr = { w1: 0, b1: 0, w2: 0, b2: 0, ids: 0, acc: 0, hid: 0, out: 0 };
  private accF32!: Float32Array;
  private hidF32!: Float32Array;
  private outF32!: Float32Array;

  constructor(private readonly info: DanInfo, c: Container, numLabels: number, opts: RuntimeOptions = {}) {
    const { dim, hidden, vocab, buckets } = info;
    this.numLabels = numLabels;
    if (!(Number.isInteger(info.maxN) && info.maxN >= 1)) throw new BundleError(`bundle is corrupted: maxN ${info.maxN}`);
    const ngrams = c.strings('ngrams');
    if (ngrams.length !== vocab) throw new BundleError(`bundle is corrupted: ${ngrams.length} n-grams, the manifest says ${vocab}`);
    this.ngrams = ngrams;
    let size = 16;
    while (size < 2 * vocab) size *= 2;
    this.mask = size - 1;
    this.slotId = new Int32Array(size).fill(-1);
    this.slotHash = new Int32Array(size);
    for (let i = 0; i < vocab; i++) {
      const h = fnvString(FNV_OFFSET, ngrams[i]!);
      let slot = mix(h) & this.mask;
      while (this.slotId[slot]! >= 0) slot = (slot + 1) & this.mask;
      this.slotId[slot] = i;
      this.slotHash[slot] = h;
    }
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
    this.ids = new Int32Array(CHUNK);
    this.k = opts.wasm === false ? undefined : kernel();
    this.wasm = this.k !== undefined;
    if (this.k) this.layOut(c);
    this.tableInKernel = this.pq !== undefined || this.quant !== undefined;
  }

  /** Copies the dense layers (and a PQ, int8 or int4 table) into the kernel's memory; views on it. */
  private layOut(c: Container): void {
    const k = this.k!;
    const { dim, hidden } = this.info;
    const t = this.info.table;
    let pqCodes: Uint8Array | Int32Array | undefined, pqBooks: Float32Array | undefined;
    let normCodes: Uint8Array | undefined, normBook: Float32Array | undefined;
    // Norm-quantised (--qnorm): the kernel scales row id by normBook[normCodes[id]], one byte a
    // row (tableReader has checked every code against the book already). slimtext writes u8
    // norm codes; wider ones that do not fit a byte stay with the plain-JS reader.
    const nc = t.kind === 'pq' && t.qnorm ? c.tensor('embeddings.norm_codes') : undefined;
    const nb = nc ? c.floats('embeddings.norm_book') : undefined;
    if (t.kind === 'pq' && (!nc || nc instanceof Uint8Array || nb!.length <= 256)) {
      pqCodes = c.tensor('embeddings.codes') as Uint8Array | Int32Array;
      pqBooks = c.floats('embeddings.codebooks');
      if (nc) {
        normCodes = nc instanceof Uint8Array ? nc : Uint8Array.from(nc);
        normBook = nb;
      }
    }
    const sizes = { w1: this.w1?.byteLength ?? 0, b1: this.b1?.byteLength ?? 0, w2: this.w2.byteLength, b2: this.b2.byteLength, ids: CHUNK * 4, acc: dim * 4, hid: Math.max(1, hidden) * 4, out: this.numLabels * 4 };
    // int8 / int4: the u8 codes as stored (tableReader has checked both sizes); the kernel reads
    // four values at a time, so a width that is not a multiple of 4 stays with the JS reader.
    const qc = (t.kind === 'int8' || t.kind === 'int4') && dim % 4 === 0 ? c.tensor('embeddings.q') : undefined;
    const quantQ = qc instanceof Uint8Array ? qc : undefined;
    const quantSb = quantQ ? c.floats('embeddings.scale_bias') : undefined;
    const extra = [pqCodes, pqBooks, normCodes, normBook, quantQ, quantSb].reduce((a, x) => a + align16(x?.byteLength ?? 0), 64);
    let at = k.reserve(Object.values(sizes).reduce((a, b) => a + align16(b), 0) + extra);
    const place = (bytes: number) => {
      const p = at;
      at += align16(bytes);
      return p;
    };
    for (const name of Object.keys(sizes) as (keyof typeof sizes)[]) this.ptr[name] = place(sizes[name]);
    if (pqCodes && pqBooks) {
      const codes = place(pqCodes.byteLength), books = place(pqBooks.byteLength);
      const M = t.books!, K = t.words!;
      let ncodes = 0, nbook = 0;
      if (normCodes && normBook) {
        ncodes = place(normCodes.byteLength);
        nbook = place(normBook.byteLength);
        k.u8().set(normCodes, ncodes);
        k.f32().set(normBook, nbook / 4);
      }
      this.pq = { codes, wide: pqCodes instanceof Int32Array ? 1 : 0, books, M, K, sub: dim / M, ncodes, nbook };
      k.u8().set(new Uint8Array(pqCodes.buffer, pqCodes.byteOffset, pqCodes.byteLength), codes);
      k.u8().set(new Uint8Array(pqBooks.buffer, pqBooks.byteOffset, pqBooks.byteLength), books);
    }
    if (quantQ && quantSb) {
      this.quant = { q: place(quantQ.byteLength), bits: t.kind === 'int8' ? 8 : 4, sb: place(quantSb.byteLength) };
      k.u8().set(quantQ, this.quant.q);
      k.f32().set(quantSb, this.quant.sb / 4);
    }
    const f32 = k.f32();
    if (this.w1) f32.set(this.w1, this.ptr.w1 / 4);
    if (this.b1) f32.set(this.b1, this.ptr.b1 / 4);
    f32.set(this.w2, this.ptr.w2 / 4);
    f32.set(this.b2, this.ptr.b2 / 4);
    this.ids = new Int32Array(f32.buffer, this.ptr.ids, CHUNK);
    this.accF32 = new Float32Array(f32.buffer, this.ptr.acc, dim);
    this.hidF32 = new Float32Array(f32.buffer, this.ptr.hid, Math.max(1, hidden));
    this.outF32 = new Float32Array(f32.buffer, this.ptr.out, this.numLabels);
  }

  logitsInto(text: string, out: Float32Array): void {
    const nw = this.split(text);
    const { maxN, buckets, dim, hidden, vocab: V } = this.info;
    const inK = this.tableInKernel;
    const acc = this.acc;
    if (inK) this.accF32.fill(0);
    else acc.fill(0);
    const ids = this.ids;
    const starts = this.starts, ends = this.ends, norm = this.norm;
    let n = 0, m = 0;
    for (let i = 0; i < nw; i++) {
      const last = Math.min(maxN, nw - i);
      let h = FNV_OFFSET;
      for (let k = 1; k <= last; k++) {
        const w = i + k - 1;
        if (k > 1) h = Math.imul(h ^ 0x20, FNV_PRIME);
        h = fnvSlice(h, norm, starts[w]!, ends[w]!);
        let id = this.find(h, i, k);
        if (id < 0) {
          if (buckets === 0) continue;
          id = V + ((h >>> 0) % buckets);
        }
        if (m === CHUNK) {
          this.addIds(m);
          m = 0;
        }
        ids[m++] = id;
        n++;
      }
    }
    if (m > 0) this.addIds(m);
    const C = this.numLabels;
    if (this.k) {
      const x = this.accF32;
      if (inK) {
        if (n > 0) for (let j = 0; j < dim; j++) x[j] = x[j]! / n;
      } else if (n > 0) for (let j = 0; j < dim; j++) x[j] = acc[j]! / n;
      else x.fill(0);
      const k = this.k, p = this.ptr;
      if (hidden > 0) {
        k.matvec(p.w1, p.b1, p.acc, p.hid, hidden, dim);
        const hv = this.hidF32;
        for (let j = 0; j < hidden; j++) hv[j] = Math.tanh(hv[j]!);
        k.matvec(p.w2, p.b2, p.hid, p.out, C, hidden);
      } else k.matvec(p.w2, p.b2, p.acc, p.out, C, dim);
      out.set(this.outF32);
      return;
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
    for (let c = 0; c < C; c++) {
      let s = this.b2[c]!;
      const o = c * width;
      for (let j = 0; j < width; j++) s += this.w2[o + j]! * x[j]!;
      out[c] = s;
    }
  }

  /** Adds the rows of ids[0..m) to the sum (the kernel's f32 sum for PQ, int8 and int4, else the f64 one). */
  private addIds(m: number): void {
    const pq = this.pq, qt = this.quant;
    if (pq) {
      this.k!.pqAdd(pq.codes, pq.wide, pq.books, this.ptr.ids, m, pq.M, pq.K, pq.sub, pq.ncodes, pq.nbook, this.ptr.acc);
      return;
    }
    if (qt) {
      this.k!.quantAdd(qt.q, qt.bits, qt.sb, this.ptr.ids, m, this.info.dim, this.ptr.acc);
      return;
    }
    for (let i = 0; i < m; i++) this.addRow(this.ids[i]!, this.acc);
  }

  /** The vocabulary id of the n-gram of words i..i+k-1 whose hash is h, or -1. */
  private find(h: number, i: number, k: number): number {
    const mask = this.mask, slotId = this.slotId, slotHash = this.slotHash;
    for (let slot = mix(h) & mask; ; slot = (slot + 1) & mask) {
      const id = slotId[slot]!;
      if (id < 0) return -1;
      if (slotHash[slot] === h && this.same(this.ngrams[id]!, i, k)) return id;
    }
  }

  /** Whether `g` is the words i..i+k-1 joined by single spaces. */
  private same(g: string, i: number, k: number): boolean {
    const norm = this.norm, starts = this.starts, ends = this.ends;
    let pos = 0;
    for (let w = i; w < i + k; w++) {
      if (w > i && g.charCodeAt(pos++) !== 0x20) return false;
      const s = starts[w]!, e = ends[w]!;
      if (pos + e - s > g.length) return false;
      for (let c = s; c < e; c++) if (g.charCodeAt(pos++) !== norm.charCodeAt(c)) return false;
    }
    return pos === g.length;
  }

  /**
   * Splits `text` into word spans of `this.norm` (the words `words()` gives, text.ts); returns
   * how many. Printable ASCII, by far the common case, is scanned by char code: its only
   * whitespace is ' ', its punctuation is 0x21-0x2F 0x3A-0x40 0x5B-0x60 0x7B-0x7E (each char a
   * word), and the normaliser only lowercases it. Anything else goes the general way.
   */
  private split(text: string): number {
    const L = text.length;
    let nw = 0, start = -1;
    for (let i = 0; i < L; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) return this.splitGeneral(text);
      if (c === 0x20 || c < 0x30 || (c > 0x39 && c < 0x41) || (c > 0x5a && c < 0x61) || c > 0x7a) {
        if (start >= 0) {
          nw = this.push(nw, start, i);
          start = -1;
        }
        if (c !== 0x20) nw = this.push(nw, i, i + 1);
      } else if (start < 0) start = i;
    }
    if (start >= 0) nw = this.push(nw, start, L);
    this.norm = this.info.lowercase ? text.toLowerCase() : text;
    return nw;
  }

  private splitGeneral(text: string): number {
    const norm = bertNormalize(text, { lowercase: this.info.lowercase, stripAccents: this.info.lowercase });
    this.norm = norm;
    WORD.lastIndex = 0;
    let nw = 0;
    for (let m = WORD.exec(norm); m; m = WORD.exec(norm)) nw = this.push(nw, m.index, m.index + m[0].length);
    return nw;
  }

  private push(nw: number, s: number, e: number): number {
    if (nw === this.starts.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.starts[nw] = s;
    this.ends[nw] = e;
    return nw + 1;
  }
}

/** Spreads an FNV hash's high bits into the low ones the table's mask keeps. */
function mix(h: number): number {
  return h ^ (h >>> 15);
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
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
      // Stored f16 (an f16 export): rows widened as they are read, not the whole table at load
      // (a text touches tens of rows; BERT's 30k x 128 word table took ~10 ms to widen).
      const h = c.halves(`${prefix}weight`);
      if (h) {
        if (h.length !== rows * dim) throw new BundleError(`bundle is corrupted: ${prefix}weight holds ${h.length} values, a dense table of ${rows} x ${dim} needs ${rows * dim}`);
        const lut = halfLut();
        return (id, acc) => {
          const o = id * dim;
          for (let j = 0; j < dim; j++) acc[j] += lut[h[o + j]!]!;
        };
      }
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
      // u8 codes of 256-word books cannot be out of range; otherwise one pass finds the largest.
      if (!(codes instanceof Uint8Array && K >= 256)) {
        let lo = 0, hi = 0;
        for (let i = 0; i < codes.length; i++) {
          const x = codes[i]!;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        if (lo < 0 || hi >= K) throw new BundleError(`bundle is corrupted: code ${lo < 0 ? lo : hi} out of range 0..${K - 1}`);
      }
      if (t.qnorm && t.kind === 'pq') {
        const nc = need('norm_codes', rows);
        const nb = c.floats(`${prefix}norm_book`);
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
