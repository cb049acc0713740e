import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dan, DanModel } from '../../../src/models/dan.js';
import { argmaxRows } from '../../../src/models/inference.js';
import { DEFAULT_DISTILL_RECIPE, distillDan, type DistillEpoch } from '../../../src/train/distill/sparseDistill.js';
import { vocabFromTexts } from '../../../src/train/distill/vocab.js';
import { sharedParamStorage } from '../../../src/train/distill/optim.js';
import { TEACHER_LABELS, sentences, teacherLogits } from './fixtures.js';

function agreement(a: Float32Array, b: Float32Array): number {
  const x = argmaxRows(a, 3);
  const y = argmaxRows(b, 3);
  let same = 0;
  for (let i = 0; i < x.length; i++) if (x[i] === y[i]) same++;
  return same / x.length;
}

// The synthetic teacher is linear in word counts, so unigrams are the right features (bigrams of
// random words only add rare features to overfit).
async function student(texts: string[]): Promise<Dan> {
  const vocab = await vocabFromTexts(texts, { maxVocab: 5000, maxN: 1, workers: 0 });
  const model = new DanModel({ rows: vocab.size, dim: 32, hidden: 32, numLabels: 3, dropIds: 0 }, { seed: 1 });
  return new Dan(model, vocab, { buckets: 0, maxN: 1 }, TEACHER_LABELS);
}

test('distillation from teacher logits alone reaches high agreement with the teacher on unseen texts', async () => {
  const transfer = sentences(4000, 11);
  const heldOut = sentences(1000, 12);
  const dan = await student(transfer);
  const epochs: DistillEpoch[] = [];
  const r = await distillDan(dan.model, { transfer: { bags: dan.featurize(transfer), logits: teacherLogits(transfer) } }, { ...DEFAULT_DISTILL_RECIPE, epochs: 4, lr: 1e-2 }, {
    onEpoch: (rec, best) => {
      epochs.push(rec);
      assert.equal(best, true, 'without a dev set every epoch counts as the best');
    },
  });
  assert.equal(epochs.length, 4);
  assert.ok(r.history[3]!.loss < r.history[0]!.loss / 2, `KL loss ${r.history[0]!.loss} -> ${r.history[3]!.loss}`);
  const agree = agreement(dan.predict(heldOut), teacherLogits(heldOut));
  assert.ok(agree > 0.95, `agreement with the teacher on held-out texts: ${agree}`);
});

test('hard-label mixing and a fine-tuning pass run, and the best dev epoch is reported', async () => {
  const transfer = sentences(1500, 21);
  const labelledTexts = sentences(300, 22);
  const devTexts = sentences(300, 23);
  const gold = (t: string[]) => argmaxRows(teacherLogits(t), 3);
  const dan = await student([...transfer, ...labelledTexts]);
  const bests: [DistillEpoch, boolean][] = [];
  const r = await distillDan(
    dan.model,
    {
      transfer: { bags: dan.featurize(transfer), logits: teacherLogits(transfer) },
      labelled: { bags: dan.featurize(labelledTexts), labels: gold(labelledTexts) },
      dev: { bags: dan.featurize(devTexts), labels: gold(devTexts) },
    },
    { ...DEFAULT_DISTILL_RECIPE, epochs: 2, lr: 1e-2, temperature: 2, hardWeight: 0.5, finetuneEpochs: 1, finetuneLr: 1e-3 },
    { onEpoch: (rec, best) => void bests.push([rec, best]) },
  );
  assert.deepEqual(r.history.map((h) => h.phase), ['distill', 'distill', 'finetune']);
  for (const h of r.history) assert.ok(h.dev_accuracy !== undefined && h.dev_accuracy > 0.6, `dev accuracy ${h.dev_accuracy}`);
  const bestAcc = Math.max(...r.history.map((h) => h.dev_accuracy!));
  assert.equal(r.best!.dev_accuracy, bestAcc);
  // onEpoch said "best" exactly when dev accuracy went above every earlier epoch.
  let top = -1;
  for (const [rec, best] of bests) {
    assert.equal(best, rec.dev_accuracy! > top);
    top = Math.max(top, rec.dev_accuracy!);
  }
});

test('Hogwild workers over shared parameters train as well as one thread', async () => {
  const transfer = sentences(4000, 11);
  const heldOut = sentences(1000, 12);
  const vocab = await vocabFromTexts(transfer, { maxVocab: 5000, maxN: 1, workers: 0 });
  const config = { rows: vocab.size, dim: 32, hidden: 32, numLabels: 3, dropIds: 0 };
  const plain = new DanModel(config, { seed: 1 });
  await assert.rejects(
    distillDan(plain, { transfer: { bags: new Dan(plain, vocab, { buckets: 0, maxN: 1 }, TEACHER_LABELS).featurize(transfer), logits: teacherLogits(transfer) } }, { ...DEFAULT_DISTILL_RECIPE, workers: 2 }),
    /not in shared memory: build the model with sharedParamStorage\(\)/,
  );
  const model = new DanModel(config, { seed: 1, storage: sharedParamStorage() });
  const dan = new Dan(model, vocab, { buckets: 0, maxN: 1 }, TEACHER_LABELS);
  const r = await distillDan(model, { transfer: { bags: dan.featurize(transfer), logits: teacherLogits(transfer) } }, { ...DEFAULT_DISTILL_RECIPE, epochs: 4, lr: 1e-2, workers: 2 });
  assert.equal(r.workers, 2);
  assert.ok(r.history[3]!.loss < r.history[0]!.loss / 2, `KL loss ${r.history[0]!.loss} -> ${r.history[3]!.loss}`);
  const agree = agreement(dan.predict(heldOut), teacherLogits(heldOut));
  assert.ok(agree > 0.95, `agreement with the teacher on held-out texts: ${agree}`);
});

test('bad training sets are refused with the reason', async () => {
  const texts = sentences(20, 31);
  const dan = await student(texts);
  const bags = dan.featurize(texts);
  await assert.rejects(distillDan(dan.model, { transfer: { bags, logits: new Float32Array(5) } }, DEFAULT_DISTILL_RECIPE), /teacher logits hold 5 values; 20 transfer texts x 3 classes need 60/);
  await assert.rejects(distillDan(dan.model, { labelled: { bags, labels: new Int32Array(20).fill(7) } }, DEFAULT_DISTILL_RECIPE), /row 0 has label id 7, outside the student's 3 classes/);
  await assert.rejects(distillDan(dan.model, {}, DEFAULT_DISTILL_RECIPE), /nothing to train on/);
});
