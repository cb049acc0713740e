/**
 * A BERT-style post-LayerNorm transformer encoder layer, with Hugging Face's module names so its
 * parameters are exactly `bert.encoder.layer.N.*`'s: attention.self.{query,key,value},
 * attention.output.{dense,LayerNorm}, intermediate.dense, output.{dense,LayerNorm}
 * (Linear weights stored [out, in] as PyTorch does).
 *
 *   x (B, T, H), mask additive (B, 1, 1, T)
 *   a = LayerNorm(x + dropout(Wo . attention(Wq x, Wk x, Wv x, mask)))    attention dropout inside
 *   y = LayerNorm(a + dropout(W2 . act(W1 a)))                            act: GELU (erf) by default
 *   -> y (B, T, H)
 *
 * The config is a structural subset of a BERT config (hiddenSize, numHeads, ...), so a config read
 * from a checkpoint can be passed as it is.
 *
 * Activations that never leave a forward (projections, the attention context, the feed-forward
 * hidden layer) are handed to releaseWithGraph, so a training step reuses their buffers.
 */
import {
  Module, Linear, LayerNorm, Dropout, multiHeadAttention, residualLayerNorm, releaseWithGraph, gelu, relu,
  type Tensor, type Rng,
} from '../../engine/index.js';
import { OpError } from '../../errors.js';

export interface EncoderLayerConfig {
  hiddenSize: number;
  numHeads: number;
  intermediateSize: number;
  /** Activation of the feed-forward expansion; 'gelu' is the exact erf form (default). */
  hiddenAct?: 'gelu' | 'relu';
  /** Dropout after each dense output (default 0.1). */
  hiddenDropout?: number;
  /** Dropout on attention probabilities (default 0.1). */
  attentionDropout?: number;
  /** LayerNorm epsilon (default BERT's 1e-12). */
  layerNormEps?: number;
  /** Standard deviation of the normal weight initialisation (default BERT's 0.02). */
  initStd?: number;
}

export class EncoderLayer extends Module {
  readonly attention: AttentionBlock;
  readonly intermediate: Intermediate;
  readonly output: ResidualOutput;

  constructor(config: EncoderLayerConfig, rng: Rng) {
    super();
    if (config.hiddenSize % config.numHeads !== 0) {
      throw new OpError('EncoderLayer', `hidden size ${config.hiddenSize} is not divisible by ${config.numHeads} heads`);
    }
    this.attention = new AttentionBlock(config, rng);
    this.intermediate = new Intermediate(config, rng);
    this.output = new ResidualOutput(config.intermediateSize, config, rng);
  }

  /** x (B, T, H), optional additive mask (B, 1, 1, T) -> (B, T, H). */
  forward(x: Tensor, mask?: Tensor): Tensor {
    const a = this.attention.forward(x, mask);
    const h = this.intermediate.forward(a);
    const y = this.output.forward(h, a);
    releaseWithGraph(a, h);
    return y;
  }
}

/** HF `attention.self`: the q/k/v projections and masked multi-head attention. */
export class SelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  private readonly heads: number;
  private readonly dropoutP: number;
  private rng: Rng;

  constructor(config: EncoderLayerConfig, rng: Rng) {
    super();
    const H = config.hiddenSize;
    const std = config.initStd ?? 0.02;
    this.query = new Linear(H, H, rng, { std });
    this.key = new Linear(H, H, rng, { std });
    this.value = new Linear(H, H, rng, { std });
    this.heads = config.numHeads;
    this.dropoutP = config.attentionDropout ?? 0.1;
    this.rng = rng.fork();
  }

  /** x (B, T, H) -> context (B, T, H), heads merged. */
  forward(x: Tensor, mask?: Tensor): Tensor {
    const p = this.training ? this.dropoutP : 0;
    const q = this.query.forward(x);
    const k = this.key.forward(x);
    const v = this.value.forward(x);
    // The heads stay interleaved in (B, T, H): the attention op reads them through GEMM strides.
    const ctx = multiHeadAttention(q, k, v, this.heads, { mask, dropout: p, seed: p > 0 ? this.rng.seed() : undefined });
    releaseWithGraph(q, k, v);
    return ctx;
  }
}

/** dense -> dropout -> + residual -> LayerNorm (HF `attention.output` and the layer's `output`). */
export class ResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(inFeatures: number, config: EncoderLayerConfig, rng: Rng) {
    super();
    this.dense = new Linear(inFeatures, config.hiddenSize, rng, { std: config.initStd ?? 0.02 });
    this.LayerNorm = new LayerNorm(config.hiddenSize, config.layerNormEps ?? 1e-12);
    this.dropout = new Dropout(config.hiddenDropout ?? 0.1, rng);
  }

  forward(x: Tensor, residual: Tensor): Tensor {
    // LayerNorm(dropout(dense(x)) + residual) as one op, with this module's LayerNorm and dropout
    const seed = this.dropout.nextSeed();
    const ln = this.LayerNorm;
    const d = this.dense.forward(x);
    const y = residualLayerNorm(d, residual, ln.weight, ln.bias, ln.eps, { dropout: seed === undefined ? 0 : this.dropout.p, seed });
    releaseWithGraph(d);
    return y;
  }
}

/** HF `attention`: self-attention then its residual output. */
export class AttentionBlock extends Module {
  readonly self: SelfAttention;
  readonly output: ResidualOutput;

  constructor(config: EncoderLayerConfig, rng: Rng) {
    super();
    this.self = new SelfAttention(config, rng);
    this.output = new ResidualOutput(config.hiddenSize, config, rng);
  }

  forward(x: Tensor, mask?: Tensor): Tensor {
    const ctx = this.self.forward(x, mask);
    const y = this.output.forward(ctx, x);
    releaseWithGraph(ctx);
    return y;
  }
}

/** HF `intermediate`: the feed-forward expansion and its activation. */
export class Intermediate extends Module {
  readonly dense: Linear;
  private readonly act: (x: Tensor) => Tensor;

  constructor(config: EncoderLayerConfig, rng: Rng) {
    super();
    this.dense = new Linear(config.hiddenSize, config.intermediateSize, rng, { std: config.initStd ?? 0.02 });
    this.act = (config.hiddenAct ?? 'gelu') === 'relu' ? relu : gelu;
  }

  forward(x: Tensor): Tensor {
    const pre = this.dense.forward(x);
    const h = this.act(pre);
    releaseWithGraph(pre);
    return h;
  }
}
