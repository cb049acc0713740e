import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, openSync, closeSync, readFileSync, statSync, truncateSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogitsWriter, readLogitsFile, readLogitsHeader, textFingerprint } from '../../src/io/logitsFile.js';
import { withTempDir } from './tempDir.js';

const LABELS = ['neg', 'pos', 'neutral'];

function rowsOf(start: number, n: number): { fps: Uint32Array; pos: Uint32Array; logits: Float32Array } {
  const fps = new Uint32Array(n * 2);
  const pos = new Uint32Array(n);
  const logits = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const [a, b] = textFingerprint(`text ${start + i}`);
    fps[2 * i] = a;
    fps[2 * i + 1] = b;
    pos[i] = (start + i) * 2; // every other corpus text (the others: duplicates)
    logits.set([start + i, -(start + i) / 3, 0.125], i * 3);
  }
  return { fps, pos, logits };
}

function writeTwoChunks(path: string, dtype: 'f32' | 'f16' = 'f32'): void {
  const w = LogitsWriter.create(path, { labels: LABELS, teacher: { dir: 'teacher' }, corpus: ['a.txt', 'npm:nlp-corpus'], dtype });
  const c1 = rowsOf(0, 5);
  w.append(c1.fps, c1.pos, c1.logits, 10);
  const c2 = rowsOf(5, 4);
  w.append(c2.fps, c2.pos, c2.logits, 18, true);
  w.close();
}

test('a logits file round-trips header, fingerprints, positions and logits over several chunks', withTempDir(async (dir) => {
  const path = join(dir, 'l.bin');
  writeTwoChunks(path);
  const d = readLogitsFile(path);
  assert.deepEqual(d.header.labels, LABELS);
  assert.deepEqual(d.header.corpus, ['a.txt', 'npm:nlp-corpus']);
  assert.deepEqual(d.header.teacher, { dir: 'teacher' });
  assert.equal(d.commit.rows, 9);
  assert.equal(d.commit.consumed, 18);
  assert.equal(d.commit.finished, true);
  assert.equal(d.tornBytes, 0);
  const all = rowsOf(0, 9);
  assert.deepEqual(d.fingerprints, all.fps);
  assert.deepEqual(d.positions, all.pos);
  assert.deepEqual(d.logits, all.logits);
}));

test('float16 logits take half the space and come back within half-precision rounding', withTempDir(async (dir) => {
  writeTwoChunks(join(dir, 'f32.bin'), 'f32');
  writeTwoChunks(join(dir, 'f16.bin'), 'f16');
  const d = readLogitsFile(join(dir, 'f16.bin'));
  const want = rowsOf(0, 9).logits;
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(d.logits[i]! - want[i]!) <= Math.abs(want[i]!) * 1e-3 + 1e-6, `logit ${i}: ${d.logits[i]} vs ${want[i]}`);
  // 2 bytes a logit less: chunks of 5 and 4 rows x 3 logits, each padded to 8 bytes: 24 + 24.
  assert.equal(statSync(join(dir, 'f32.bin')).size - statSync(join(dir, 'f16.bin')).size, 48);
}));

test('a torn tail (an interrupted chunk write) is ignored when reading and cut off when resuming', withTempDir(async (dir) => {
  const path = join(dir, 'l.bin');
  const w = LogitsWriter.create(path, { labels: LABELS, teacher: {}, corpus: ['c.txt'] });
  const c1 = rowsOf(0, 5);
  w.append(c1.fps, c1.pos, c1.logits, 10);
  w.close();
  const committed = statSync(path).size;
  // Half a chunk, as a kill during the write leaves it (header bytes and some payload, no commit).
  appendFileSync(path, Buffer.from([0x43, 0x48, 0x4e, 0x4b, 4, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 9, 9, 9]));
  const d = readLogitsFile(path);
  assert.equal(d.commit.rows, 5);
  assert.equal(d.tornBytes, 19);
  const r = LogitsWriter.resume(path);
  assert.equal(r.droppedBytes, 19);
  assert.equal(statSync(path).size, committed);
  const c2 = rowsOf(5, 4);
  r.append(c2.fps, c2.pos, c2.logits, 18, true);
  r.close();
  const after = readLogitsFile(path);
  assert.equal(after.commit.rows, 9);
  assert.deepEqual(after.logits, rowsOf(0, 9).logits);
}));

test('a torn commit record falls back to the previous commit', withTempDir(async (dir) => {
  const path = join(dir, 'l.bin');
  writeTwoChunks(path);
  const last = readLogitsHeader(path).commit;
  assert.equal(last.generation, 3);
  // Generation 3 lives in slot 1 (bytes 64..112): scribble over it.
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.from([0xff, 0xee, 0xdd]), 0, 3, 64 + 10);
  closeSync(fd);
  const d = readLogitsFile(path);
  assert.equal(d.commit.generation, 2);
  assert.equal(d.commit.rows, 5);
  assert.equal(d.commit.finished, false);
  assert.ok(d.tornBytes > 0, 'the second chunk is now past the committed end');
}));

test('a truncated file, a damaged chunk and a non-logits file are clear errors', withTempDir(async (dir) => {
  const path = join(dir, 'l.bin');
  writeTwoChunks(path);
  const size = statSync(path).size;

  const cut = join(dir, 'cut.bin');
  writeFileSync(cut, readFileSync(path));
  truncateSync(cut, size - 7);
  assert.throws(() => readLogitsFile(cut), /cut\.bin: truncated: .* committed rows end at byte/);
  assert.throws(() => LogitsWriter.resume(cut), /truncated/);
  truncateSync(cut, 50);
  assert.throws(() => readLogitsFile(cut), /truncated/);

  const bad = join(dir, 'bad.bin');
  const bytes = readFileSync(path);
  bytes[size - 9] = bytes[size - 9]! ^ 0xff;
  writeFileSync(bad, bytes);
  assert.throws(() => readLogitsFile(bad), /chunk 1.*CRC mismatch/);

  const other = join(dir, 'other.bin');
  writeFileSync(other, 'hello world, not logits at all');
  assert.throws(() => readLogitsFile(other), /not a slimtext logits file/);
  writeFileSync(other, '');
  assert.throws(() => readLogitsFile(other), /empty file/);
  assert.throws(() => readLogitsFile(join(dir, 'missing.bin')), /no such logits file/);
}));

test('append checks chunk shapes', withTempDir(async (dir) => {
  const w = LogitsWriter.create(join(dir, 'l.bin'), { labels: LABELS, teacher: {}, corpus: ['c'] });
  assert.throws(() => w.append(new Uint32Array(2), new Uint32Array(1), new Float32Array(2), 1), /needs 2 fingerprint words and 3 logits/);
  w.close();
}));
