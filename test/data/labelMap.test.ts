import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { InputError, SlimtextError } from '../../src/errors.js';
import { LabelMap, naturalCompare, unseenLabels, unseenWarning } from '../../src/data/labelMap.js';
import { tmpFiles } from './fixtures.js';

test('label map: natural order whatever the row order; ids round-trip', async () => {
  const a = LabelMap.fromLabels(['10', '2', '1', '2']);
  assert.deepEqual(a.labels, ['1', '2', '10']);
  const b = await LabelMap.fromExamples([{ text: 'x', label: 'pos' }, { text: 'y', label: 'neg' }, { text: 'z' }, { text: 'w', label: 'pos' }]);
  assert.deepEqual(b.labels, ['neg', 'pos']);
  assert.equal(b.id('pos'), 1);
  assert.equal(b.label(0), 'neg');
  assert.equal(b.idOf('other'), undefined);
  assert.throws(() => b.id('other'), (e: unknown) => e instanceof SlimtextError && /unknown label 'other'/.test(e.message));
  assert.throws(() => b.label(2), SlimtextError);
  assert.deepEqual([...b.encode([{ text: '', label: 'pos' }, { text: '', label: 'new' }, { text: '' }])], [1, -1, -1]);
  assert.ok(naturalCompare('9', 'a') < 0);
});

test('label map: saved as JSON (atomically) and loaded with the same ids; bad files named', async () => {
  const dir = tmpFiles({});
  const file = join(dir, 'labels.json');
  const m = LabelMap.fromLabels(['b', 'a', 'c']);
  await m.save(file);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { version: 1, labels: ['a', 'b', 'c'] });
  // A saved map keeps its order even when it is not the natural one.
  writeFileSync(file, JSON.stringify({ version: 1, labels: ['z', 'a'] }));
  const back = await LabelMap.load(file);
  assert.equal(back.id('z'), 0);
  writeFileSync(file, JSON.stringify({ version: 1, labels: ['a', 'a'] }));
  await assert.rejects(LabelMap.load(file), (e: unknown) => e instanceof InputError && e.file === file && /listed twice/.test(e.message));
  writeFileSync(file, JSON.stringify({ version: 9, labels: [] }));
  await assert.rejects(LabelMap.load(file), (e: unknown) => e instanceof InputError && e.field === 'version');
});

test('unseen labels: dev/test labels missing from training are reported with counts and first line', async () => {
  const map = LabelMap.fromLabels(['flight', 'airfare']);
  const test = [
    { text: 'a', label: 'flight', line: 1 },
    { text: 'b', label: 'day_name', line: 35 },
    { text: 'c', label: 'airfare#flight', line: 230 },
    { text: 'd', label: 'day_name', line: 400 },
  ];
  const r = await unseenLabels(map, test, 'test');
  assert.deepEqual(r, {
    split: 'test',
    rows: 4,
    unseenRows: 3,
    unseen: [
      { label: 'day_name', rows: 2, firstLine: 35 },
      { label: 'airfare#flight', rows: 1, firstLine: 230 },
    ],
  });
  assert.match(unseenWarning(r)!, /^warning: test: 3 of 4 rows have 2 labels not seen in training: 'day_name' \(2 rows, first at line 35\), 'airfare#flight' \(1 row, first at line 230\); they are kept/);
  assert.equal(unseenWarning(await unseenLabels(map, [{ text: 'x', label: 'flight' }], 'dev')), undefined);
});
