import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { splitDev, loadTrainDev } from '../../src/data/split.js';
import { openDataset } from '../../src/data/open.js';
import { tmpFiles } from './fixtures.js';

const rows = (counts: Record<string, number>) => Object.entries(counts).flatMap(([label, n]) => Array.from({ length: n }, (_, i) => ({ text: `${label}-${i}`, label })));

test('splitDev: same seed same split; another seed another; sizes exact; order kept', () => {
  const data = rows({ a: 50, b: 30, c: 20 });
  const one = splitDev(data, { fraction: 0.1, seed: 7 });
  const two = splitDev(data, { fraction: 0.1, seed: 7 });
  const other = splitDev(data, { fraction: 0.1, seed: 8 });
  assert.deepEqual(one, two);
  assert.notDeepEqual(one.dev, other.dev);
  assert.equal(one.dev.length, 10);
  assert.equal(one.train.length, 90);
  assert.deepEqual(new Set([...one.train, ...one.dev]), new Set(data));
  const pos = (r: object) => data.indexOf(r as (typeof data)[number]);
  assert.ok(one.dev.every((r, i) => i === 0 || pos(r) > pos(one.dev[i - 1]!)));
});

test('splitDev: stratified by label; a class with one row stays in train', () => {
  const data = rows({ a: 50, b: 30, c: 19, lone: 1 });
  const { train, dev } = splitDev(data, { fraction: 0.1, seed: 1 });
  const count = (xs: typeof data, l: string) => xs.filter((r) => r.label === l).length;
  assert.equal(dev.length, 10);
  assert.equal(count(dev, 'a'), 5);
  assert.equal(count(dev, 'b'), 3);
  assert.equal(count(dev, 'c'), 2);
  assert.equal(count(dev, 'lone'), 0);
  assert.equal(count(train, 'lone'), 1);
  assert.throws(() => splitDev(data, { fraction: 1 }), RangeError);
});

test('loadTrainDev: uses the dev split when there is one, else holds out a seeded share of train', async () => {
  const train = Array.from({ length: 20 }, (_, i) => `row ${i},${i % 2 ? 'odd' : 'even'}`).join('\n');
  const dir = tmpFiles({ 'with/train.csv': `text,label\n${train}\n`, 'with/valid.csv': 'text,label\nv,odd\n', 'without/train.csv': `text,label\n${train}\n` });
  const a = await loadTrainDev(await openDataset(join(dir, 'with')));
  assert.deepEqual(a.devFrom, { split: 'valid' });
  assert.equal(a.train.length, 20);
  assert.equal(a.dev.length, 1);
  const b = await loadTrainDev(await openDataset(join(dir, 'without')), { fraction: 0.2, seed: 3 });
  assert.deepEqual(b.devFrom, { heldOut: { fraction: 0.2, seed: 3, stratify: true } });
  assert.equal(b.dev.length, 4);
  assert.equal(b.dev.filter((r) => r.label === 'odd').length, 2);
  const again = await loadTrainDev(await openDataset(join(dir, 'without')), { fraction: 0.2, seed: 3 });
  assert.deepEqual(again.dev, b.dev);
});
