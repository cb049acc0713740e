/**
 * BERT's forward pass for inference, with no tape: the same function as BertModel.forward in eval
 * mode, computed over packed tokens (a batch's real tokens only, no padding rows, attention per
 * sequence over its own length) with fused kernels (src/engine/infer/) and buffers kept across
 * batches. Weights are prepared once: Q, K and V concatenated into one (3H, H) matrix so a layer
 * makes one projection GEMM, and with `quantize: 'int8'` every encoder linear layer packed as int8
 * (per-output-channel scales; activations quantised per row on the fly).
 *
 *   const fast = FastBert.prepare(model);              // after training: weights are copied
 *   const packed = fast.embed(batch);                  // (sum of lengths, H)
 *   const h = fast.encode(packed, 0, fast.numLayers);  // any layer range, like BertModel.encode
 *   const last = fast.unpack(h, T);                    // (B, T, H), zeros at padding
 *
 * The prepared copy does not follow later changes to the model's parameters: prepare again.
 */
import { Tensor, getBackend, inferKernels, q8PackedLength, f32PackedLength, isSharedWeight, sharedDerivedArray, type Backend, type InferKernels, type Linear } from '../../engine/index.js';
import { SlimtextError } from '../../errors.js';
import type { BertModel } from './model.js';
import { DenseNgramTable } from '../danTable.js';
import { unitOffsets, type EmbeddingTable } from '../tables/table.js';
import { hasInt8, quantizeWeight } from './int8.js';

export type Quantize = 'none' | 'int8';

export interface FastBertOptions {
  /** 'int8': dynamic int8 quantisation of the encoder's linear layers (a model saved as int8 runs int8 regardless). */
  quantize?: Quantize;
  /** The backend to run on (default: the process-wide one). */
  backend?: Backend;
}

/** Hidden states of a batch's real tokens: row offsets[s] + i is token i of sequence s. */
export interface PackedHidden {
  data: Float32Array;
  offsets: Int32Array;
}

/** The rows of a padded batch this path reads (a PaddedBatch has them). */
export interface TokenBatch {
  ids: { data: Int32Array; shape: readonly number[] };
  tokenTypes?: { data: Int32Array } | undefined;
  lengths: Int32Array;
}

export class FastBert {
  readonly hidden: number;
  readonly numLayers: number;
  private readonly k: InferKernels;
  private readonly layers: FastLayer[];
  private readonly emb: { table: EmbeddingTable; pos: Float32Array; type: Float32Array; gamma: Float32Array; beta: Float32Array; eps: number };
  private readonly heads: number;
  private readonly intermediate: number;
  private ws = { rows: 0, qkv: new Float32Array(0), ctx: new Float32Array(0), t: new Float32Array(0), ffn: new Float32Array(0) };

  private constructor(model: BertModel, readonly quantize: Quantize, private readonly be: Backend, private readonly savedInt8: boolean) {
    const c = model.config;
    if (c.hiddenAct !== 'gelu') throw new SlimtextError(`the inference path supports GELU encoders, this one uses ${c.hiddenAct}`);
    this.k = inferKernels(be);
    if (quantize === 'int8' && !(this.k.q8Gemm && this.k.q8Quantize && this.k.q8PackCodes)) {
      throw new SlimtextError(`${this.savedInt8 ? "this model's encoder is saved as int8 (compress --method int8-linear) and" : '--quantize int8'} needs int8 kernels; the ${be.name} backend has none`);
    }
    this.hidden = c.hiddenSize;
    this.heads = c.numHeads;
    this.intermediate = c.intermediateSize;
    this.numLayers = model.numLayers;
    const e = model.embeddings;
    this.emb = {
      table: e.word_embeddings, pos: e.position_embeddings.weight.data, type: e.token_type_embeddings.weight.data,
      gamma: e.LayerNorm.weight.data.slice(), beta: e.LayerNorm.bias.data.slice(), eps: e.LayerNorm.eps,
    };
    const dense = (ws: readonly Linear[]): Dense => new Dense(ws, quantize, be, this.k);
    this.layers = model.encoder.layer.map((l) => ({
      qkv: dense([l.attention.self.query, l.attention.self.key, l.attention.self.value]),
      attnOut: dense([l.attention.output.dense]),
      attnNorm: { gamma: l.attention.output.LayerNorm.weight.data.slice(), beta: l.attention.output.LayerNorm.bias.data.slice(), eps: l.attention.output.LayerNorm.eps },
      ffnIn: dense([l.intermediate.dense]),
      ffnOut: dense([l.output.dense]),
      outNorm: { gamma: l.output.LayerNorm.weight.data.slice(), beta: l.output.LayerNorm.bias.data.slice(), eps: l.output.LayerNorm.eps },
    }));
  }

