import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { transferTexts } from '../../src/train/distill/corpus.js';
import { withTempDir } from '../io/tempDir.js';

const all = async (specs: string[]) => {
  const out: string[] = [];
  for await (const t of transferTexts(specs)) out.push(t);
  return out;
};

test('a .gz corpus streams gunzipped, the same texts as the plain file', withTempDir(async (dir) => {
  const lines = Array.from({ length: 5000 }, (_, i) => `Paragraph ${i}. It has two sentences!`);
  writeFileSync(join(dir, 'c.txt'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'c.txt.gz'), gzipSync(lines.join('\n') + '\n'));
  assert.deepEqual(await all([join(dir, 'c.txt.gz')]), lines);
  writeFileSync(join(dir, 'bad.txt.gz'), Buffer.concat([gzipSync(lines.join('\n')).subarray(0, 200)]));
  await assert.rejects(all([join(dir, 'bad.txt.gz')]), /bad\.txt\.gz.*(gzip|cut short)/);
}));

test('sentences:, words:, sample: and head: reshape a corpus, and nest', withTempDir(async (dir) => {
  const p = join(dir, 'c.txt');
  writeFileSync(p, ['Mr. Smith went to Washington. He stayed two days! Did he like it?', 'One.', 'A longer text of seven words here.'].join('\n') + '\n');
  assert.deepEqual(await all([`sentences:${p}`]), ['Mr. Smith went to Washington.', 'He stayed two days!', 'Did he like it?', 'One.', 'A longer text of seven words here.']);
  assert.deepEqual(await all([`words:4-:sentences:${p}`]), ['Mr. Smith went to Washington.', 'He stayed two days!', 'Did he like it?', 'A longer text of seven words here.']);
  assert.deepEqual(await all([`words:1-4:${p}`]), ['One.']);
  assert.deepEqual(await all([`head:2:sentences:${p}`]), ['Mr. Smith went to Washington.', 'He stayed two days!']);
  // Sampling is a function of the text and the seed: the same on every pass, different per seed.
  const many = join(dir, 'many.txt');
  writeFileSync(many, Array.from({ length: 4000 }, (_, i) => `text number ${i}`).join('\n') + '\n');
  const a = await all([`sample:0.25@1:${many}`]);
  assert.deepEqual(await all([`sample:0.25@1:${many}`]), a);
  assert.ok(a.length > 850 && a.length < 1150, `kept ${a.length} of 4000 at rate 0.25`);
  assert.notDeepEqual(await all([`sample:0.25@2:${many}`]), a);
  await assert.rejects(all([`sample:2:${many}`]), /RATE in \(0, 1\]/);
  await assert.rejects(all([`words:9-3:${p}`]), /MIN <= MAX/);
  await assert.rejects(all([`head:x:${p}`]), /head:N:SPEC/);
}));
