/**
 * Batched, gradient-free inference over tokenised sets, shared by evaluation during training (which
 * passes an `EncodeRows` that starts from cached frozen-prefix features) and by `slimtext eval` /
 * `predict` (plain forward passes). Rows are batched by length so padding stays small; results come
 * back in the set's order.
 */
import { Tensor, noGrad, softmax } from '../engine/index.js';
import type { BertModel } from './bert/model.js';
import { FastBert, type Quantize } from './bert/fastForward.js';
import type { BiEncoder, Side } from './biEncoder.js';
import type { SequenceClassifier } from './classifier.js';
import { lengthSortedBatches, padRows, type PaddedBatch, type TokenizedSet } from './textBatch.js';

/** Runs `encoder` over rows of a set: the last hidden state (B, T, H) and the padded batch. */
export type EncodeRows = (encoder: BertModel, set: TokenizedSet, rows: Int32Array) => { last: Tensor; batch: PaddedBatch };

export interface PlainEncodeOptions {
  /** 'int8': dynamic int8 quantisation of the encoder's linear layers (a model saved as int8 runs int8 anyway). */
  quantize?: Quantize;
}

/**
 * The plain forward pass, on the tape-free inference path (bert/fastForward.ts). Each encoder is
 * prepared (weights copied and packed) on first use by this EncodeRows, so make one per model
 * state: after more training, call plainEncode again.
 */
export function plainEncode(padId: number, opts: PlainEncodeOptions = {}): EncodeRows {
  const prepared = new WeakMap<BertModel, FastBert>();
  return (encoder, set, rows) => {
    const batch = padRows(set, rows, padId);
    let fast = prepared.get(encoder);
    if (!fast) {
      fast = FastBert.prepare(encoder, { quantize: opts.quantize ?? 'none' });
      prepared.set(encoder, fast);
    }
    return { last: fast.lastHidden(batch), batch };
  };
}

/** The taped forward pass (BertModel.encode): the reference the inference path is tested against. */
export function tapedEncode(padId: number): EncodeRows {
  return (encoder, set, rows) => {
    const batch = padRows(set, rows, padId);
    return { last: encoder.encode(encoder.embed(batch), encoder.maskFor(batch)), batch };
  };
}

/** Logits of every row, (N, C) row-major, in the set's order. */
export function classifierLogits(model: SequenceClassifier, set: TokenizedSet, batchSize: number, encode: EncodeRows): Float32Array {
  const C = model.numLabels;
  const out = new Float32Array(set.lengths.length * C);
  withEval(model, () => {
    for (const rows of lengthSortedBatches(set.lengths, batchSize)) {
      const logits = noGrad(() => {
        const { last, batch } = encode(model.bert, set, rows);
        return model.head(last, batch.attentionMask);
      }).data;
      rows.forEach((r, k) => out.set(logits.subarray(k * C, (k + 1) * C), r * C));
    }
  });
  return out;
}

/** Sentence vectors of every row for one side, (N, H), ready for BiEncoder.scores. */
export function sideVectors(model: BiEncoder, side: Side, set: TokenizedSet, batchSize: number, encode: EncodeRows): Float32Array {
  const H = model.messageEncoder.config.hiddenSize;
  const out = new Float32Array(set.lengths.length * H);
  withEval(model, () => {
    for (const rows of lengthSortedBatches(set.lengths, batchSize)) {
      const v = noGrad(() => {
        const { last, batch } = encode(model.encoderOf(side), set, rows);
        return model.vectors(last, batch.attentionMask);
      }).data;
      rows.forEach((r, k) => out.set(v.subarray(k * H, (k + 1) * H), r * H));
    }
  });
  return out;
}

/** Index of the largest value in each row of a (N, C) matrix (once per prediction, not per training step). */
export function argmaxRows(m: Float32Array, C: number): Int32Array {
  const n = m.length / C;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (m[i * C + c]! > m[i * C + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** Row-wise softmax of a (N, C) matrix (probabilities for printing). */
export function softmaxRows(m: Float32Array, C: number): Float32Array {
  return softmax(new Tensor(m, [m.length / C, C])).data;
}

/** Runs fn with the model in eval mode, restoring its previous mode afterwards. */
function withEval<T>(model: { training: boolean; train(on?: boolean): unknown }, fn: () => T): T {
  const was = model.training;
  model.train(false);
  try {
    return fn();
  } finally {
    if (was) model.train(true);
  }
}
