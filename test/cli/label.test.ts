import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLogitsFile } from '../../src/io/logitsFile.js';
import { Dan, DanModel } from '../../src/models/dan.js';
import { vocabFromTexts } from '../../src/train/distill/vocab.js';
import { slimtext } from './distillRun.js';
import { TEACHER_LABELS, writeCorpus } from '../train/distill/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'slimtext-label-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A DAN bundle serves as the teacher here (any single-text classifier bundle can). */
async function danTeacher(): Promise<string> {
  const corpus = join(dir, 'corpus.txt');
  const lines = writeCorpus(corpus, 120);
  const vocab = await vocabFromTexts(lines, { maxVocab: 1000, maxN: 1, workers: 0 });
  const dan = new Dan(new DanModel({ rows: vocab.size, dim: 8, hidden: 0, numLabels: 3, dropIds: 0 }, { seed: 2 }), vocab, { buckets: 0, maxN: 1 }, TEACHER_LABELS);
  const out = join(dir, 'teacher');
  await dan.save(out);
  return out;
}

const teacher = danTeacher();

test('label: writes a logits file, --json summary; refuses to overwrite; --resume of a finished file is a no-op', async () => {
  const t = await teacher;
  const out = join(dir, 'l.bin');
  const r = slimtext(['label', '--teacher', t, '--corpus', join(dir, 'corpus.txt'), '--out', out, '--json', '--workers', '1']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { rows: number; duplicates: number; finished: boolean };
  assert.equal(s.finished, true);
  assert.equal(s.rows + s.duplicates, 144);
  assert.equal(readLogitsFile(out).commit.rows, s.rows);
  const again = slimtext(['label', '--teacher', t, '--corpus', join(dir, 'corpus.txt'), '--out', out]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /l\.bin: already exists; pass --overwrite to replace it, or --resume/);
  const resumed = slimtext(['label', '--teacher', t, '--corpus', join(dir, 'corpus.txt'), '--out', out, '--resume', '--json']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal((JSON.parse(resumed.stdout) as { labelled: number }).labelled, 0);
});

test('label: a pool of worker threads gives the same logits as one thread', async () => {
  const t = await teacher;
  const one = join(dir, 'one.bin');
  const two = join(dir, 'two.bin');
  assert.equal(slimtext(['label', '--teacher', t, join(dir, 'corpus.txt'), '--out', one, '--workers', '1', '--batch-size', '8']).status, 0);
  const r = slimtext(['label', '--teacher', t, join(dir, 'corpus.txt'), '--out', two, '--workers', '2', '--batch-size', '8', '--dtype', 'f16']);
  assert.equal(r.status, 0, r.stderr);
  const a = readLogitsFile(one);
  const b = readLogitsFile(two);
  assert.deepEqual(b.positions, a.positions);
  for (let i = 0; i < a.logits.length; i++) assert.ok(Math.abs(a.logits[i]! - b.logits[i]!) < 2e-3 * (1 + Math.abs(a.logits[i]!)));
});

test('label: an empty corpus and a missing teacher fail with a clear message', async () => {
  const t = await teacher;
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '\n');
  const r = slimtext(['label', '--teacher', t, '--corpus', empty, '--out', join(dir, 'e.bin')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /empty\.txt: the transfer corpus holds no text/);
  const m = slimtext(['label', '--teacher', join(dir, 'nope'), '--corpus', empty, '--out', join(dir, 'e.bin')]);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /nope: no such folder/);
  const u = slimtext(['label', '--teacher', t, '--out', join(dir, 'e.bin')]);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /--corpus is required/);
});
