/**
 * Single-text and text-pair classification over a BERT encoder, as Hugging Face's
 * BertForSequenceClassification: [CLS] -> pooler (dense + tanh, when used) -> dropout -> linear.
 * Mean pooling over the tokens (without the pooler) is the other choice: a checkpoint pretrained
 * without a sentence-level objective (MLM only) leaves [CLS] nearly the same vector for every input
 * (measured on bert-l4-h128-mlm: spread across inputs 0.02 against a norm of 11), which a single
 * trainable layer on top of frozen ones cannot turn into a useful feature.
 * Field names are Hugging Face's (`bert.*`, `classifier.weight`), so the saved tensors load into
 * that class as they are. A pair is one input with token types 0 / 1 (`[CLS] a [SEP] b [SEP]`),
 * so the same model serves both tasks.
 *
 *   forward(input (B, T)) -> logits (B, C)
 *   head(lastHiddenState (B, T, H), attentionMask (B, T)) -> logits (B, C)   when the encoder ran elsewhere
 */
import { Dropout, Linear, Module, Rng, type IntTensor, type Tensor } from '../engine/index.js';
import { SlimtextError } from '../errors.js';
import type { BertInput, BertModel } from './bert/model.js';
import { pool, type Pooling } from './heads/pooling.js';

export interface ClassifierOptions {
  numLabels: number;
  /** [CLS] through the encoder's pooler (default true when the encoder has one and pooling is 'cls'). */
  usePooler?: boolean;
  /** The sentence vector: the [CLS] token (default) or the mean of the tokens. */
  pooling?: Pooling;
  /** Dropout before the linear layer (default: the encoder's hidden dropout). */
  dropout?: number;
  /** Seed of the linear layer's initialisation and of the dropout masks (default 0). */
  seed?: number;
}

export class SequenceClassifier extends Module {
  readonly bert: BertModel;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  readonly usePooler: boolean;
  readonly pooling: Pooling;
  readonly numLabels: number;

  constructor(bert: BertModel, opts: ClassifierOptions) {
    super();
    if (!(Number.isInteger(opts.numLabels) && opts.numLabels >= 1)) throw new SlimtextError(`a classifier needs at least one label, got ${opts.numLabels}`);
    this.pooling = opts.pooling ?? 'cls';
    this.usePooler = opts.usePooler ?? (bert.pooler !== undefined && this.pooling === 'cls');
    if (this.usePooler && !bert.pooler) throw new SlimtextError('the classifier is to use the pooler, but the encoder was built without one');
    if (this.usePooler && this.pooling !== 'cls') throw new SlimtextError('the pooler reads the [CLS] token: mean pooling goes without it');
    const rng = Rng.derive(opts.seed ?? 0, 'classifier');
    this.bert = bert;
    this.numLabels = opts.numLabels;
    this.dropout = new Dropout(opts.dropout ?? bert.config.hiddenDropout, rng);
    // BERT's initialisation, as Hugging Face gives a new classification head.
    this.classifier = new Linear(bert.config.hiddenSize, opts.numLabels, rng, { std: 0.02 });
  }

  forward(input: BertInput & { attentionMask: IntTensor }): Tensor {
    return this.head(this.bert.encode(this.bert.embed(input), this.bert.maskFor(input)), input.attentionMask);
  }

  head(last: Tensor, attentionMask: IntTensor): Tensor {
    const v = this.usePooler ? this.bert.pooler!.forward(last) : pool(this.pooling, last, attentionMask);
    return this.classifier.forward(this.dropout.forward(v));
  }
}
