/**
 * Pruning by gradient signal (compress --prune-by gradient, issue 10): each n-gram row's score is
 * |g . w| summed over the training rows' mini-batches. Checked against central finite differences
 * of the task loss along the row (one batch: the score is exactly |dL/dt| of L(w_i (1 + t)) at 0),
 * the task's words rank first, and the CLI prunes by it, records it, and refuses it without --train.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crossEntropy, noGrad } from '../../../src/engine/index.js';
import type { Example } from '../../../src/data/index.js';
import { loadDan, type Dan } from '../../../src/models/dan.js';
import { gradientImportance } from '../../../src/train/compress/importance.js';
import { runCli } from '../../cli/inProcess.js';
import { withTempDir } from '../../io/tempDir.js';
import { colourRows as rows } from '../fixtures.js';

function parse(tsv: string): Example[] {
  return tsv.trim().split('\n').map((l) => {
    const [text, label] = l.split('\t');
    return { text: text!, label: label! };
  });
}

function loss(dan: Dan, ex: readonly Example[]): number {
  const bags = dan.featurize(ex.map((e) => e.text));
  const gold = Int32Array.from(ex, (e) => dan.labels.indexOf(e.label!));
  return noGrad(() => crossEntropy(dan.model.forward(bags), gold).data[0]!);
}

test('prune by gradient: |g . w| per row agrees with finite differences, ranks the task words first; the CLI prunes by it and needs --train', withTempDir(async (dir) => {
  const train = join(dir, 'train.tsv'), dev = join(dir, 'dev.tsv');
  await writeFile(train, rows(1500, 1));
  await writeFile(dev, rows(300, 2));
  const out = join(dir, 'dan');
  const d = await runCli(['distill', '--train', train, '--dev', dev, '--out', out, '--dim', '32', '--hidden', '16', '--max-n', '2', '--buckets', '0', '--epochs', '3', '--workers', '1', '--quiet', '--json']);
  assert.equal(d.code, 0, d.err);
  const dan = await loadDan(out);
  dan.model.eval();
  const ex = parse(await readFile(train, 'utf8'));
  const score = gradientImportance(dan, ex, ex.length);
  assert.equal(score.length, dan.model.embeddings.rows);
  const w = dan.model.embeddings.trainable()[0]!.data;
  const dim = dan.model.embeddings.dim;
  for (const word of ['red', 'green', 'blue', 'w7', 'w150']) {
    const id = dan.vocab.id(word);
    assert.ok(id >= 0, `${word} is in the vocabulary`);
    const row = w.slice(id * dim, id * dim + dim);
    const at = (t: number) => {
      for (let j = 0; j < dim; j++) w[id * dim + j] = row[j]! * (1 + t);
      return loss(dan, ex);
    };
    const eps = 1e-2;
    const fd = Math.abs((at(eps) - at(-eps)) / (2 * eps));
    w.set(row, id * dim);
    assert.ok(Math.abs(score[id]! - fd) <= 0.05 * fd + 2e-5, `${word}: score ${score[id]} vs finite difference ${fd}`);
  }
  // The colour words decide the label: they are the three most important rows.
  const top = Array.from(score.keys()).sort((a, b) => score[b]! - score[a]!).slice(0, 3).map((i) => dan.vocab.ngrams[i]).sort();
  assert.deepEqual(top, ['blue', 'green', 'red']);
  // Mini-batches add up per batch: the score over batches of 50 is a sum of per-batch magnitudes, at least the one-batch score.
  const batched = gradientImportance(dan, ex, 50);
  for (const word of ['red', 'green', 'blue']) assert.ok(batched[dan.vocab.id(word)]! >= score[dan.vocab.id(word)]! * 0.999);

  const pruned = join(dir, 'pruned');
  const r = await runCli(['compress', '--model', out, '--method', 'prune', '--prune-by', 'gradient', '--prune-keep', '10', '--train', train, '--dev', dev, '--mode', 'posthoc', '--out', pruned, '--json']);
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out);
  assert.ok(rep.after.dev_accuracy > 0.9, `10 n-grams chosen by gradient keep the task: dev accuracy ${rep.after.dev_accuracy}`);
  const info = JSON.parse((await runCli(['inspect', '--model', pruned, '--json'])).out);
  assert.equal(info.compression.prune.by, 'gradient');
  assert.equal(info.compression.prune.kept, 10);
  const p = await loadDan(pruned);
  for (const word of ['red', 'green', 'blue']) assert.ok(p.vocab.id(word) >= 0, `${word} kept`);
  const noTrain = await runCli(['compress', '--model', out, '--method', 'prune', '--prune-by', 'gradient', '--out', join(dir, 'x')]);
  assert.notEqual(noTrain.code, 0);
  assert.match(noTrain.err, /--prune-by.*gradient.*--train/);
  const bad = await runCli(['compress', '--model', out, '--method', 'prune', '--prune-by', 'loss', '--out', join(dir, 'y')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--prune-by must be norm, frequency or gradient, got loss/);
}));
