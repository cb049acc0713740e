/**
 * Every labelled set in ../shared/data: the row and label counts of its README, read through
 * openDataset + datasetStats exactly as `slimtext data stats` does. Skips (saying why) without ../shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDataset, type OpenOptions } from '../../src/data/open.js';
import { datasetStats } from '../../src/data/stats.js';
import { sharedPath } from '../helpers.js';

async function counts(rel: string, opts: OpenOptions = {}) {
  const ds = await openDataset(sharedPath(rel).path!, opts);
  const { stats } = await datasetStats(ds);
  return { ds, rows: Object.fromEntries(Object.entries(stats.splits).map(([k, s]) => [k, s.rows])), labels: Object.fromEntries(Object.entries(stats.splits).map(([k, s]) => [k, s.labels])), stats };
}

const skip = (rel: string) => ({ skip: sharedPath(rel).skip });

test('clinc150: data_full 15000/3000/4500 (+100/100/1000 oos), 150 intents + oos; the folder reads data_full', skip('data/clinc150/data_full.json'), async () => {
  const file = await counts('data/clinc150/data_full.json');
  assert.deepEqual(file.rows, { train: 15000, oos_train: 100, val: 3000, oos_val: 100, test: 4500, oos_test: 1000 });
  assert.deepEqual(file.labels, { train: 150, oos_train: 1, val: 150, oos_val: 1, test: 150, oos_test: 1 });
  // Out-of-scope splits are checked against train + oos_train, so 'oos' is not an unseen label.
  assert.equal(file.stats.splits.oos_test!.unseen_labels, 0);
  const folder = await counts('data/clinc150');
  assert.deepEqual(folder.rows, file.rows);
  const merged = await counts('data/clinc150/data_full.json', { oos: 'merge' });
  assert.deepEqual(merged.rows, { train: 15100, val: 3100, test: 5500 });
  assert.deepEqual(merged.labels, { train: 151, val: 151, test: 151 });
});

test('banking77: train.csv 10003, test.csv 3080; splits 8622/1540/3080; 77 labels', skip('data/banking77'), async () => {
  const c = await counts('data/banking77');
  assert.deepEqual(c.rows, { train: 10003, test: 3080, 'splits/train': 8622, 'splits/valid': 1540, 'splits/test': 3080 });
  assert.ok(Object.values(c.labels).every((n) => n === 77), JSON.stringify(c.labels));
});

test('snips: 13084/700/700, 7 labels', skip('data/snips'), async () => {
  const c = await counts('data/snips');
  assert.deepEqual(c.rows, { train: 13084, valid: 700, test: 700 });
  assert.deepEqual(c.labels, { train: 7, valid: 7, test: 7 });
});

test('atis: 4478/500/893, labels 21/16/20 (joined a#b labels count as one), unseen test labels reported', skip('data/atis'), async () => {
  const c = await counts('data/atis');
  assert.deepEqual(c.rows, { train: 4478, valid: 500, test: 893 });
  assert.deepEqual(c.labels, { train: 21, valid: 16, test: 20 });
  assert.equal(c.stats.splits.test!.unseen_labels, 4);
  assert.equal(c.stats.splits.test!.unseen_label_rows, 5);
});

test('sst2: train.tsv + dev.tsv = 60614 + 6735 = 67349; test.tsv (GLUE dev) 872; 2 labels', skip('data/sst2'), async () => {
  const c = await counts('data/sst2');
  assert.deepEqual(c.rows, { train: 60614, dev: 6735, test: 872 });
  assert.equal(c.rows.train! + c.rows.dev!, 67349);
  assert.deepEqual(c.labels, { train: 2, dev: 2, test: 2 });
});

test('trec: 5452/500, 6 labels (the Latin-1 byte in train is read, not an error)', skip('data/trec'), async () => {
  const c = await counts('data/trec');
  assert.deepEqual(c.rows, { train: 5452, test: 500 });
  assert.deepEqual(c.labels, { train: 6, test: 6 });
});

test('agnews: test 7600, train sample 10001, the same 4 class names in both', skip('data/agnews'), async () => {
  const c = await counts('data/agnews');
  assert.deepEqual(c.rows, { train: 10001, test: 7600 });
  assert.deepEqual(c.labels, { train: 4, test: 4 });
  assert.equal(c.stats.splits.test!.unseen_labels, 0);
});

test('emotion: 16000/2000/2000, 6 labels', skip('data/emotion'), async () => {
  const c = await counts('data/emotion');
  assert.deepEqual(c.rows, { train: 16000, val: 2000, test: 2000 });
  assert.deepEqual(c.labels, { train: 6, val: 6, test: 6 });
});

test('dailydialog: pairs 76052/7069/6740 (89,861 in all) from 13,118 dialogues; 4 acts, 7 emotions', skip('data/dailydialog/data.zip'), async () => {
  const pairs = await counts('data/dailydialog');
  assert.deepEqual(pairs.rows, { train: 76052, validation: 7069, test: 6740 });
  assert.equal(Object.values(pairs.rows).reduce((a, b) => a + b, 0), 89861);
  // The zip is parsed once per Dataset, so the per-turn annotations are checked on the same one.
  const dialogues = new Set<string>();
  const acts = new Set<string>();
  const emotions = new Set<string>();
  for (const split of pairs.ds.splits) {
    for await (const ex of pairs.ds.read(split)) {
      dialogues.add(ex.meta!.dialogue_id!);
      for (const a of [ex.meta!.act!, ex.meta!.reply_act!]) acts.add(a);
      for (const e of [ex.meta!.emotion!, ex.meta!.reply_emotion!]) emotions.add(e);
    }
  }
  assert.equal(dialogues.size, 13118);
  assert.deepEqual([...acts].sort(), ['commissive', 'directive', 'inform', 'question']);
  assert.equal(emotions.size, 7);
});
