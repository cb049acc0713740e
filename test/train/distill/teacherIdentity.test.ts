/**
 * Item 2 of issue 16: logits record the teacher's identity (weights, architecture, tokenizer), and
 * neither `label --resume` nor `distill --teacher` mixes logits of two teachers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelIdentity, writeBundle } from '../../../src/io/bundle.js';
import { readLogitsHeader } from '../../../src/io/logitsFile.js';
import { labelCorpus } from '../../../src/train/distill/teacherLabels.js';
import { distillStudent } from '../../../src/train/distill/student.js';
import { withTempDir } from '../../io/tempDir.js';
import { TEACHER_LABELS, countingRunner, writeCorpus } from './fixtures.js';

/** A model folder standing for a teacher; `scale` changes its weights, `word` its tokenizer. */
async function teacherFolder(dir: string, scale: number, word = 'hello') {
  const vocab = join(dir, `vocab-src-${scale}-${word}.txt`);
  writeFileSync(vocab, `[PAD]\n[UNK]\n${word}\n`);
  const out = join(dir, `teacher-${scale}-${word}`);
  const m = await writeBundle(out, {
    task: 'classify', architecture: { kind: 'test' }, labels: TEACHER_LABELS,
    tensors: new Map([['w', { shape: [2], data: Float32Array.of(scale, 1) }]]), tokenizerFiles: [vocab],
  });
  return { dir: out, identity: modelIdentity(m) };
}

function runnerFor(t: { dir: string; identity: unknown }) {
  return { ...countingRunner(), info: { kind: 'synthetic', dir: t.dir, identity: t.identity } };
}

test('the logits header records the teacher identity; a resume with another teacher is refused', withTempDir(async (dir) => {
  const a = await teacherFolder(dir, 1);
  const b = await teacherFolder(dir, 2);
  const c = await teacherFolder(dir, 1, 'bye');
  assert.notEqual(a.identity.weights_sha256, b.identity.weights_sha256);
  assert.equal(a.identity.weights_sha256, c.identity.weights_sha256);
  assert.notEqual(a.identity.tokenizer_sha256, c.identity.tokenizer_sha256);
  const corpus = join(dir, 'corpus.txt');
  writeCorpus(corpus, 80);
  const out = join(dir, 'l.bin');
  let batches = 0;
  const s1 = await labelCorpus({ teacher: runnerFor(a), corpus: [corpus], out, batchSize: 8, chunkRows: 16, shouldStop: () => ++batches >= 3 });
  assert.equal(s1.finished, false);
  assert.deepEqual(readLogitsHeader(out).header.teacher.identity, a.identity);
  for (const [other, what] of [[b, 'weights'], [c, 'tokenizer']] as const) {
    await assert.rejects(
      labelCorpus({ teacher: runnerFor(other), corpus: [corpus], out, resume: true, batchSize: 8 }),
      (e: Error) => new RegExp(`labelled by another teacher .*its ${what} differ.*refusing to mix`).test(e.message),
    );
  }
  assert.equal(readLogitsHeader(out).commit.rows, s1.rows, 'the refused resume added nothing');
  const s2 = await labelCorpus({ teacher: runnerFor(a), corpus: [corpus], out, resume: true, batchSize: 8 });
  assert.equal(s2.finished, true);

  // distill --teacher: the named teacher must be the one that made the logits.
  await assert.rejects(
    distillStudent({ teacherLogits: out, teacher: b.dir, out: join(dir, 'student'), recipe: { epochs: 1, workers: 1 } }),
    /labelled by another teacher.*--teacher .*teacher-2-hello/,
  );
  const r = await distillStudent({ teacherLogits: out, teacher: a.dir, out: join(dir, 'student'), shape: { dim: 8, hidden: 0, maxVocab: 500 }, recipe: { epochs: 1, workers: 1 } });
  assert.equal(r.labels.length, TEACHER_LABELS.length);
}));
