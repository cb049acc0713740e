import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDataset } from '../../src/data/open.js';
import { datasetStats, trainSplitsFor, wordCount } from '../../src/data/stats.js';
import { tmpFiles } from './fixtures.js';

test('wordCount: whitespace-separated tokens, any whitespace', () => {
  assert.equal(wordCount(''), 0);
  assert.equal(wordCount('   '), 0);
  assert.equal(wordCount('one'), 1);
  assert.equal(wordCount(' two  words\t'), 2);
  assert.equal(wordCount('a\nb\r\nc\u00A0d\u3000e'), 5);
});

test('stats: rows, labels, mean/median/max words, unseen dev labels', async () => {
  const dir = tmpFiles({
    'd/train.tsv': 'sentence\tlabel\none\ta\none two\ta\none two three\tb\none two three four\tb\n',
    'd/test.tsv': 'sentence\tlabel\nx y\ta\nx y z\tc\nx\tc\n',
  });
  const r = await datasetStats(await openDataset(join(dir, 'd')));
  assert.deepEqual(r.stats.splits.train, { rows: 4, labels: 2, mean_words: 2.5, median_words: 2.5, max_words: 4, min_words: 1, label_rows_min: 2, label_rows_max: 2, skipped: 0 });
  assert.deepEqual(r.stats.splits.test, { rows: 3, labels: 2, mean_words: 2, median_words: 2, max_words: 3, min_words: 1, label_rows_min: 1, label_rows_max: 2, skipped: 0, unseen_label_rows: 2, unseen_labels: 1 });
  assert.deepEqual(r.unseen, [{ split: 'test', rows: 3, unseenRows: 2, unseen: [{ label: 'c', rows: 2, firstLine: 3 }] }]);
  // One split asked for: the training labels are still read to check it.
  const only = await datasetStats(await openDataset(join(dir, 'd')), { split: 'test' });
  assert.deepEqual(Object.keys(only.stats.splits), ['test']);
  assert.equal(only.stats.splits.test!.unseen_labels, 1);
});

test('stats: skipped rows are counted and their first errors kept', async () => {
  const dir = tmpFiles({ 'train.csv': 'text,label\nfine,a\nragged\n,b\nok,c\n' });
  const ds = await openDataset(join(dir, 'train.csv'));
  await assert.rejects(datasetStats(ds), /train\.csv:3 \(field 'label'\): row has 1 field/);
  const r = await datasetStats(ds, { skipBad: true });
  assert.equal(r.stats.splits.train!.rows, 2);
  assert.equal(r.stats.splits.train!.skipped, 2);
  assert.equal(r.skippedExamples.train!.length, 2);
  assert.match(r.skippedExamples.train![1]!, /:4 \(field 'text'\): empty text/);
});

test('trainSplitsFor: train beside the split, plus oos_train; none when there is no train', () => {
  assert.deepEqual(trainSplitsFor(['train', 'oos_train', 'val', 'test', 'oos_test'], 'oos_test'), ['train', 'oos_train']);
  assert.deepEqual(trainSplitsFor(['train', 'test', 'splits/train', 'splits/valid'], 'splits/valid'), ['splits/train']);
  assert.deepEqual(trainSplitsFor(['dev', 'test'], 'test'), []);
});