  /** Prepares a model for inference (copies and packs its encoder weights). */
  static prepare(model: BertModel, opts: FastBertOptions = {}): FastBert {
    // A model saved with int8 linear layers runs int8 whatever was asked (its codes are packed as saved).
    const saved = hasInt8(model);
    return new FastBert(model, saved ? 'int8' : opts.quantize ?? 'none', opts.backend ?? getBackend(), saved);
  }

  /** Where the int8 weights come from: 'saved' (the model folder's codes), 'quantized' (at prepare), or undefined in fp32. */
  int8Source(): 'saved' | 'quantized' | undefined {
    return this.quantize !== 'int8' ? undefined : this.savedInt8 ? 'saved' : 'quantized';
  }

  /** The embedding stage over a padded batch's real tokens: (sum of lengths, H). */
  embed(batch: TokenBatch): PackedHidden {
    const T = batch.ids.shape[1]!;
    const B = batch.lengths.length;
    const offsets = new Int32Array(B + 1);
    for (let b = 0; b < B; b++) offsets[b + 1] = offsets[b]! + batch.lengths[b]!;
    const n = offsets[B]!;
    const ids = new Int32Array(n);
    const types = new Int32Array(n);
    const pos = new Int32Array(n);
    for (let b = 0; b < B; b++) {
      const len = batch.lengths[b]!;
      const o = offsets[b]!;
      ids.set(batch.ids.data.subarray(b * T, b * T + len), o);
      if (batch.tokenTypes) types.set(batch.tokenTypes.data.subarray(b * T, b * T + len), o);
      for (let i = 0; i < len; i++) pos[o + i] = i;
    }
    const data = new Float32Array(n * this.hidden);
    const e = this.emb;
    // A dense word table is gathered inside the fused kernel; a compressed one (models/tables/)
    // first decodes this batch's rows, which the kernel then reads as rows 0..n-1.
    let word: Float32Array;
    let wordIds: Int32Array = ids;
    if (e.table instanceof DenseNgramTable) word = e.table.weight.data;
    else {
      word = new Float32Array(n * this.hidden);
      e.table.bagMeanInto(n, ids, unitOffsets(n), word);
      wordIds = unitOffsets(n).subarray(0, n);
    }
    this.k.embedLayerNorm(n, this.hidden, word, wordIds, e.pos, pos, e.type, types, e.gamma, e.beta, e.eps, data);
    return { data, offsets };
  }

