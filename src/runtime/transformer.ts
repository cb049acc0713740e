/**
 * The BERT sequence classifier in the runtime (the same network as models/classifier.ts, for one
 * text at a time, so there is no padding and no mask): WordPiece ids -> embeddings + LayerNorm ->
 * post-LN encoder layers (multi-head self-attention, GELU (erf) or ReLU feed-forward) -> [CLS]
 * (through the pooler when the model uses one) or the mean of the tokens -> linear -> logits.
 * Weights are float32 in memory whatever they were stored as (f16 / int8 rows in the file).
 * Plain JS loops, accumulating in float64: a small encoder (4 layers of 128) answers a short text
 * in about a millisecond, which is what a page needs.
 */
import { BundleError, TASK_PREFIX, type Container, type MultiTaskInfo, type TransformerInfo } from './format.js';
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

/**
 * The encoder's weights and steps (tokenizer, embeddings, layers, head), read from a container; a
 * single-task classifier and a multi-task model are built from it.
 */
class Encoder {
  readonly tok: WordPiece;
  private readonly addWord: AddRow;
  private readonly row: Float64Array;
  private readonly pos: Float32Array;
  private readonly type0: Float32Array;
  private readonly embNorm: Norm;

  constructor(readonly info: TransformerInfo, private readonly c: Container) {
    const H = info.hiddenSize;
    if (!(H > 0 && info.numHeads > 0 && H % info.numHeads === 0)) throw new BundleError(`bundle is corrupted: hidden size ${H} and ${info.numHeads} heads`);
    const vocab = c.strings('wordpiece');
    const map = new Map<string, number>();
    for (let i = 0; i < vocab.length; i++) map.set(vocab[i]!, i);
    this.tok = new WordPiece(map, info.tokenizer);
    const table = info.wordTable ?? { kind: 'dense' as const, rows: vocab.length, dim: H };
    if (table.rows !== vocab.length || table.dim !== H) throw new BundleError(`bundle is corrupted: a ${table.rows} x ${table.dim} word table for ${vocab.length} tokens of width ${H}`);
    this.addWord = tableReader(table, c, 'bert.embeddings.word_embeddings.');
    this.row = new Float64Array(H);
    this.pos = this.t('bert.embeddings.position_embeddings.weight', info.maxPositions * H);
    this.type0 = c.floats('bert.embeddings.token_type_embeddings.weight').subarray(0, H);
    this.embNorm = this.norm('bert.embeddings.LayerNorm');
  }

  t(name: string, n: number): Float32Array {
    const x = this.c.tensor(name);
    if (!(x instanceof Float32Array) || x.length !== n) throw new BundleError(`bundle is corrupted: tensor ${name} should hold ${n} floats`);
    return x;
  }

  lin(name: string, out: number, inp: number): Linear {
    return { w: this.t(`${name}.weight`, out * inp), b: this.t(`${name}.bias`, out), out, inp };
  }

  norm(name: string): Norm {
    const H = this.info.hiddenSize;
    return { g: this.t(`${name}.weight`, H), b: this.t(`${name}.bias`, H) };
  }

  /** Encoder layer `l` under `prefix` (e.g. 'bert.encoder.layer.3.'). */
  layerAt(prefix: string): Layer {
    const H = this.info.hiddenSize, I = this.info.intermediateSize;
    const p = prefix;
    return {
      q: this.lin(`${p}attention.self.query`, H, H), k: this.lin(`${p}attention.self.key`, H, H), v: this.lin(`${p}attention.self.value`, H, H),
      o: this.lin(`${p}attention.output.dense`, H, H), n1: this.norm(`${p}attention.output.LayerNorm`),
      i: this.lin(`${p}intermediate.dense`, I, H), f: this.lin(`${p}output.dense`, H, I), n2: this.norm(`${p}output.LayerNorm`),
    };
  }

  /** A classification head (pooling, optional pooler, linear) under `prefix`. */
  headAt(prefix: string, pooling: 'cls' | 'mean', usePooler: boolean, numLabels: number): Head {
    const H = this.info.hiddenSize;
    return { pooling, pooler: usePooler ? this.lin(`${prefix}bert.pooler.dense`, H, H) : undefined, cls: this.lin(`${prefix}classifier`, numLabels, H) };
  }

  /** Token ids as slimtext's tokenizer gives them: [CLS] pieces [SEP], truncated to maxLength. */
  ids(text: string): number[] {
    const { cls, sep } = this.info.tokenizer;
    const max = Math.min(this.info.maxLength, this.info.maxPositions);
    const body = this.tok.encode(text);
    if (body.length > max - 2) body.length = Math.max(0, max - 2);
    return [cls, ...body, sep];
  }

