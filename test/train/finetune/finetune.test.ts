/**
 * End-to-end fine-tuning on a tiny random checkpoint: each task learns a trivial data set, the best
 * model lands in the output folder as a bundle that evaluates to the recorded dev numbers, and a
 * run interrupted mid-epoch and resumed ends exactly where an uninterrupted run does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finetune, type FinetuneOptions } from '../../../src/train/finetune/finetune.js';
import { evaluateTaskModel } from '../../../src/train/tasks/evaluate.js';
import { loadTaskModel } from '../../../src/models/taskModel.js';
import { loadState } from '../../../src/train/trainState.js';
import { classData, pairData, replyData, tempDir, tinyCheckpoint } from '../fixtures.js';

const ckpt = tinyCheckpoint();

async function run(opts: Omit<FinetuneOptions, 'model' | 'out'> & { out?: string }) {
  const out = opts.out ?? tempDir();
  return { out, r: await finetune({ model: await ckpt, ...opts, out }) };
}

test('classify: learns a trivial task; the saved best model evaluates to the recorded dev accuracy', async () => {
  const data = classData(256, 64);
  const { out, r } = await run({ train: data, recipe: { task: 'classify', epochs: 3, lr: 1e-2, batchSize: 16 } });
  assert.equal(r.completed, true);
  assert.equal(r.history.length, 3);
  assert.ok(r.best!.metrics.accuracy! >= 0.95, `dev accuracy ${r.best!.metrics.accuracy}`);
  assert.ok(r.history[2]!.train_loss < r.history[0]!.train_loss);
  assert.equal(r.steps, 3 * 16);
  const { model, manifest } = await loadTaskModel(out);
  assert.equal(manifest.task, 'classify');
  assert.deepEqual(manifest.labels, ['animal', 'greeting']);
  const ev = await evaluateTaskModel(model, data, { split: 'dev' });
  assert.equal(ev.accuracy, r.best!.metrics.accuracy);
  assert.equal(ev.n, 64);
  const log = JSON.parse(readFileSync(join(out, 'train_log.json'), 'utf8'));
  assert.equal(log.status, 'completed');
  assert.equal(log.epochs.length, 3);
  assert.ok(!existsSync(join(out, 'checkpoint')), 'the resumable checkpoint is removed once the run completes');
});

test('pair: the label depends on the second text, and the model learns to read it ([CLS] without the pooler)', async () => {
  const { r } = await run({ train: pairData(256, 64), recipe: { task: 'pair', epochs: 3, lr: 1e-2, batchSize: 8, usePooler: false } });
  assert.ok(r.best!.metrics.accuracy! >= 0.9, `dev accuracy ${r.best!.metrics.accuracy}`);
});

test('reply: in-batch negatives train the bi-encoder; 1-of-N retrieval on dev improves', async () => {
  const data = replyData(256, 64);
  const { out, r } = await run({ train: data, recipe: { task: 'reply', epochs: 4, lr: 1e-3, batchSize: 16, responses: 20 } });
  const first = r.history[0]!.dev;
  const best = r.best!.metrics;
  assert.ok(best.recall_at_5! >= 0.9, `recall@5 ${best.recall_at_5}`);
  assert.ok(best.mrr! > 0.5, `mrr ${best.mrr}`);
  assert.ok(r.history[3]!.train_loss < r.history[0]!.train_loss - 0.5, `loss ${r.history.map((h) => h.train_loss)}`);
  assert.equal(first.n, 64);
  const { model } = await loadTaskModel(out);
  assert.equal(model.task, 'reply');
  if (model.task === 'reply') assert.equal(model.responses.length, 20);
  const ev = await evaluateTaskModel(model, data, { split: 'dev' });
  assert.equal(ev.mrr, best.mrr);
});

test('resume: a run stopped mid-epoch and resumed ends exactly like an uninterrupted one (frozen prefix cached, dropout on)', async () => {
  const data = classData(160, 48);
  const recipe = { task: 'classify' as const, epochs: 3, lr: 5e-3, batchSize: 16, freezeEmbeddings: true, freezeLayers: 1, seed: 3 };
  const settings = { keepCheckpoint: true };
  const { out: a, r: full } = await run({ train: data, recipe, settings });
  assert.ok(full.cache && full.cache.hits > 0, 'the frozen prefix was served from the cache');

  const b = tempDir();
  const stopped = await finetune({ model: await ckpt, train: data, out: b, recipe, settings, stopAfterSteps: 13 });
  assert.equal(stopped.completed, false);
  assert.equal(stopped.steps, 13);
  await assert.rejects(finetune({ model: await ckpt, train: data, out: b, recipe, settings }), /unfinished run/);
  await assert.rejects(finetune({ model: await ckpt, train: data, out: b, recipe: { ...recipe, lr: 1e-3 }, settings, resume: true }), /options or data differ.*lr: 0\.005 -> 0\.001/);
  const resumed = await finetune({ model: await ckpt, train: data, out: b, recipe, settings, resume: true });
  assert.equal(resumed.completed, true);
  assert.deepEqual(resumed.resumedFrom?.step, 13);
  // After a resume, the time this call trained is within its wall time and short of the whole run's.
  assert.ok(resumed.trainSecondsThisCall <= resumed.wallSeconds && resumed.trainSecondsThisCall < resumed.trainSeconds, JSON.stringify([resumed.trainSecondsThisCall, resumed.wallSeconds, resumed.trainSeconds]));

  assert.deepEqual(resumed.history.map((h) => [h.train_loss, h.dev]), full.history.map((h) => [h.train_loss, h.dev]));
  assert.deepEqual(resumed.best, full.best);
  const [sa, sb] = await Promise.all([loadState(join(a, 'checkpoint')), loadState(join(b, 'checkpoint'))]);
  assert.equal(sa.params.size, sb.params.size);
  for (const [name, pa] of sa.params) assert.deepEqual(sb.params.get(name), pa, `parameter ${name} differs`);
  for (const [name, s] of sa.adam) {
    assert.deepEqual(sb.adam.get(name)?.m, s.m, `adam m of ${name}`);
    assert.equal(sb.adam.get(name)?.t, s.t);
  }
  assert.ok(!sa.adam.has('bert.embeddings.word_embeddings.weight'), 'frozen parameters have no optimiser state');
});

test('resume: the reply task (shared encoder, frozen prefix) resumes exactly too', async () => {
  const data = replyData(96, 32);
  const recipe = { task: 'reply' as const, epochs: 2, lr: 1e-3, batchSize: 16, freezeEmbeddings: true, freezeLayers: 2 };
  const { r: full } = await run({ train: data, recipe });
  const b = tempDir();
  await finetune({ model: await ckpt, train: data, out: b, recipe, stopAfterSteps: 7 });
  const resumed = await finetune({ model: await ckpt, train: data, out: b, recipe, resume: true });
  assert.deepEqual(resumed.history.map((h) => [h.train_loss, h.dev]), full.history.map((h) => [h.train_loss, h.dev]));
});

test('dev labels never seen in training are reported, and count as errors', async () => {
  const { dataFiles, tsv, classRows } = await import('../fixtures.js');
  const data = dataFiles({
    'train.tsv': tsv(['text', 'label'], classRows(64, 1)),
    'dev.tsv': tsv(['text', 'label'], [...classRows(8, 2), ['the red fish', 'mystery'], ['a big dog', 'mystery']]),
  });
  const warnings: string[] = [];
  const { r } = await run({ train: data, recipe: { task: 'classify', epochs: 1, lr: 1e-2, batchSize: 16 }, warn: (l) => warnings.push(l) });
  assert.ok(warnings.some((w) => /dev .*2 of 10 rows have 1 label not seen in training: 'mystery'/.test(w)), warnings.join('\n'));
  assert.equal(r.best!.metrics.unseen_label_rows, 2);
  assert.ok(r.best!.metrics.accuracy! <= 0.8);
});

test('a data set without a dev split gets a seeded held-out dev set; missing fields are errors naming file and line', async () => {
  const { dataFiles, tsv, classRows } = await import('../fixtures.js');
  const data = dataFiles({ 'train.tsv': tsv(['text', 'label'], classRows(100, 1)) });
  const notes: string[] = [];
  const { r } = await run({ train: data, recipe: { task: 'classify', epochs: 1, batchSize: 16 }, warn: (l) => notes.push(l) });
  assert.equal(r.history[0]!.dev.n, 10);
  assert.ok(notes.some((n) => /holding out a seeded 10%/.test(n)));
  const noPair = dataFiles({ 'train.tsv': tsv(['text', 'label'], classRows(20, 1)), 'dev.tsv': tsv(['text', 'label'], classRows(5, 1)) });
  await assert.rejects(run({ train: noPair, recipe: { task: 'pair', epochs: 1 } }), /train\.tsv:2 \(field 'pair'\).*needs a second text/);
});
