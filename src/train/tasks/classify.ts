/**
 * Fine-tuning a SequenceClassifier (single texts or text pairs): cross-entropy on the labels; dev
 * accuracy and macro-F1. Dev rows whose label training never saw keep a class of their own that
 * no prediction can hit, so they count as errors (and are reported before training starts).
 */
import { crossEntropy, type Tensor } from '../../engine/index.js';
import { classificationReport } from '../../eval/metrics.js';
import type { SequenceClassifier } from '../../models/classifier.js';
import { argmaxRows, classifierLogits } from '../../models/inference.js';
import type { TaskModel } from '../../models/taskModel.js';
import type { TokenizedSet } from '../../models/textBatch.js';
import type { WordPieceTokenizer } from '../../text/tokenizer.js';
import { frozenToEval, type FreezePlan } from '../freeze.js';
import type { PrefixRunner } from '../prefixCache.js';
import type { Metrics, TrainTask } from './task.js';

export interface ClassifyData {
  train: TokenizedSet;
  /** Label id of each training row. */
  trainLabels: Int32Array;
  dev: TokenizedSet;
  /** Label id of each dev row, -1 for a label not seen in training. */
  devLabels: Int32Array;
  labels: readonly string[];
}

export class ClassifyTask implements TrainTask {
  readonly selectMetric = 'accuracy';
  readonly trainLengths: Int32Array;

  constructor(
    readonly kind: 'classify' | 'pair',
    readonly module: SequenceClassifier,
    private readonly plan: FreezePlan,
    /** Protected: a task with another loss over the same model and data (branch distillation) extends this one. */
    protected readonly runner: PrefixRunner,
    protected readonly data: ClassifyData,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly maxLength: number,
    private readonly evalBatchSize: number,
  ) {
    this.trainLengths = data.train.lengths;
    runner.register(data.train);
    runner.register(data.dev);
  }

  setTraining(on: boolean): void {
    this.module.train(on);
    if (on) frozenToEval(this.module.bert, this.plan);
  }

  loss(rows: Int32Array): Tensor {
    const { last, batch } = this.runner.run(this.data.train, rows);
    return crossEntropy(this.module.head(last, batch.attentionMask), rows.map((r) => this.data.trainLabels[r]!));
  }

  evaluate(): Metrics {
    return classifierMetrics(classifierLogits(this.module, this.data.dev, this.evalBatchSize, this.runner.encodeRows), this.data.devLabels, this.module.numLabels);
  }

  taskModel(): TaskModel {
    return { task: this.kind, model: this.module, labels: this.data.labels, tokenizer: this.tokenizer, maxLength: this.maxLength };
  }

  cacheStats() {
    return this.runner.cache?.stats();
  }

  warmCache(batches: readonly Int32Array[]): void {
    for (const rows of batches) this.runner.warm(this.data.train, rows);
  }
}

/** accuracy, macro_f1 and n from logits (N, C) and gold ids (-1: a label the model cannot predict). */
export function classifierMetrics(logits: Float32Array, gold: Int32Array, C: number): Metrics {
  const pred = argmaxRows(logits, C);
  const unseen = gold.reduce((n, g) => n + (g < 0 ? 1 : 0), 0);
  const g = unseen ? gold.map((x) => (x < 0 ? C : x)) : gold;
  const r = classificationReport(g, pred, unseen ? C + 1 : C);
  return { accuracy: r.accuracy, macro_f1: r.macro_f1, n: gold.length, ...(unseen ? { unseen_label_rows: unseen } : {}) };
}
