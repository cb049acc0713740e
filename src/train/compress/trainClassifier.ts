/**
 * retrain / joint training of a transformer classifier around its compressed word-embedding table
 * (the DAN's counterpart is train.ts; the two modes mean the same): retrain freezes the table and
 * trains the encoder and head; joint also trains the table's own values (codebooks, factors).
 * Cross-entropy, AdamW, plain (unbucketed) batches, the best epoch on dev kept.
 */
import { AdamW, Rng, backward, crossEntropy, type Parameter } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import { LabelMap, type Example } from '../../data/index.js';
import { classifierLogits, plainEncode } from '../../models/inference.js';
import type { ClassifierTaskModel } from '../../models/taskModel.js';
import { tokenizeAll } from '../../models/textBatch.js';
import { classifierMetrics } from '../tasks/classify.js';
import type { CompressTrainOptions, CompressTrainResult } from './train.js';

export function trainCompressedClassifier(tm: ClassifierTaskModel, train: readonly Example[], dev: readonly Example[] | undefined, o: CompressTrainOptions): CompressTrainResult {
  const model = tm.model;
  const table = model.bert.embeddings.word_embeddings;
  const tableParams = new Set<Parameter>(table.trainable());
  if (o.mode === 'joint' && tableParams.size === 0) throw new OpError('--mode joint', `a ${table.kind} table has no trainable values (its codes are frozen integers); use --mode retrain`);
  const map = LabelMap.fromJSON({ version: 1, labels: [...tm.labels] });
  const tr = train.filter((e) => e.label !== undefined && map.encode([e])[0]! >= 0);
  if (tr.length === 0) throw new OpError('--train', "no training rows carry one of the model's labels");
  const tok = tm.tokenizer;
  const pad = tok.padId >= 0 ? tok.padId : 0;
  const encode = plainEncode(pad);
  const pairs = (xs: readonly Example[]) => (tm.task === 'pair' ? xs.map((e) => e.pair ?? '') : undefined);
  const set = tokenizeAll(tok, tr.map((e) => e.text), pairs(tr), tm.maxLength);
  const labels = map.encode(tr);
  const dv = dev ?? [];
  const devSet = dv.length ? tokenizeAll(tok, dv.map((e) => e.text), pairs(dv), tm.maxLength) : undefined;
  const devLabels = map.encode(dv);
  const params: [string, Parameter][] = [];
  for (const [name, p] of model.namedParameters()) {
    p.frozen = tableParams.has(p) && o.mode === 'retrain';
    if (!p.frozen) params.push([name, p]);
  }
  const opt = new AdamW(params, { lr: o.lr, weightDecay: 0.01 });
  const rng = Rng.derive(o.seed, 'compress/train-classifier');
  const order = Int32Array.from({ length: tr.length }, (_, i) => i);
  const accuracy = () => {
    if (!devSet) return undefined;
    model.eval();
    return classifierMetrics(classifierLogits(model, devSet, 64, encode), devLabels, model.numLabels).accuracy!;
  };
  const history: CompressTrainResult['epochs'] = [];
  let best = 0, bestAcc = accuracy() ?? -1;
  let snapshot = params.map(([, p]) => p.data.slice());
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    model.train(true);
    rng.shuffle(order);
    let lossSum = 0, steps = 0;
    for (let i = 0; i < order.length; i += o.batchSize) {
      const rows = order.slice(i, Math.min(order.length, i + o.batchSize));
      const { last, batch } = encode(model.bert, set, rows);
      const loss = crossEntropy(model.head(last, batch.attentionMask), rows.map((r) => labels[r]!));
      lossSum += loss.data[0]!;
      steps++;
      backward(loss);
      opt.step();
    }
    const acc = accuracy();
    history.push({ epoch, loss: lossSum / Math.max(1, steps), ...(acc !== undefined ? { devAccuracy: acc } : {}) });
    o.onEpoch?.(epoch, lossSum / Math.max(1, steps), acc);
    if (acc === undefined || acc > bestAcc) {
      bestAcc = acc ?? bestAcc;
      best = epoch;
      snapshot = params.map(([, p]) => p.data.slice());
    }
  }
  params.forEach(([, p], i) => p.data.set(snapshot[i]!));
  for (const [, p] of model.namedParameters()) p.frozen = false;
  model.eval();
  return { epochs: history, bestEpoch: best };
}
