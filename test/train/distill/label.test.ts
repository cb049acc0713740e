import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLogitsFile, readLogitsHeader } from '../../../src/io/logitsFile.js';
import { labelCorpus } from '../../../src/train/distill/teacherLabels.js';
import { readTransferSet } from '../../../src/train/distill/data.js';
import { withTempDir } from '../../io/tempDir.js';
import { countingRunner, syntheticTeacher, teacherLogits, writeCorpus } from './fixtures.js';

test('labelling stores one row per distinct text, in corpus order, with the teacher logits', withTempDir(async (dir) => {
  const corpus = join(dir, 'corpus.txt');
  const lines = writeCorpus(corpus, 50);
  const out = join(dir, 'l.bin');
  const runner = countingRunner();
  const stats = await labelCorpus({ teacher: runner, corpus: [corpus], out, batchSize: 8, chunkRows: 16 });
  const distinct = [...new Set(lines)];
  assert.equal(stats.rows, distinct.length);
  assert.equal(stats.duplicates, lines.length - distinct.length);
  assert.ok(stats.duplicates >= 10);
  assert.equal(stats.finished, true);
  assert.equal(runner.texts, distinct.length, 'no text is labelled twice');
  const set = await readTransferSet(out);
  assert.deepEqual(set.texts, distinct);
  assert.deepEqual(set.logits, teacherLogits(distinct));
  assert.deepEqual(set.notes, []);
  const d = readLogitsFile(out);
  assert.equal(d.positions[0], 0);
  assert.equal(d.positions[d.positions.length - 1], lines.lastIndexOf(distinct.at(-1)!));
}));

test('an interrupted run resumes where it stopped: nothing relabelled, nothing lost', withTempDir(async (dir) => {
  const corpus = join(dir, 'corpus.txt');
  writeCorpus(corpus, 80);
  const whole = join(dir, 'whole.bin');
  await labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out: whole, batchSize: 8, chunkRows: 16 });

  const out = join(dir, 'l.bin');
  let batches = 0;
  const first = countingRunner();
  const s1 = await labelCorpus({ teacher: first, corpus: [corpus], out, batchSize: 8, chunkRows: 16, shouldStop: () => ++batches >= 5 });
  assert.equal(s1.finished, false);
  assert.equal(readLogitsHeader(out).commit.finished, false);
  const second = countingRunner();
  const s2 = await labelCorpus({ teacher: second, corpus: [corpus], out, resume: true, batchSize: 8, chunkRows: 16 });
  assert.equal(s2.finished, true);
  assert.equal(s2.resumedRows, s1.rows);
  assert.equal(first.texts + second.texts, s2.rows, 'every distinct text labelled exactly once over both runs');
  const a = readLogitsFile(whole);
  const b = readLogitsFile(out);
  assert.deepEqual(b.positions, a.positions);
  assert.deepEqual(b.fingerprints, a.fingerprints);
  assert.deepEqual(b.logits, a.logits);

  // A finished file resumes to a no-op.
  const third = countingRunner();
  const s3 = await labelCorpus({ teacher: third, corpus: [corpus], out, resume: true });
  assert.equal(third.calls, 0);
  assert.equal(s3.rows, s2.rows);
}));

test('a labelling process killed mid-write resumes to the same file as an uninterrupted run', withTempDir(async (dir) => {
  const corpus = join(dir, 'corpus.txt');
  writeCorpus(corpus, 200);
  const out = join(dir, 'killed.bin');
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, self.replace(/label\.test\.(ts|js)$/, 'labelChild.$1'), '--distill-label-child', corpus, out], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (existsSync(out)) {
      try {
        if (readLogitsHeader(out).commit.rows >= 16) break;
      } catch {
        /* the header is being created */
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  await exited;
  const before = readLogitsHeader(out).commit;
  assert.ok(before.rows >= 16 && !before.finished, `killed after ${before.rows} committed rows`);
  // Whatever the kill left past the commit, plus a torn chunk header for good measure.
  appendFileSync(out, Buffer.from('CHNK\x08\x00\x00\x00garbage'));

  const runner = countingRunner();
  const s = await labelCorpus({ teacher: runner, corpus: [corpus], out, resume: true, batchSize: 4, chunkRows: 8 });
  assert.ok(s.droppedBytes >= 15);
  assert.equal(s.finished, true);
  const whole = join(dir, 'whole.bin');
  await labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out: whole });
  const a = readLogitsFile(whole);
  const b = readLogitsFile(out);
  assert.equal(b.tornBytes, 0);
  assert.deepEqual(b.positions, a.positions);
  assert.deepEqual(b.fingerprints, a.fingerprints);
  assert.deepEqual(b.logits, a.logits);
  assert.equal(runner.texts, a.commit.rows - before.rows, 'the resumed run labelled only the rows the killed one had not committed');
}));

test('a logits file read against another corpus, a changed corpus on resume and an empty corpus are clear errors', withTempDir(async (dir) => {
  const corpus = join(dir, 'corpus.txt');
  writeCorpus(corpus, 40);
  const out = join(dir, 'l.bin');
  await labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out, batchSize: 8, chunkRows: 8 });

  const other = join(dir, 'other.txt');
  writeCorpus(other, 40, 99);
  await assert.rejects(readTransferSet(out, [other]), /row 0 was labelled for corpus text #0, but that text in .*other\.txt is different: this logits file does not belong to this corpus/);
  const short = join(dir, 'short.txt');
  writeFileSync(short, writeCorpus(join(dir, 'tmp.txt'), 40).slice(0, 10).join('\n'));
  await assert.rejects(readTransferSet(out, [short]), /holds only 10 texts/);

  // Resume over a changed corpus.
  const part = join(dir, 'part.bin');
  let n = 0;
  await labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out: part, batchSize: 4, chunkRows: 4, shouldStop: () => ++n >= 3 });
  writeCorpus(corpus, 40, 5);
  await assert.rejects(labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out: part, resume: true }), /corpus text #0 differs from the one labelled/);
  await assert.rejects(labelCorpus({ teacher: syntheticTeacher, corpus: [other], out: part, resume: true }), /resuming needs the same corpus/);
  await assert.rejects(labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out: part }), /already exists; pass --overwrite to replace it, or --resume/);

  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '\n  \n');
  await assert.rejects(labelCorpus({ teacher: syntheticTeacher, corpus: [empty], out: join(dir, 'e.bin') }), /empty\.txt: the transfer corpus holds no text/);
  assert.equal(existsSync(join(dir, 'e.bin')), false);
}));