  /**
   * Runs encoder layers [from, to) over packed hidden states. Writes into `out` when given (it may
   * be h.data itself, to work in place), else into a new array; h is left as it was otherwise.
   */
  encode(h: PackedHidden, from = 0, to = this.numLayers, out?: Float32Array): PackedHidden {
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= this.numLayers)) {
      throw new SlimtextError(`encode: layer range [${from}, ${to}) is outside the model's ${this.numLayers} layers`);
    }
    const nSeq = h.offsets.length - 1;
    const rows = h.offsets[nSeq]!;
    const H = this.hidden;
    const x = out ?? new Float32Array(rows * H);
    if (x !== h.data) x.set(h.data.subarray(0, rows * H));
    this.reserve(rows);
    const { qkv, ctx, t, ffn } = this.ws;
    const k = this.k;
    for (let i = from; i < to; i++) {
      const l = this.layers[i]!;
      if (!l.qkv.run(rows, x, qkv)) k.addBias(rows, 3 * H, l.qkv.bias!, qkv);
      k.attentionPacked(nSeq, h.offsets, this.heads, H / this.heads, qkv, ctx);
      const b1 = l.attnOut.run(rows, ctx, t) ? null : l.attnOut.bias;
      k.residualLayerNorm(rows, H, t, b1, x, l.attnNorm.gamma, l.attnNorm.beta, l.attnNorm.eps, x);
      const b2 = l.ffnIn.run(rows, x, ffn) ? null : l.ffnIn.bias;
      k.biasGelu(rows, this.intermediate, b2, ffn);
      const b3 = l.ffnOut.run(rows, ffn, t) ? null : l.ffnOut.bias;
      k.residualLayerNorm(rows, H, t, b3, x, l.outNorm.gamma, l.outNorm.beta, l.outNorm.eps, x);
    }
    return { data: x, offsets: h.offsets };
  }

  /** Packed rows back to a padded (B, T, H) tensor, zeros at padding (T >= the longest sequence). */
  unpack(h: PackedHidden, T: number): Tensor {
    const B = h.offsets.length - 1;
    const H = this.hidden;
    const out = new Float32Array(B * T * H);
    for (let b = 0; b < B; b++) {
      const o = h.offsets[b]!;
      const len = h.offsets[b + 1]! - o;
      if (len > T) throw new SlimtextError(`unpack: sequence ${b} has ${len} tokens, more than T = ${T}`);
      out.set(h.data.subarray(o * H, (o + len) * H), b * T * H);
    }
    return new Tensor(out, [B, T, H]);
  }

  /** The last hidden state of a padded batch, (B, T, H) with zeros at padding. */
  lastHidden(batch: TokenBatch): Tensor {
    return this.unpack(this.encode(this.embed(batch), 0, this.numLayers, undefined), batch.ids.shape[1]!);
  }

  /** Which int8 microkernel runs ('avx512-vnni', 'avx2' or 'portable'), or undefined in fp32. */
  int8Kernel(): string | undefined {
    return this.quantize === 'int8' ? this.k.q8Kernel?.() : undefined;
  }

  /** Grows the per-batch work buffers (kept across batches: a batch allocates only its output). */
  private reserve(rows: number): void {
    if (rows <= this.ws.rows) return;
    const H = this.hidden;
    const cap = Math.max(rows, Math.ceil(this.ws.rows * 1.5));
    this.ws = {
      rows: cap, qkv: new Float32Array(cap * 3 * H), ctx: new Float32Array(cap * H), t: new Float32Array(cap * H),
      ffn: new Float32Array(cap * this.intermediate),
    };
  }
}

interface FastLayer {
  qkv: Dense;
  attnOut: Dense;
  attnNorm: Norm;
  ffnIn: Dense;
  ffnOut: Dense;
  outNorm: Norm;
}

interface Norm {
  gamma: Float32Array;
  beta: Float32Array;
  eps: number;
}

/**
 * Up to this many rows (a few texts) the packed-weight kernel runs; above it BLAS, whose own packing
 * of the weight is then spread over enough rows to pay. Measured on the bench machine: BERT-base
 * at one 25-token text (below, BENCHMARKS.md "Inference").
 */
const PACKED_MAX_ROWS = 64;

