/**
 * Reply suggestion as a bi-encoder (dual encoder): a message encoder and a reply encoder (the same
 * BertModel when weights are shared) map texts to vectors; a message's candidate replies are
 * ranked by cosine or dot score. Trained with in-batch negatives: in a batch of B message -> reply
 * pairs, each message's own reply is the right class among the B replies (softmax cross-entropy
 * over the (B, B) score matrix), as in Henderson et al. 2017 ("Efficient natural language response
 * suggestion for Smart Reply").
 *
 *   vectors(side, lastHiddenState (B, T, H), attentionMask (B, T)) -> (B, H), prepared for scoring
 *   scores(u (B, H), v (N, H)) -> (B, N)
 *   inBatchLoss(u (B, H), v (B, H)) -> []
 */
import { IntTensor, Module, crossEntropy, type Tensor } from '../engine/index.js';
import { SlimtextError } from '../errors.js';
import type { BertModel } from './bert/model.js';
import { pool, type Pooling } from './heads/pooling.js';
import { DEFAULT_SCALE, prepare, scorePrepared, type Score } from './heads/similarity.js';

export type Side = 'message' | 'reply';

export interface BiEncoderOptions {
  pooling?: Pooling;
  score?: Score;
  /** Multiplies scores before the softmax (default 20 for cosine, 1 for dot). */
  scale?: number;
}

export class BiEncoder extends Module {
  readonly messageEncoder: BertModel;
  /** The same object as messageEncoder when weights are shared (its parameters are listed once). */
  readonly replyEncoder: BertModel;
  readonly pooling: Pooling;
  readonly score: Score;
  readonly scale: number;

  constructor(messageEncoder: BertModel, replyEncoder: BertModel | undefined, opts: BiEncoderOptions = {}) {
    super();
    this.messageEncoder = messageEncoder;
    this.replyEncoder = replyEncoder ?? messageEncoder;
    if (this.replyEncoder.config.hiddenSize !== messageEncoder.config.hiddenSize) {
      throw new SlimtextError(`message and reply encoders differ in hidden size (${messageEncoder.config.hiddenSize} vs ${this.replyEncoder.config.hiddenSize})`);
    }
    this.pooling = opts.pooling ?? 'cls';
    this.score = opts.score ?? 'cosine';
    this.scale = opts.scale ?? DEFAULT_SCALE[this.score];
    if (!(this.scale > 0)) throw new SlimtextError(`the score scale must be positive, got ${this.scale}`);
  }

  get shared(): boolean {
    return this.replyEncoder === this.messageEncoder;
  }

  /** The distinct encoders (one when shared). */
  encoders(): BertModel[] {
    return this.shared ? [this.messageEncoder] : [this.messageEncoder, this.replyEncoder];
  }

  encoderOf(side: Side): BertModel {
    return side === 'message' ? this.messageEncoder : this.replyEncoder;
  }

  vectors(last: Tensor, attentionMask: IntTensor): Tensor {
    return prepare(this.score, pool(this.pooling, last, attentionMask));
  }

  scores(u: Tensor, v: Tensor): Tensor {
    return scorePrepared(u, v, this.scale);
  }

  inBatchLoss(u: Tensor, v: Tensor): Tensor {
    const B = u.shape[0]!;
    return crossEntropy(this.scores(u, v), Int32Array.from({ length: B }, (_, i) => i));
  }
}
