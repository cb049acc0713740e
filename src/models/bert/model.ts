/**
 * The BERT encoder (Hugging Face `BertModel`): embeddings, N post-LN encoder layers (the generic
 * transformer EncoderLayer, whose module names are BERT's), optional pooler (dense + tanh on
 * [CLS]). Module fields carry Hugging Face's names, so `namedParameters()` yields exactly the
 * checkpoint's bare names (`encoder.layer.3.output.LayerNorm.weight`) and loading is a name lookup.
 *
 *   forward({ids (B, T), attentionMask? (B, T), tokenTypes? (B, T)})
 *     -> { lastHiddenState (B, T, H), pooled? (B, H) }
 *
 * `embed` / `maskFor` / `encode(hidden, mask, from, to)` / `pooler` expose the stages so that
 * training can run the frozen bottom of the network once and cache it. Layer dropping is removing
 * entries of `encoder.layer` (names renumber, as in a Hugging Face model saved after dropping);
 * `currentConfig()` then reports the new depth.
 */
import { Module, Linear, additiveMask, tanh, reshape, slice, IntTensor, Rng, type Tensor } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import { bertTensorsForHf, readHfCheckpoint, type BertConfig, type BertWeights, type HfCheckpoint, type ReadCheckpointOptions } from '../../io/hfCheckpoint.js';
import { BertEmbeddings } from './embeddings.js';
import { EncoderLayer } from '../transformer/encoderLayer.js';

export interface BertInput {
  ids: IntTensor;
  /** 1 for tokens, 0 for padding; omitted means no padding. */
  attentionMask?: IntTensor;
  /** Segment ids (0 / 1 for text pairs); omitted means all 0. */
  tokenTypes?: IntTensor;
}

export interface BertOutput {
  lastHiddenState: Tensor;
  /** tanh(dense([CLS])) when the model has a pooler. */
  pooled?: Tensor;
}

export interface BertInitOptions {
  /** Seed for initialisation and dropout (default 0). */
  seed?: number;
  /** Std of the normal initialisation (config.json `initializer_range`, default 0.02). */
  initializerRange?: number;
  /** Build a pooler (default true). */
  pooler?: boolean;
  /**
   * Leave embeddings and encoder weights unfilled (zeros) because a checkpoint is about to
   * overwrite them: saves drawing millions of normals at load. The pooler is still initialised.
   */
  skipInit?: boolean;
}

/** HF `encoder`: the stack of post-LN layers (the generic EncoderLayer carries BERT's names). */
export class BertEncoder extends Module {
  readonly layer: EncoderLayer[];

  constructor(config: BertConfig, rng: Rng, initStd: number) {
    super();
    this.layer = Array.from({ length: config.numLayers }, () => new EncoderLayer({ ...config, initStd }, rng));
  }
}

export class BertPooler extends Module {
  readonly dense: Linear;

  constructor(config: BertConfig, rng: Rng, initStd: number) {
    super();
    this.dense = new Linear(config.hiddenSize, config.hiddenSize, rng, { std: initStd });
  }

  /** hidden (B, T, H) -> tanh(dense(hidden[:, 0])) (B, H). */
  forward(hidden: Tensor): Tensor {
    const [B, , H] = hidden.shape as [number, number, number];
    return tanh(this.dense.forward(reshape(slice(hidden, 1, 0, 1), [B, H])));
  }
}

