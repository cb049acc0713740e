/**
 * The BERT sequence classifier in the runtime (the same network as models/classifier.ts, for one
 * text at a time, so there is no padding and no mask): WordPiece ids -> embeddings + LayerNorm ->
 * post-LN encoder layers (multi-head self-attention, GELU (erf) or ReLU feed-forward) -> [CLS]
 * (through the pooler when the model uses one) or the mean of the tokens -> linear -> logits.
 * Weights are float32 in memory whatever they were stored as (f16 / int8 rows in the file).
 * Plain JS loops, accumulating in float64: a small encoder (4 layers of 128) answers a short text
 * in about a millisecond, which is what a page needs.
 */
import { BundleError, type Container, type TransformerInfo } from './format.js';
import { tableReader, type AddRow, type LogitsModel } from './dan.js';
import { WordPiece } from './text.js';

interface Linear {
  w: Float32Array;
  b: Float32Array;
  out: number;
  inp: number;
}

interface Norm {
  g: Float32Array;
  b: Float32Array;
}

interface Layer {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  n1: Norm;
  i: Linear;
  f: Linear;
  n2: Norm;
}

export class TransformerRuntime implements LogitsModel {
  readonly numLabels: number;
  private readonly tok: WordPiece;
  private readonly addWord: AddRow;
  private readonly row: Float64Array;
  private readonly pos: Float32Array;
  private readonly type0: Float32Array;
  private readonly embNorm: Norm;
  private readonly layers: Layer[];
  private readonly pooler: Linear | undefined;
  private readonly cls: Linear;

  constructor(private readonly info: TransformerInfo, c: Container, numLabels: number) {
    const H = info.hiddenSize;
    this.numLabels = numLabels;
    if (!(H > 0 && info.numHeads > 0 && H % info.numHeads === 0)) throw new BundleError(`bundle is corrupted: hidden size ${H} and ${info.numHeads} heads`);
    const vocab = c.strings('wordpiece');
    const map = new Map<string, number>();
    for (let i = 0; i < vocab.length; i++) map.set(vocab[i]!, i);
    this.tok = new WordPiece(map, info.tokenizer);
    const t = (name: string, n: number): Float32Array => {
      const x = c.tensor(name);
      if (!(x instanceof Float32Array) || x.length !== n) throw new BundleError(`bundle is corrupted: tensor ${name} should hold ${n} floats`);
      return x;
    };
    const lin = (name: string, out: number, inp: number): Linear => ({ w: t(`${name}.weight`, out * inp), b: t(`${name}.bias`, out), out, inp });
    const norm = (name: string): Norm => ({ g: t(`${name}.weight`, H), b: t(`${name}.bias`, H) });
    const table = info.wordTable ?? { kind: 'dense' as const, rows: vocab.length, dim: H };
    if (table.rows !== vocab.length || table.dim !== H) throw new BundleError(`bundle is corrupted: a ${table.rows} x ${table.dim} word table for ${vocab.length} tokens of width ${H}`);
    this.addWord = tableReader(table, c, 'bert.embeddings.word_embeddings.');
    this.row = new Float64Array(H);
    this.pos = t('bert.embeddings.position_embeddings.weight', info.maxPositions * H);
    this.type0 = c.floats('bert.embeddings.token_type_embeddings.weight').subarray(0, H);
    this.embNorm = norm('bert.embeddings.LayerNorm');
    const I = info.intermediateSize;
    this.layers = Array.from({ length: info.numLayers }, (_, l) => {
      const p = `bert.encoder.layer.${l}.`;
      return {
        q: lin(`${p}attention.self.query`, H, H), k: lin(`${p}attention.self.key`, H, H), v: lin(`${p}attention.self.value`, H, H),
        o: lin(`${p}attention.output.dense`, H, H), n1: norm(`${p}attention.output.LayerNorm`),
        i: lin(`${p}intermediate.dense`, I, H), f: lin(`${p}output.dense`, H, I), n2: norm(`${p}output.LayerNorm`),
      };
    });
    this.pooler = info.usePooler ? lin('bert.pooler.dense', H, H) : undefined;
    this.cls = lin('classifier', numLabels, H);
  }

  /** Token ids as slimtext's tokenizer gives them: [CLS] pieces [SEP], truncated to maxLength. */
  ids(text: string): number[] {
    const { cls, sep } = this.info.tokenizer;
    const max = Math.min(this.info.maxLength, this.info.maxPositions);
    const body = this.tok.encode(text);
    if (body.length > max - 2) body.length = Math.max(0, max - 2);
    return [cls, ...body, sep];
  }

