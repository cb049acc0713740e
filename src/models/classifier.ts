/**
 * Single-text and text-pair classification over a BERT encoder, as Hugging Face's
 * BertForSequenceClassification: [CLS] -> pooler (dense + tanh, when used) -> dropout -> linear.
 * Field names are Hugging Face's (`bert.*`, `classifier.weight`), so the saved tensors load into
 * that class as they are. A pair is one input with token types 0 / 1 (`[CLS] a [SEP] b [SEP]`),
 * so the same model serves both tasks.
 *
 *   forward(input (B, T)) -> logits (B, C)
 *   head(lastHiddenState (B, T, H)) -> logits (B, C)     for callers that ran the encoder themselves
 */
import { Dropout, Linear, Module, Rng, type Tensor } from '../engine/index.js';
import { SlimtextError } from '../errors.js';
import type { BertInput, BertModel } from './bert/model.js';
import { clsVector } from './heads/pooling.js';

export interface ClassifierOptions {
  numLabels: number;
  /** [CLS] through the encoder's pooler (default true when the encoder has one). */
  usePooler?: boolean;
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
  readonly numLabels: number;

  constructor(bert: BertModel, opts: ClassifierOptions) {
    super();
    if (!(Number.isInteger(opts.numLabels) && opts.numLabels >= 1)) throw new SlimtextError(`a classifier needs at least one label, got ${opts.numLabels}`);
    this.usePooler = opts.usePooler ?? bert.pooler !== undefined;
    if (this.usePooler && !bert.pooler) throw new SlimtextError('the classifier is to use the pooler, but the encoder was built without one');
    const rng = Rng.derive(opts.seed ?? 0, 'classifier');
    this.bert = bert;
    this.numLabels = opts.numLabels;
    this.dropout = new Dropout(opts.dropout ?? bert.config.hiddenDropout, rng);
    // BERT's initialisation, as Hugging Face gives a new classification head.
    this.classifier = new Linear(bert.config.hiddenSize, opts.numLabels, rng, { std: 0.02 });
  }

  forward(input: BertInput): Tensor {
    return this.head(this.bert.encode(this.bert.embed(input), this.bert.maskFor(input)));
  }

  head(last: Tensor): Tensor {
    const cls = this.usePooler ? this.bert.pooler!.forward(last) : clsVector(last);
    return this.classifier.forward(this.dropout.forward(cls));
  }
}
