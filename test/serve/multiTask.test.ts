/**
 * A multi-task model (slimtext merge) served: /v1/models lists its tasks, a request answers every
 * task it names (all by default) and each answer equals MultiTaskPredictor's for that task.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer } from '../../src/serve/index.js';
import { finetune } from '../../src/train/finetune/finetune.js';
import { mergeBranches } from '../../src/train/multitask/merge.js';
import { loadMultiTask } from '../../src/models/multiTask.js';
import { MultiTaskPredictor } from '../../src/models/predictor.js';
import { classData, classRows, dataFiles, tempDir, tinyCheckpoint, tsv } from '../train/fixtures.js';
import { get, post } from './http.js';

async function branch(ckpt: string, data: string, freezeLayers: number): Promise<string> {
  const out = tempDir('slimtext-serve-branch-');
  await finetune({ model: ckpt, train: data, out, recipe: { task: 'classify', epochs: 2, lr: 1e-2, batchSize: 16, freezeEmbeddings: true, freezeLayers, seed: 0, pooling: 'mean', usePooler: false } });
  return out;
}

test('a merged multi-task model: tasks listed, every task answered in one request, equal to the library', async () => {
  const ckpt = await tinyCheckpoint();
  const lengthRows = (n: number, seed: number) => classRows(n, seed).map(([t]) => [t, t.split(' ').length <= 2 ? 'short' : 'long'] as const);
  const lengths = dataFiles({ 'train.tsv': tsv(['text', 'label'], lengthRows(96, 3)), 'dev.tsv': tsv(['text', 'label'], lengthRows(32, 4)) });
  const mt = join(tempDir(), 'mt');
  await mergeBranches(mt, [{ dir: await branch(ckpt, classData(), 1), name: 'animals' }, { dir: await branch(ckpt, lengths, 2), name: 'length' }]);
  const s = await startServer({ models: [{ name: 'mt', dir: mt }], port: 0, adminPort: 0, workers: 1 });
  try {
    const m = await get(`${s.url}/v1/models/mt`);
    assert.equal(m.status, 200);
    assert.deepEqual(m.body.tasks.map((t: { name: string }) => t.name), ['animals', 'length']);
    const texts = ['the big cat', 'hello', 'a red dog and a small bird'];
    const want = new MultiTaskPredictor(await loadMultiTask(mt), undefined, { topK: 2 }).predict(texts);
    const all = await post(`${s.url}/v1/models/mt/predict`, { texts, top_k: 2 });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    all.body.results.forEach((r: Record<string, { label: string; top: { label: string; score: number }[] }>, i: number) => {
      for (const task of ['animals', 'length']) {
        assert.equal(r[task]!.label, want[i]![task]![0]!.text, `${task} of text ${i}`);
        r[task]!.top.forEach((x, k) => assert.ok(Math.abs(x.score - want[i]![task]![k]!.score) < 1e-4));
      }
    });
    const one = await post(`${s.url}/v1/models/mt/predict`, { text: 'hello', tasks: ['length'] });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.deepEqual(Object.keys(one.body.results[0]), ['length']);
    const bad = await post(`${s.url}/v1/models/mt/predict`, { text: 'hello', tasks: ['nope'] });
    assert.equal(bad.status, 400);
  } finally {
    await s.close();
  }
});