  logitsInto(text: string, out: Float32Array): void {
    const ids = this.ids(text);
    const T = ids.length;
    const H = this.info.hiddenSize;
    let x: Float32Array = new Float32Array(T * H);
    for (let t = 0; t < T; t++) {
      const p = t * H;
      this.row.fill(0);
      this.addWord(ids[t]!, this.row);
      for (let j = 0; j < H; j++) x[p + j] = Math.fround(this.row[j]!) + this.pos[p + j]! + this.type0[j]!;
    }
    layerNorm(x, T, H, this.embNorm, this.info.eps);
    for (const L of this.layers) x = this.layer(L, x, T);
    let v: Float32Array = new Float32Array(H);
    if (this.info.pooling === 'mean') {
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) v[j] += x[t * H + j]!;
      for (let j = 0; j < H; j++) v[j] = v[j]! / T;
    } else v.set(x.subarray(0, H));
    if (this.pooler) {
      v = linear(v, 1, this.pooler);
      for (let j = 0; j < H; j++) v[j] = Math.tanh(v[j]!);
    }
    out.set(linear(v, 1, this.cls));
  }

  private layer(L: Layer, x: Float32Array, T: number): Float32Array {
    const H = this.info.hiddenSize, nh = this.info.numHeads, d = H / nh;
    const q = linear(x, T, L.q), k = linear(x, T, L.k), v = linear(x, T, L.v);
    const ctx = new Float32Array(T * H);
    const p = new Float64Array(T);
    const scale = 1 / Math.sqrt(d);
    for (let h = 0; h < nh; h++) {
      for (let t = 0; t < T; t++) {
        let max = -Infinity;
        for (let s = 0; s < T; s++) {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += q[t * H + h * d + j]! * k[s * H + h * d + j]!;
          p[s] = dot * scale;
          if (p[s]! > max) max = p[s]!;
        }
        let sum = 0;
        for (let s = 0; s < T; s++) sum += p[s] = Math.exp(p[s]! - max);
        for (let j = 0; j < d; j++) {
          let acc = 0;
          for (let s = 0; s < T; s++) acc += p[s]! * v[s * H + h * d + j]!;
          ctx[t * H + h * d + j] = acc / sum;
        }
      }
    }
    const a = linear(ctx, T, L.o);
    for (let i = 0; i < a.length; i++) a[i] += x[i]!;
    layerNorm(a, T, H, L.n1, this.info.eps);
    const inter = linear(a, T, L.i);
    if (this.info.act === 'relu') for (let i = 0; i < inter.length; i++) inter[i] = Math.max(0, inter[i]!);
    else for (let i = 0; i < inter.length; i++) inter[i] = gelu(inter[i]!);
    const y = linear(inter, T, L.f);
    for (let i = 0; i < y.length; i++) y[i] += a[i]!;
    layerNorm(y, T, H, L.n2, this.info.eps);
    return y;
  }
}

/** y (T, out) = x (T, in) W^T + b. */
function linear(x: Float32Array, T: number, l: Linear): Float32Array {
  const y = new Float32Array(T * l.out);
  const { w, b, inp, out } = l;
  for (let t = 0; t < T; t++) {
    const xo = t * inp;
    for (let o = 0; o < out; o++) {
      let s = 0;
      const wo = o * inp;
      for (let j = 0; j < inp; j++) s += x[xo + j]! * w[wo + j]!;
      y[t * out + o] = s + b[o]!;
    }
  }
  return y;
}

function layerNorm(x: Float32Array, T: number, H: number, n: Norm, eps: number): void {
  for (let t = 0; t < T; t++) {
    const o = t * H;
    let mean = 0;
    for (let j = 0; j < H; j++) mean += x[o + j]!;
    mean /= H;
    let v = 0;
    for (let j = 0; j < H; j++) v += (x[o + j]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / H + eps);
    for (let j = 0; j < H; j++) x[o + j] = (x[o + j]! - mean) * inv * n.g[j]! + n.b[j]!;
  }
}

/** 0.5 x (1 + erf(x / sqrt 2)); erf to ~1e-7 (W. J. Cody's rational form is overkill at float32). */
function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
}

/** erf by the Numerical Recipes erfc Chebyshev fit (fractional error < 1.2e-7). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}
