/** Layer dropping: the spec grammar, the layers kept (weights and order), and a smaller saved model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BertModel } from '../../../src/models/bert/model.js';
import { loadTaskModel } from '../../../src/models/taskModel.js';
import { finetune } from '../../../src/train/finetune/finetune.js';
import { dropLayers, parseDropSpec } from '../../../src/train/finetune/layerDrop.js';
import { classData, tempDir, tinyCheckpoint, tinyConfig } from '../fixtures.js';

test('drop specs: top, bottom, alternate, indices, none', () => {
  assert.deepEqual(parseDropSpec('top:2', 6), [4, 5]);
  assert.deepEqual(parseDropSpec('bottom:2', 6), [0, 1]);
  assert.deepEqual(parseDropSpec('alternate', 6), [1, 3, 5]);
  assert.deepEqual(parseDropSpec('alternate', 5), [1, 3]);
  assert.deepEqual(parseDropSpec('3, 1,3', 6), [1, 3]);
  assert.deepEqual(parseDropSpec('none', 6), []);
  assert.deepEqual(parseDropSpec('top:0', 6), []);
});

test('drop specs that make no sense are errors that say why', () => {
  assert.throws(() => parseDropSpec('top:4', 4), /leaves none/);
  assert.throws(() => parseDropSpec('0,1,2,3', 4), /drops every layer/);
  assert.throws(() => parseDropSpec('7', 4), /layer 7 does not exist.*4 layers/);
  assert.throws(() => parseDropSpec('middle', 4), /not a layer spec/);
  assert.throws(() => parseDropSpec('top:-1', 4), /not a layer spec/);
});

test('dropLayers keeps the other layers, with their weights, in order, renumbered', () => {
  const m = new BertModel(tinyConfig({ numLayers: 4 }), { seed: 2, pooler: false });
  const before = m.encoder.layer.map((l) => l.attention.self.query.weight.data.slice());
  const kept = dropLayers(m, parseDropSpec('1,2', 4));
  assert.deepEqual(kept, [0, 3]);
  assert.equal(m.numLayers, 2);
  assert.equal(m.currentConfig().numLayers, 2);
  assert.deepEqual(m.encoder.layer[0]!.attention.self.query.weight.data, before[0]);
  assert.deepEqual(m.encoder.layer[1]!.attention.self.query.weight.data, before[3]);
  const names = m.namedParameters().map(([n]) => n);
  assert.ok(names.includes('encoder.layer.1.output.dense.weight'));
  assert.ok(!names.some((n) => n.startsWith('encoder.layer.2.')));
});

test('a fine-tuned model with dropped layers saves and loads as the shallower model, and is smaller', async () => {
  const ck = await tinyCheckpoint({ numLayers: 4 });
  const data = classData(64, 16);
  const recipe = { task: 'classify' as const, epochs: 1, batchSize: 16 };
  const fullOut = tempDir();
  const dropOut = tempDir();
  await finetune({ model: ck, train: data, out: fullOut, recipe });
  const r = await finetune({ model: ck, train: data, out: dropOut, recipe: { ...recipe, dropLayers: 'top:2' } });
  assert.deepEqual(r.layers, { kept: [0, 1], dropped: [2, 3] });
  const full = await loadTaskModel(fullOut);
  const dropped = await loadTaskModel(dropOut);
  assert.equal(dropped.model.model.parameterCount() < full.model.model.parameterCount(), true);
  if (dropped.model.task !== 'classify') throw new Error('expected a classifier');
  assert.equal(dropped.model.model.bert.numLayers, 2);
  assert.deepEqual(dropped.manifest.recipe.layers_dropped, [2, 3]);
  const size = (dir: string, m: { weights: string }) => statSync(join(dir, m.weights)).size;
  assert.ok(size(dropOut, dropped.manifest) < size(fullOut, full.manifest));
});
