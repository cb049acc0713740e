/** `slimtext data stats`, run in-process through the CLI dispatcher (src or dist alike). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../cli/inProcess.js';
import { sharedPath } from '../helpers.js';
import { tmpFiles } from './fixtures.js';


test('data stats --json: the documented shape, per split', async () => {
  const dir = tmpFiles({ 'd/train.tsv': 'sentence\tlabel\na b\t0\nc d e f\t1\n', 'd/test.tsv': 'sentence\tlabel\nx\t1\n' });
  const r = await runCli(['data', 'stats', join(dir, 'd'), '--json']);
  assert.equal(r.code, 0, r.err);
  const json = JSON.parse(r.out);
  assert.deepEqual(Object.keys(json), ['splits']);
  assert.deepEqual(Object.keys(json.splits), ['train', 'test']);
  assert.equal(json.splits.train.rows, 2);
  assert.equal(json.splits.train.labels, 2);
  assert.equal(json.splits.train.mean_words, 3);
  assert.equal(json.splits.train.median_words, 3);
  assert.equal(json.splits.train.max_words, 4);
  const one = JSON.parse((await runCli(['data', 'stats', join(dir, 'd'), '--json', '--split', 'test'])).out);
  assert.deepEqual(Object.keys(one.splits), ['test']);
});

test('data stats: bad rows stop with exit 1 naming file:line (field); --skip-bad reports the count', async () => {
  const dir = tmpFiles({ 'train.csv': 'text,label\nfine,a\nragged\nok,b\n' });
  const file = join(dir, 'train.csv');
  const bad = await runCli(['data', 'stats', file]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, new RegExp(`train\\.csv:3 \\(field 'label'\\): row has 1 field, expected 2`));
  const skipped = await runCli(['data', 'stats', file, '--skip-bad', '--json']);
  assert.equal(skipped.code, 0);
  assert.equal(JSON.parse(skipped.out).splits.train.skipped, 1);
  assert.match(skipped.err, /skipped 1 bad row in train; first: .*train\.csv:3/);
});

test('data stats: unseen labels warned on stderr; usage errors exit 2; text table', async () => {
  const dir = tmpFiles({ 'train.txt': 'i am happy;joy\n', 'test.txt': 'i am sad;sadness\n' });
  const r = await runCli(['data', 'stats', dir]);
  assert.equal(r.code, 0);
  assert.match(r.err, /warning: test: 1 of 1 rows have 1 label not seen in training: 'sadness'/);
  assert.match(r.out, /^split\s+rows\s+labels\s+mean_words\s+median_words\s+max_words\s+skipped$/m);
  assert.match(r.out, /^train\s+1\s+1\s+3\.00\s+3\s+3\s+0$/m);
  assert.equal((await runCli(['data', 'stats'])).code, 2);
  assert.equal((await runCli(['data', 'stats', dir, '--header', 'maybe'])).code, 2);
  const unknown = await runCli(['data', 'stats', dir, '--format', 'xml']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /unknown format 'xml'/);
});

test('data stats on the real CLINC150 file matches its README', { skip: sharedPath('data/clinc150/data_full.json').skip }, async () => {
  const r = await runCli(['data', 'stats', sharedPath('data/clinc150/data_full.json').path!, '--json']);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out).splits;
  assert.deepEqual([s.train.rows, s.val.rows, s.test.rows, s.oos_train.rows, s.oos_val.rows, s.oos_test.rows], [15000, 3000, 4500, 100, 100, 1000]);
  assert.equal(s.train.labels, 150);
});
