/**
 * `slimtext finetune` and `slimtext eval` through the CLI dispatcher, in-process (src or dist
 * alike): a run on a tiny checkpoint, the eval JSON, and the errors users meet (bad options, broken
 * checkpoints, nothing to resume).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './inProcess.js';
import { classData, replyData, tempDir, tinyCheckpoint, VOCAB } from '../train/fixtures.js';


const ckpt = tinyCheckpoint();
const data = classData(128, 32);

test('finetune --json trains, saves the best model and log; eval --json prints the documented keys', async () => {
  const out = join(tempDir(), 'model');
  const r = await runCli(['finetune', '--model', await ckpt, '--train', data, '--task', 'classify', '--out', out, '--epochs', '2', '--lr', '1e-2',
    '--batch-size', '16', '--freeze-embeddings', '--freeze-layers', '1', '--drop-layers', 'top:1', '--json']);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.completed, true);
  assert.equal(s.steps, 16);
  assert.equal(s.epoch_seconds.length, 2);
  assert.deepEqual(s.layers, { kept: [0, 1], dropped: [2] });
  assert.ok(s.parameters.trainable < s.parameters.total);
  assert.ok(s.cache.hits > 0);
  assert.match(r.err, /epoch 2\/2: loss [\d.]+, dev accuracy/);
  assert.match(r.err, /frozen-prefix cache: \d+ examples stored .* s of forward computation saved/);
  const log = JSON.parse(readFileSync(join(out, 'train_log.json'), 'utf8'));
  assert.equal(log.epochs.length, 2);
  assert.ok(log.cache.savedSeconds >= 0);

  const e = await runCli(['eval', '--model', out, '--data', data, '--split', 'dev', '--json', '--threads', '1']);
  assert.equal(e.code, 0, e.err);
  const m = JSON.parse(e.out);
  for (const k of ['accuracy', 'macro_f1', 'n', 'throughput_per_s']) assert.equal(typeof m[k], 'number', k);
  assert.equal(m.n, 32);
  assert.equal(m.accuracy, s.dev.accuracy);
  const text = await runCli(['eval', '--model', out, '--data', data, '--split', 'dev']);
  assert.match(text.out, /accuracy\s+\d\.\d{4}/);
});

test('eval of a reply model prints recall_at_1, recall_at_5 and mrr', async () => {
  const rdata = replyData(64, 24);
  const out = join(tempDir(), 'reply');
  const r = await runCli(['finetune', '--model', await ckpt, '--train', rdata, '--task', 'reply', '--out', out, '--epochs', '1', '--batch-size', '8', '--responses', '5', '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  const e = await runCli(['eval', '--model', out, '--data', rdata, '--split', 'dev', '--json']);
  assert.equal(e.code, 0, e.err);
  const m = JSON.parse(e.out);
  for (const k of ['recall_at_1', 'recall_at_5', 'mrr', 'n', 'throughput_per_s']) assert.equal(typeof m[k], 'number', k);
  assert.equal(m.n, 24);
});

test('usage errors (missing options, bad values) exit 2; broken inputs and refused resumes exit 1 with a clear message', async () => {
  const out = join(tempDir(), 'x');
  assert.equal((await runCli(['finetune', '--train', data, '--out', out])).code, 2);
  assert.match((await runCli(['finetune', '--train', data, '--out', out])).err, /--model is required/);
  assert.equal((await runCli(['finetune', '--model', await ckpt, '--train', data, '--out', out, '--epochs', 'two'])).code, 2);
  const drop = await runCli(['finetune', '--model', await ckpt, '--train', data, '--out', out, '--drop-layers', 'middle']);
  assert.equal(drop.code, 2);
  assert.match(drop.err, /--drop-layers 'middle': not a layer spec/);
  const task = await runCli(['finetune', '--model', await ckpt, '--train', data, '--out', out, '--task', 'summarise']);
  assert.equal(task.code, 2);
  assert.match(task.err, /--task: 'summarise' is not one of classify, pair, reply/);
  const freeze = await runCli(['finetune', '--model', await ckpt, '--train', data, '--out', out, '--freeze-layers', '9']);
  assert.equal(freeze.code, 2);
  assert.match(freeze.err, /--freeze-layers 9: the encoder has 3 layers/);
  const resume = await runCli(['finetune', '--model', await ckpt, '--train', data, '--out', join(tempDir(), 'none'), '--resume']);
  assert.equal(resume.code, 1);
  assert.match(resume.err, /--resume: no checkpoint/);
  const notBundle = await runCli(['eval', '--model', await ckpt, '--data', data]);
  assert.equal(notBundle.code, 1);
  assert.match(notBundle.err, /a Hugging Face checkpoint, not a slimtext model/);
});

test('a checkpoint whose vocabulary or tensor shapes do not match is reported, not a crash', async () => {
  const vocabBad = await tinyCheckpoint();
  // Longer than the embedding table: the wrong vocab.txt (a shorter one is a padded table: a note).
  writeFileSync(join(vocabBad, 'vocab.txt'), [...VOCAB, 'extra1', 'extra2'].join('\n') + '\n');
  const v = await runCli(['finetune', '--model', vocabBad, '--train', data, '--out', join(tempDir(), 'v')]);
  assert.equal(v.code, 1);
  assert.match(v.err, /vocab\.txt: the vocabulary has \d+ entries but .*word_embeddings\.weight has \d+ rows/);
  const shapeBad = await tinyCheckpoint();
  const cfgPath = join(shapeBad, 'config.json');
  writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), intermediate_size: 48 }));
  const s = await runCli(['finetune', '--model', shapeBad, '--train', data, '--out', join(tempDir(), 's')]);
  assert.equal(s.code, 1);
  assert.match(s.err, /model\.safetensors \(field '.*intermediate\.dense\.weight'\): shape \[32, 16\] but config\.json implies \[48, 16\]/);
  assert.ok(!existsSync(join(tempDir(), 's')));
});
