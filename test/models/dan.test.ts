import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Rng } from '../../src/engine/index.js';
import { writeBundle } from '../../src/io/bundle.js';
import { Dan, DanModel, loadDan } from '../../src/models/dan.js';
import { NgramVocab } from '../../src/text/ngramVocab.js';
import { DEFAULT_DISTILL_RECIPE, danAccuracy, distillDan } from '../../src/train/distill/sparseDistill.js';
import { vocabFromTexts } from '../../src/train/distill/vocab.js';
import { withTempDir } from '../io/tempDir.js';

/** Texts of random filler words with one keyword that decides the class (and a negation bigram). */
function keywordTask(n: number, seed: number): { texts: string[]; labels: Int32Array } {
  const rng = new Rng(seed);
  const texts: string[] = [];
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const ws = Array.from({ length: 4 + rng.int(10) }, () => `f${rng.int(300)}`);
    let y = rng.int(3);
    ws[rng.int(ws.length)] = ['red', 'green', 'blue'][y]!;
    // "not blue" means class 0: only the bigram tells.
    if (y === 2 && rng.next() < 0.3) {
      ws.splice(ws.indexOf('blue'), 0, 'not');
      y = 0;
    }
    texts.push(ws.join(' '));
    labels[i] = y;
  }
  return { texts, labels };
}

async function trainedDan(): Promise<{ dan: Dan; dev: { texts: string[]; labels: Int32Array }; acc: number }> {
  const train = keywordTask(3000, 1);
  const dev = keywordTask(600, 2);
  const vocab = await vocabFromTexts(train.texts, { maxVocab: 20000, maxN: 2, workers: 0 });
  const model = new DanModel({ rows: vocab.size + 64, dim: 24, hidden: 16, numLabels: 3, dropIds: 0.1 }, { seed: 3 });
  const dan = new Dan(model, vocab, { buckets: 64, maxN: 2 }, ['c0', 'c1', 'c2']);
  const devSet = { bags: dan.featurize(dev.texts), labels: dev.labels };
  const r = await distillDan(model, { labelled: { bags: dan.featurize(train.texts), labels: train.labels }, dev: devSet }, { ...DEFAULT_DISTILL_RECIPE, epochs: 4, lr: 5e-3 });
  assert.equal(r.history.length, 4);
  assert.equal(r.history[0]!.phase, 'supervised');
  return { dan, dev, acc: danAccuracy(model, devSet) };
}

const trained = trainedDan();

test('a DAN learns a keyword task, negation bigram included', async () => {
  const { acc } = await trained;
  assert.ok(acc > 0.95, `dev accuracy ${acc}`);
});

test('the inference path reuses its buffers and agrees with batched prediction', async () => {
  const { dan, dev } = await trained;
  const p = dan.predictor();
  const a = p.logitsOne(dev.texts[0]!);
  const first = Array.from(a);
  const b = p.logitsOne(dev.texts[1]!);
  assert.equal(a.buffer, b.buffer, 'single requests write into the same buffer');
  assert.equal(a.byteOffset, b.byteOffset);
  const batch = p.logitsBatch(dev.texts.slice(0, 5));
  assert.equal(batch.buffer, a.buffer, 'batches use the same buffers too');
  const again = p.logitsBatch(dev.texts.slice(5, 10));
  assert.equal(again.buffer, batch.buffer);
  const all = dan.predict(dev.texts.slice(0, 10));
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(all[i]! - first[i]!) < 1e-5);
  for (let i = 0; i < 15; i++) assert.ok(Math.abs(all[15 + i]! - again[i]!) < 1e-5);
  // One text at a time gives what the batch gives.
  const one = Array.from(p.logitsOne(dev.texts[7]!));
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(one[c]! - all[7 * 3 + c]!) < 1e-5);
  const labels = p.labelsBatch(dev.texts.slice(0, 10), new Int32Array(10));
  for (let i = 0; i < 10; i++) assert.equal(labels[i], p.labelOne(dev.texts[i]!));
  // A text longer than any before grows the buffers once, and still agrees.
  const long = Array.from({ length: 3000 }, (_, i) => (i === 1500 ? 'green' : `f${i % 300}`)).join(' ');
  const l1 = Array.from(p.logitsOne(long));
  const l2 = dan.predict([long]);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(l1[c]! - l2[c]!) < 1e-4);
  assert.equal(Array.from(p.logitsOne('')).length, 3, 'an empty text still gets logits (of the biases)');
});

test('a DAN bundle round-trips; a float16 table stays close; bad bundles are clear errors', withTempDir(async (dir) => {
  const { dan, dev } = await trained;
  await dan.save(join(dir, 'dan'), { metrics: { dev_accuracy: 1 } });
  const back = await loadDan(join(dir, 'dan'));
  assert.deepEqual(back.labels, dan.labels);
  assert.deepEqual(back.predict(dev.texts), dan.predict(dev.texts));
  await dan.save(join(dir, 'half'), { tableDtype: 'F16' });
  const half = await loadDan(join(dir, 'half'));
  const x = half.predict(dev.texts);
  const y = dan.predict(dev.texts);
  let maxDiff = 0;
  for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i]! - y[i]!));
  assert.ok(maxDiff < 1e-2, `float16 table moves logits by ${maxDiff}`);

  const vocab = new NgramVocab(['a'], [1], { maxN: 1, lowercase: true, minCount: 1, lines: 1, words: 1, approximate: false, maxUndercount: 0, sources: [] });
  await writeBundle(join(dir, 'other'), { task: 'classify', architecture: { kind: 'sequence-classifier' }, labels: ['x'], tensors: new Map(), tokenizerFiles: [] });
  await assert.rejects(loadDan(join(dir, 'other')), /architecture\.kind.*expected 'dan'/);
  await assert.rejects(loadDan(join(dir, 'missing')), /missing: no such folder/);
  assert.throws(() => new Dan(new DanModel({ rows: 5, dim: 2, hidden: 0, numLabels: 1, dropIds: 0 }), vocab, { buckets: 0, maxN: 1 }, ['x']), /featuriser has 1 ids .* the table has 5 rows/);
}));
