/**
 * Training a DAN around its compressed table on the labelled task data:
 *   retrain  the table stays as compressed; the hidden and output layers learn to read it
 *            (fastText's quantize -retrain)
 *   joint    task-aware: the table's own values (PQ centroids / code books, low-rank factors,
 *            or a dense table's rows) learn with the layers from the task loss, the integer
 *            codes staying fixed. A table with no trainable values (int8/int4) cannot.
 * Cross-entropy on the gold labels, AdamW, the best epoch on dev kept. With teacher logits for
 * the training rows (--teacher-logits), the loss is distill's (train/teacherLogits.ts distillLoss):
 * alpha x KL(teacher || student) + (1 - alpha) x cross-entropy.
 */
import { crossEntropy, noGrad, scale } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import { LabelMap, type Example } from '../../data/index.js';
import type { Bags, Dan } from '../../models/dan.js';
import { distillLoss, gatherRows } from '../teacherLogits.js';
import { trainEpochs, type CompressTrainOptions, type CompressTrainResult } from './epochs.js';

export type { CompressTrainOptions, CompressTrainResult, TrainMode } from './epochs.js';

/** lr is the DAN's; a transformer classifier retrains at 2e-4 unless told. */
export const DEFAULT_TRAIN: Readonly<Omit<CompressTrainOptions, 'mode'>> = Object.freeze({ epochs: 5, lr: 1e-3, batchSize: 32, seed: 0 });

/** Teacher logits of the training rows, (train.length x labels) row-major, and the loss's mix. */
export interface CompressTeacher {
  logits: Float32Array;
  /** Weight of the KL term, (0, 1]; 1 - alpha goes to the gold labels' cross-entropy. */
  alpha: number;
  temperature: number;
}

export function trainCompressed(dan: Dan, train: readonly Example[], dev: readonly Example[] | undefined, o: CompressTrainOptions, teacher?: CompressTeacher): CompressTrainResult {
  const { rows: tr, labels } = labelledRows(dan, train);
  const C = dan.numLabels;
  // The teacher rows of the rows kept, in their order.
  const kept = new Set(tr);
  const soft = teacher ? gatherRows(teacher.logits, C, Int32Array.from(train.flatMap((e, i) => (kept.has(e) ? [i] : [])))) : undefined;
  if (tr.length === 0) throw new OpError('--train', "no training rows carry one of the model's labels");
  const bags = dan.featurize(tr.map((e) => e.text));
  const { rows: dv, labels: devLabels } = labelledRows(dan, dev ?? []);
  const devBags = dv.length ? dan.featurize(dv.map((e) => e.text)) : undefined;
  return trainEpochs({
    model: dan.model, table: dan.model.embeddings, rows: tr.length, weightDecay: 0,
    loss: (rows) => {
      const out = dan.model.forward(gather(bags, rows));
      const gold = Int32Array.from(rows, (r) => labels[r]!);
      if (!teacher || !soft) return crossEntropy(out, gold);
      const a = teacher.alpha;
      return scale(distillLoss(out, gatherRows(soft, C, rows), teacher.temperature, { student: out, labels: gold, weight: (1 - a) / a }), a);
    },
    accuracy: () => (devBags ? accuracyOf(dan, devBags, devLabels) : undefined),
  }, o);
}

/** The rows that carry one of the model's labels, in order, and those labels' ids. */
export function labelledRows(dan: Dan, xs: readonly Example[]): { rows: Example[]; labels: Int32Array } {
  const map = LabelMap.fromJSON({ version: 1, labels: [...dan.labels] });
  const rows = xs.filter((e) => e.label !== undefined && map.encode([e])[0]! >= 0);
  return { rows, labels: map.encode(rows) };
}

function accuracyOf(dan: Dan, bags: Bags, labels: Int32Array): number {
  const C = dan.numLabels;
  const n = labels.length;
  const out = new Float32Array(n * C);
  noGrad(() => {
    for (let i = 0; i < n; i += 512) {
      const rows = Int32Array.from({ length: Math.min(512, n - i) }, (_, k) => i + k);
      out.set(dan.model.forward(gather(bags, rows)).data, i * C);
    }
  });
  let right = 0;
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let c = 1; c < C; c++) if (out[i * C + c]! > out[i * C + b]!) b = c;
    if (b === labels[i]) right++;
  }
  return right / n;
}

/** The bags of some rows, CSR. */
export function gather(b: Bags, rows: Int32Array): Bags {
  const offsets = new Int32Array(rows.length + 1);
  let n = 0;
  for (let i = 0; i < rows.length; i++) n += b.offsets[rows[i]! + 1]! - b.offsets[rows[i]!]!;
  const ids = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    ids.set(b.ids.subarray(b.offsets[r]!, b.offsets[r + 1]!), k);
    k += b.offsets[r + 1]! - b.offsets[r]!;
    offsets[i + 1] = k;
  }
  return { ids, offsets };
}