/** One linear layer (or several with the same input, concatenated along outputs), fp32 or int8. */
class Dense {
  readonly out: number;
  readonly in: number;
  readonly bias: Float32Array | null;
  private readonly weight: Float32Array | undefined;
  /** The weight packed for the few-rows kernel (fp32, when the backend has it). */
  private readonly packed: Float32Array | undefined;
  private readonly q8: { packed: Int32Array; scales: Float32Array; colsum: Int32Array } | undefined;

  constructor(parts: readonly Linear[], quantize: Quantize, private readonly be: Backend, private readonly k: InferKernels) {
    this.in = parts[0]!.inFeatures;
    this.out = parts.reduce((s, p) => s + p.outFeatures, 0);
    // Inside a weight-sharing scope (the server's workers) these copies are made once per process
    // and shared, like the parameters they come from (engine/sharedWeights.ts); else plain arrays.
    // Parts without a bias add zeros (the name says which parts have one).
    const concat = (what: string, src: readonly (Float32Array | undefined)[], rows: number) =>
      sharedDerivedArray(what, src.filter((x) => x !== undefined), Float32Array, this.out * rows, (a) => {
        let o = 0;
        parts.forEach((p, i) => {
          if (src[i]) a.set(src[i]!, o * rows);
          o += p.outFeatures;
        });
      });
    // A single shared weight is read-only (nothing trains it), so it needs no copy to stay as prepared.
    const one = parts.length === 1 ? parts[0]! : undefined;
    this.bias = one?.bias && isSharedWeight(one.bias.data) ? one.bias.data : concat(`fast.bias[${parts.map((p) => (p.bias ? 1 : 0)).join('')}]`, parts.map((p) => p.bias?.data), 1);
    if (quantize === 'int8') {
      // Per output channel, so quantising each part and concatenating equals quantising the concatenation;
      // a part saved as int8 (compress --method int8-linear) brings its codes, the others are quantised here.
      const len = q8PackedLength(this.out, this.in);
      const packed = sharedDerivedArray('fast.q8', parts.map((p) => p.weight.data), Int32Array, len + 2 * this.out, (a) => {
        const codes = new Int8Array(this.out * this.in);
        const scales = new Float32Array(a.buffer, a.byteOffset + len * 4, this.out);
        let o = 0;
        for (const p of parts) {
          const q = p.int8 ?? quantizeWeight(p.outFeatures, this.in, p.weight.data, be);
          codes.set(q.codes, o * this.in);
          scales.set(q.scales, o);
          o += p.outFeatures;
        }
        k.q8PackCodes!(this.out, this.in, codes, a.subarray(0, len), a.subarray(len + this.out));
      });
      this.q8 = { packed: packed.subarray(0, len), scales: new Float32Array(packed.buffer, packed.byteOffset + len * 4, this.out), colsum: packed.subarray(len + this.out) };
    } else {
      const w = one && isSharedWeight(one.weight.data) ? one.weight.data : concat('fast.weight', parts.map((p) => p.weight.data), this.in);
      this.weight = w;
      if (k.f32Pack && k.f32GemmPacked) {
        this.packed = sharedDerivedArray('fast.packed', [w], Float32Array, f32PackedLength(this.out, this.in), (a) => k.f32Pack!(this.out, this.in, w, a));
      }
    }
  }

  /** y (rows, out) = x (rows, in) W^T [+ bias]; returns true when the bias is already added. */
  run(rows: number, x: Float32Array, y: Float32Array): boolean {
    if (rows === 0) return true;
    if (this.q8) {
      this.k.q8Gemm!(rows, this.out, this.in, x, this.q8.packed, this.q8.scales, this.q8.colsum, this.bias, y);
      return true;
    }
    if (this.packed && rows <= PACKED_MAX_ROWS) {
      this.k.f32GemmPacked!(rows, this.out, this.in, x, this.packed, this.bias, y);
      return true;
    }
    this.be.gemm(false, true, rows, this.out, this.in, 1, x, this.in, 0, this.weight!, this.in, 0, 0, y, this.out, 0, 1);
    return false;
  }
}