  /** Embeddings + LayerNorm of a text's tokens, (T, H). */
  embed(ids: readonly number[]): Float32Array {
    const T = ids.length;
    const H = this.info.hiddenSize;
    const x = new Float32Array(T * H);
    for (let t = 0; t < T; t++) {
      const p = t * H;
      this.row.fill(0);
      this.addWord(ids[t]!, this.row);
      for (let j = 0; j < H; j++) x[p + j] = Math.fround(this.row[j]!) + this.pos[p + j]! + this.type0[j]!;
    }
    layerNorm(x, T, H, this.embNorm, this.info.eps);
    return x;
  }

  /** Logits of the head over the last hidden states x (T, H). */
  head(h: Head, x: Float32Array, T: number): Float32Array {
    const H = this.info.hiddenSize;
    let v: Float32Array = new Float32Array(H);
    if (h.pooling === 'mean') {
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) v[j] += x[t * H + j]!;
      for (let j = 0; j < H; j++) v[j] = v[j]! / T;
    } else v.set(x.subarray(0, H));
    if (h.pooler) {
      v = linear(v, 1, h.pooler);
      for (let j = 0; j < H; j++) v[j] = Math.tanh(v[j]!);
    }
    return linear(v, 1, h.cls);
  }

  layer(L: Layer, x: Float32Array, T: number): Float32Array {
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

interface Head {
  pooling: 'cls' | 'mean';
  pooler: Linear | undefined;
  cls: Linear;
}

export class TransformerRuntime implements LogitsModel {
  readonly numLabels: number;
  private readonly enc: Encoder;
  private readonly layers: Layer[];
  private readonly headW: Head;

  constructor(info: TransformerInfo, c: Container, numLabels: number) {
    this.numLabels = numLabels;
    this.enc = new Encoder(info, c);
    this.layers = Array.from({ length: info.numLayers }, (_, l) => this.enc.layerAt(`bert.encoder.layer.${l}.`));
    this.headW = this.enc.headAt('', info.pooling, info.usePooler, numLabels);
  }

  ids(text: string): number[] {
    return this.enc.ids(text);
  }

  logitsInto(text: string, out: Float32Array): void {
    const ids = this.enc.ids(text);
    let x = this.enc.embed(ids);
    for (const L of this.layers) x = this.enc.layer(L, x, ids.length);
    out.set(this.enc.head(this.headW, x, ids.length));
  }
}

/**
 * A multi-task bundle: the trunk (embeddings and its layers) runs once per text, and each asked
 * task's branch from the trunk's state at the branch's start layer, as slimtext's MultiTaskModel.
 */
export class MultiTaskRuntime {
  readonly tasks: readonly { name: string; labels: readonly string[] }[];
  private readonly enc: Encoder;
  private readonly trunk: Layer[];
  private readonly branches: { startLayer: number; layers: Layer[]; head: Head }[];

  constructor(info: TransformerInfo, tasks: readonly MultiTaskInfo[], c: Container) {
    this.enc = new Encoder(info, c);
    this.trunk = Array.from({ length: info.numLayers }, (_, l) => this.enc.layerAt(`bert.encoder.layer.${l}.`));
    const seen = new Set<string>();
    this.branches = tasks.map((t) => {
      if (typeof t?.name !== 'string' || seen.has(t.name)) throw new BundleError(`bundle is corrupted: task name ${JSON.stringify(t?.name)} missing or repeated`);
      seen.add(t.name);
      if (!Array.isArray(t.labels) || t.labels.length === 0 || t.labels.some((l) => typeof l !== 'string')) throw new BundleError(`bundle is corrupted: task ${t.name} has no labels`);
      if (!(Number.isInteger(t.startLayer) && t.startLayer >= 0 && t.startLayer <= info.numLayers && Number.isInteger(t.layers) && t.layers >= 0)) {
        throw new BundleError(`bundle is corrupted: task ${t.name} starts at layer ${t.startLayer} of a ${info.numLayers}-layer trunk`);
      }
      const p = `${TASK_PREFIX}${t.name}.`;
      const layers = Array.from({ length: t.layers }, (_, k) => this.enc.layerAt(`${p}bert.encoder.layer.${t.startLayer + k}.`));
      return { startLayer: t.startLayer, layers, head: this.enc.headAt(p, t.pooling, t.usePooler, t.labels.length) };
    });
    this.tasks = tasks.map((t) => ({ name: t.name, labels: t.labels }));
  }

  /** Logits of task `which[k]` (indices into `tasks`) into outs[k]. */
  logitsInto(text: string, which: readonly number[], outs: readonly Float32Array[]): void {
    const ids = this.enc.ids(text);
    const T = ids.length;
    const depth = Math.max(-1, ...which.map((k) => this.branches[k]!.startLayer));
    const at = new Map<number, Float32Array>();
    let x = this.enc.embed(ids);
    for (let i = 0; i <= depth; i++) {
      at.set(i, x);
      if (i < depth) x = this.enc.layer(this.trunk[i]!, x, T);
    }
    which.forEach((k, j) => {
      const b = this.branches[k]!;
      let h = at.get(b.startLayer)!;
      for (const L of b.layers) h = this.enc.layer(L, h, T);
      outs[j]!.set(this.enc.head(b.head, h, T));
    });
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
