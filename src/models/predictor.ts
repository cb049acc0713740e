/**
 * Predictions from a loaded TaskModel for raw text: the top-k labels with probabilities
 * (classify; pair inputs are [text, pair]), or the top-k replies of the model's reply set with
 * their scores (reply; cosine similarity for cosine models, the dot product for dot models).
 * The reply set's vectors are computed once, when the predictor is made.
 */
import { Tensor, matmul } from '../engine/index.js';
import { classifierLogits, plainEncode, sideVectors, softmaxRows, type EncodeRows } from './inference.js';
import { isDan, type AnyTaskModel } from './anyModel.js';
import type { MultiTaskModel, TaskBranch } from './multiTask.js';
import type { Quantize } from './bert/fastForward.js';
import { SlimtextError } from '../errors.js';
import { tokenizeAll } from './textBatch.js';

export interface Ranked {
  /** A label, or a reply's text. */
  text: string;
  score: number;
}

export interface PredictorOptions {
  /** How many labels or replies to return per input (default 1 for classifiers, 3 for replies). */
  topK?: number;
  batchSize?: number;
  /** 'int8': dynamic int8 quantisation of the encoder's linear layers (BERT models; a model saved as int8 runs int8 anyway). */
  quantize?: Quantize;
}

export class Predictor {
  readonly topK: number;
  private readonly batchSize: number;
  private readonly encode: EncodeRows;
  private replyVectors: Tensor | undefined;

  constructor(readonly tm: AnyTaskModel, opts: PredictorOptions = {}) {
    this.topK = Math.max(1, opts.topK ?? (tm.task === 'reply' ? 3 : 1));
    this.batchSize = opts.batchSize ?? 64;
    const quantize = opts.quantize ?? 'none';
    if (quantize !== 'none' && isDan(tm)) throw new SlimtextError(`--quantize ${quantize} applies to BERT models; this is a DAN model`);
    this.encode = plainEncode(isDan(tm) || tm.tokenizer.padId < 0 ? 0 : tm.tokenizer.padId, { quantize });
  }

  /** Inputs: texts, or [text, pair] for pair models. One ranked list per input, best first. */
  predict(inputs: readonly (string | readonly [string, string])[]): Ranked[][] {
    if (inputs.length === 0) return [];
    const tm = this.tm;
    const texts = inputs.map((x) => (typeof x === 'string' ? x : x[0]));
    if (tm.task === 'reply') {
      const H = tm.model.messageEncoder.config.hiddenSize;
      const set = tokenizeAll(tm.tokenizer, texts, undefined, tm.maxLength);
      const u = new Tensor(sideVectors(tm.model, 'message', set, this.batchSize, this.encode), [inputs.length, H]);
      const scores = matmul(u, this.replies(), { transB: true }).data;
      return topRows(scores, tm.responses.length, this.topK, (j) => tm.responses[j]!);
    }
    const C = tm.labels.length;
    if (isDan(tm)) return topRows(softmaxRows(tm.dan.predict(texts), C), C, this.topK, (j) => tm.labels[j]!);
    const pairs = tm.task === 'pair' ? inputs.map((x) => (typeof x === 'string' ? '' : x[1])) : undefined;
    const set = tokenizeAll(tm.tokenizer, texts, pairs, tm.maxLength);
    const probs = softmaxRows(classifierLogits(tm.model, set, this.batchSize, this.encode), C);
    return topRows(probs, C, this.topK, (j) => tm.labels[j]!);
  }

  private replies(): Tensor {
    if (!this.replyVectors) {
      const tm = this.tm;
      if (tm.task !== 'reply') throw new Error('not a reply model');
      const set = tokenizeAll(tm.tokenizer, tm.responses, undefined, tm.maxLength);
      this.replyVectors = new Tensor(sideVectors(tm.model, 'reply', set, this.batchSize, this.encode), [tm.responses.length, tm.model.messageEncoder.config.hiddenSize]);
    }
    return this.replyVectors;
  }
}

/** Every chosen task of a multi-task model for each input, the trunk run once per batch. */
export class MultiTaskPredictor {
  readonly topK: number;
  readonly tasks: readonly TaskBranch[];
  private readonly batchSize: number;
  private readonly quantize: Quantize;

  constructor(readonly mt: MultiTaskModel, tasks?: readonly string[], opts: PredictorOptions = {}) {
    this.tasks = mt.select(tasks);
    this.topK = Math.max(1, opts.topK ?? 1);
    this.batchSize = opts.batchSize ?? 64;
    this.quantize = opts.quantize ?? 'none';
  }

  /** One object per input: task name -> its ranked labels, best first. */
  predict(texts: readonly string[]): Record<string, Ranked[]>[] {
    if (texts.length === 0) return [];
    const probs = this.mt.probabilities(texts, this.tasks, this.batchSize, this.quantize);
    const out: Record<string, Ranked[]>[] = texts.map(() => ({}));
    this.tasks.forEach((t, k) => {
      const labels = t.spec.labels;
      topRows(probs[k]!, labels.length, this.topK, (j) => labels[j]!).forEach((r, i) => {
        out[i]![t.spec.name] = r;
      });
    });
    return out;
  }
}

/** The k best columns of each row of an (N, C) score matrix (ties: lower column first). */
function topRows(m: Float32Array, C: number, k: number, name: (j: number) => string): Ranked[][] {
  const out: Ranked[][] = [];
  for (let i = 0; i < m.length / C; i++) {
    const row = m.subarray(i * C, (i + 1) * C);
    const idx = Array.from({ length: C }, (_, j) => j).sort((a, b) => row[b]! - row[a]! || a - b).slice(0, k);
    out.push(idx.map((j) => ({ text: name(j), score: row[j]! })));
  }
  return out;
}
