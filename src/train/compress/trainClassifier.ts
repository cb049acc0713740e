/**
 * retrain / joint training of a transformer classifier around its compressed word-embedding table
 * (the DAN's counterpart is train.ts; the two modes mean the same): retrain freezes the table and
 * trains the encoder and head; joint also trains the table's own values (codebooks, factors).
 * Cross-entropy, AdamW, plain (unbucketed) batches, the best epoch on dev kept.
 */
import { crossEntropy } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import { LabelMap, type Example } from '../../data/index.js';
import { classifierLogits, plainEncode, tapedEncode } from '../../models/inference.js';
import type { ClassifierTaskModel } from '../../models/taskModel.js';
import { tokenizeAll } from '../../models/textBatch.js';
import { classifierMetrics } from '../tasks/classify.js';
import { trainEpochs, type CompressTrainOptions, type CompressTrainResult } from './epochs.js';

export function trainCompressedClassifier(tm: ClassifierTaskModel, train: readonly Example[], dev: readonly Example[] | undefined, o: CompressTrainOptions): CompressTrainResult {
  const model = tm.model;
  const map = LabelMap.fromJSON({ version: 1, labels: [...tm.labels] });
  const tr = train.filter((e) => e.label !== undefined && map.encode([e])[0]! >= 0);
  if (tr.length === 0) throw new OpError('--train', "no training rows carry one of the model's labels");
  const tok = tm.tokenizer;
  const pad = tok.padId >= 0 ? tok.padId : 0;
  // The loss needs the taped forward (gradients to the encoder and, in joint mode, the table);
  // the fast inference path only scores dev.
  const taped = tapedEncode(pad), encode = plainEncode(pad);
  const pairs = (xs: readonly Example[]) => (tm.task === 'pair' ? xs.map((e) => e.pair ?? '') : undefined);
  const set = tokenizeAll(tok, tr.map((e) => e.text), pairs(tr), tm.maxLength);
  const labels = map.encode(tr);
  const dv = dev ?? [];
  const devSet = dv.length ? tokenizeAll(tok, dv.map((e) => e.text), pairs(dv), tm.maxLength) : undefined;
  const devLabels = map.encode(dv);
  return trainEpochs({
    model, table: model.bert.embeddings.word_embeddings, rows: tr.length, weightDecay: 0.01,
    loss: (rows) => {
      const { last, batch } = taped(model.bert, set, rows);
      return crossEntropy(model.head(last, batch.attentionMask), rows.map((r) => labels[r]!));
    },
    accuracy: () => (devSet ? classifierMetrics(classifierLogits(model, devSet, 64, encode), devLabels, model.numLabels).accuracy! : undefined),
  }, o);
}