export class BertModel extends Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  pooler: BertPooler | undefined;

  /** A randomly initialised model (BERT's init: normal(0, initializer_range), zero biases, unit LayerNorms). */
  constructor(readonly config: BertConfig, opts: BertInitOptions = {}) {
    super();
    const rng = opts.skipInit ? new SkipInitRng(opts.seed ?? 0) : new Rng(opts.seed ?? 0);
    const std = opts.initializerRange ?? 0.02;
    this.embeddings = new BertEmbeddings(config, rng, std);
    this.encoder = new BertEncoder(config, rng, std);
    this.pooler = opts.pooler === false ? undefined : new BertPooler(config, rng.fork(), std);
  }

  /**
   * A model with the checkpoint's weights. A pooler the checkpoint lacks is initialised as Hugging
   * Face does (normal(0, initializer_range), zero bias) unless `pooler: false`; `notes` says so.
   */
  static fromCheckpoint(ck: HfCheckpoint, opts: BertInitOptions = {}): { model: BertModel; notes: string[] } {
    const range = typeof ck.rawConfig.initializer_range === 'number' ? ck.rawConfig.initializer_range : 0.02;
    const model = new BertModel(ck.config, { initializerRange: range, ...opts, skipInit: true });
    const flat = bertTensorsForHf(ck.weights, '');
    const missing = model.loadParameters((name) => flat.get(name)?.data as Float32Array | undefined, { allowMissing: true });
    const notes: string[] = [];
    const unexplained = missing.filter((n) => !n.startsWith('pooler.'));
    // The checkpoint reader checked names and shapes against the same config: this is a bug guard.
    if (unexplained.length) throw new OpError('BertModel.fromCheckpoint', `parameters not in the checkpoint: ${unexplained.join(', ')}`);
    if (missing.length && model.pooler) notes.push(`the checkpoint has no pooler: initialised it (normal(0, ${range}), seed ${opts.seed ?? 0})`);
    return { model, notes };
  }

  get numLayers(): number {
    return this.encoder.layer.length;
  }

  /** The config as the model now is (num_hidden_layers follows any layers dropped since construction). */
  currentConfig(): BertConfig {
    return { ...this.config, numLayers: this.encoder.layer.length };
  }

  forward(input: BertInput): BertOutput {
    const mask = this.maskFor(input);
    const last = this.encode(this.embed(input), mask);
    return this.pooler ? { lastHiddenState: last, pooled: this.pooler.forward(last) } : { lastHiddenState: last };
  }

  /** The embedding stage: (B, T) ids -> (B, T, H). */
  embed(input: BertInput): Tensor {
    return this.embeddings.forward(input.ids, input.tokenTypes);
  }

  /** Runs encoder layers [from, to) over hidden states (B, T, H). */
  encode(hidden: Tensor, mask: Tensor | undefined, from = 0, to = this.encoder.layer.length): Tensor {
    let h = hidden;
    for (let i = from; i < to; i++) h = this.encoder.layer[i]!.forward(h, mask);
    return h;
  }

  /** The additive attention mask (B, 1, 1, T) for an input, or undefined when nothing is padded. */
  maskFor(input: BertInput): Tensor | undefined {
    const m = input.attentionMask;
    if (!m) return undefined;
    if (m.shape.length !== 2 || m.shape[0] !== input.ids.shape[0] || m.shape[1] !== input.ids.shape[1]) {
      throw new OpError('bert', `attention mask [${m.shape.join(', ')}] does not match ids [${input.ids.shape.join(', ')}]`);
    }
    if (m.data.every((v) => v !== 0)) return undefined;
    return additiveMask(m, m.shape as [number, number]);
  }

  /** The weights as host tensors (views of the parameters), e.g. for writeHfCheckpoint. */
  toWeights(): BertWeights {
    const p = new Map(this.namedParameters());
    const t = (name: string): { shape: number[]; data: Float32Array } => {
      const x = p.get(name);
      if (!x) throw new OpError('BertModel.toWeights', `no parameter ${name}`);
      return { shape: [...x.shape], data: x.data };
    };
    const lin = (n: string): { weight: ReturnType<typeof t>; bias: ReturnType<typeof t> } => ({ weight: t(`${n}.weight`), bias: t(`${n}.bias`) });
    return {
      embeddings: {
        word: t('embeddings.word_embeddings.weight'),
        position: t('embeddings.position_embeddings.weight'),
        tokenType: t('embeddings.token_type_embeddings.weight'),
        norm: lin('embeddings.LayerNorm'),
      },
      layers: this.encoder.layer.map((_, i) => {
        const q = `encoder.layer.${i}.`;
        return {
          query: lin(`${q}attention.self.query`), key: lin(`${q}attention.self.key`), value: lin(`${q}attention.self.value`),
          attentionOutput: lin(`${q}attention.output.dense`), attentionNorm: lin(`${q}attention.output.LayerNorm`),
          intermediate: lin(`${q}intermediate.dense`), output: lin(`${q}output.dense`), outputNorm: lin(`${q}output.LayerNorm`),
        };
      }),
      ...(this.pooler ? { pooler: lin('pooler.dense') } : {}),
    };
  }
}

/** Initialisation fills are no-ops; forks are ordinary generators, so dropout seeds and the pooler stay random. */
class SkipInitRng extends Rng {
  override fillNormal(): void {}
  override fillUniform(): void {}
}

/** Reads a checkpoint folder and builds the model: what `slimtext encode` and fine-tuning start from. */
export async function loadBert(dir: string, opts: BertInitOptions & ReadCheckpointOptions = {}): Promise<{ model: BertModel; checkpoint: HfCheckpoint; notes: string[] }> {
  const checkpoint = await readHfCheckpoint(dir, opts);
  const { model, notes } = BertModel.fromCheckpoint(checkpoint, opts);
  return { model, checkpoint, notes };
}

/** Pads id sequences to the longest with padId: ids and attentionMask (B, T). */
export function padBatch(seqs: readonly (readonly number[])[], padId = 0): { ids: IntTensor; attentionMask: IntTensor } {
  const B = seqs.length;
  const T = seqs.reduce((m, s) => Math.max(m, s.length), 0);
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Int32Array(B * T);
  seqs.forEach((s, b) => {
    ids.set(s, b * T);
    mask.fill(1, b * T, b * T + s.length);
  });
  return { ids: new IntTensor(ids, [B, T]), attentionMask: new IntTensor(mask, [B, T]) };
}
