/**
 * Multi-task bundles: a `slimtext merge` model exported as one bundle (trunk once, a branch per
 * task) answers every task through slimtext/runtime with the scores `slimtext predict` gives
 * (MultiTaskPredictor), one task or all, via the CLI too; the bundle is format version 2 while
 * single-task bundles stay version 1, so an older runtime refuses it as newer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finetune } from '../../src/train/finetune/finetune.js';
import { mergeBranches } from '../../src/train/multitask/merge.js';
import { loadMultiTask } from '../../src/models/multiTask.js';
import { MultiTaskPredictor } from '../../src/models/predictor.js';
import { encodeMultiTaskBundle, encodeSlimBundle } from '../../src/io/slimBundle.js';
import { loadAnyModel } from '../../src/models/anyModel.js';
import { loadBundle, singleTask, BundleError, type SlimMultiTaskModel } from '../../src/runtime/index.js';
import { classData, classRows, dataFiles, tempDir, tinyCheckpoint, tsv } from '../train/fixtures.js';
import { runCli } from '../cli/inProcess.js';
import { TEXTS } from './fixtures.js';

async function branch(ckpt: string, data: string, freezeLayers: number, pooling: 'mean' | 'cls'): Promise<string> {
  const out = tempDir('slimtext-rt-branch-');
  await finetune({ model: ckpt, train: data, out, recipe: { task: 'classify', epochs: 2, lr: 1e-2, batchSize: 16, freezeEmbeddings: true, freezeLayers, seed: 0, pooling, usePooler: pooling === 'cls' } });
  return out;
}

let merged: Promise<string> | undefined;
/** Two tasks branching at different depths (1 and 2), one mean-pooled, one through the pooler. */
function mergedModel(): Promise<string> {
  merged ??= (async () => {
    const ckpt = await tinyCheckpoint();
    const lengthRows = (n: number, seed: number) => classRows(n, seed).map(([t]) => [t, t.split(' ').length <= 2 ? 'short' : 'long'] as const);
    const lengths = dataFiles({ 'train.tsv': tsv(['text', 'label'], lengthRows(96, 3)), 'dev.tsv': tsv(['text', 'label'], lengthRows(32, 4)) });
    const mt = join(tempDir(), 'mt');
    await mergeBranches(mt, [{ dir: await branch(ckpt, classData(), 1, 'mean'), name: 'animals' }, { dir: await branch(ckpt, lengths, 2, 'cls'), name: 'length' }]);
    return mt;
  })();
  return merged;
}

const SAMPLE = ['the big cat', 'hello', 'a red dog and a small bird', ...TEXTS];

test('a multi-task bundle answers every task as slimtext predict does', async () => {
  const dir = await mergedModel();
  const mt = await loadMultiTask(dir);
  const bytes = encodeMultiTaskBundle(mt);
  const model = await loadBundle(bytes);
  assert.equal(model.multiTask, true);
  const m = model as SlimMultiTaskModel;
  assert.deepEqual(m.tasks, ['animals', 'length']);
  assert.deepEqual(m.labels['length'], mt.branch('length').spec.labels);
  const want = new MultiTaskPredictor(mt, undefined, { topK: 10 }).predict(SAMPLE);
  SAMPLE.forEach((text, i) => {
    const got = m.predict(text);
    assert.deepEqual(Object.keys(got), ['animals', 'length']);
    for (const task of m.tasks) {
      const w = want[i]![task]!;
      const score = new Map(w.map((x) => [x.text, x.score]));
      assert.equal(got[task]!.length, w.length);
      for (const g of got[task]!) assert.ok(Math.abs(g.score - score.get(g.label)!) <= 2e-5, `${task} of text ${i}: ${g.label} ${g.score} vs ${score.get(g.label)}`);
      if (w[0]!.score - w[1]!.score > 1e-4) assert.equal(got[task]![0]!.label, w[0]!.text, `${task} of text ${i}`);
    }
  });
  // One task, top 1; the same scores as the all-tasks pass.
  const one = m.predict(SAMPLE[0]!, { tasks: ['length'], topK: 1 });
  assert.deepEqual(Object.keys(one), ['length']);
  assert.deepEqual(one['length'], m.predict(SAMPLE[0]!)['length']!.slice(0, 1));
  assert.throws(() => m.predict('x', { tasks: ['nope'] }), /no task "nope" in this bundle \(tasks: animals, length\)/);
  assert.equal(m.predictBatch(['a', 'b']).length, 2);
  assert.throws(() => singleTask(model), /multi-task model \(tasks: animals, length\)/);
  // Version 2 for multi-task bundles; single-task ones stay 1.
  assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true), 2);
  const single = encodeSlimBundle(await loadAnyModel(dir, { task: 'animals' }));
  assert.equal(new DataView(single.buffer, single.byteOffset).getUint32(8, true), 1);
  const newer = bytes.slice();
  new DataView(newer.buffer).setUint32(8, 3, true);
  await assert.rejects(loadBundle(newer), (e: Error) => e instanceof BundleError && /version 3 is newer/.test(e.message));
});

test('slimtext export writes a multi-task bundle, or one task of it with --task', async () => {
  const dir = await mergedModel();
  const out = tempDir('slimtext-rt-mt-');
  const r = await runCli(['export', '--model', dir, '--out', join(out, 'mt.slim'), '--json']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual((JSON.parse(r.out) as { tasks: string[] }).tasks, ['animals', 'length']);
  const all = (await loadBundle(readFileSync(join(out, 'mt.slim')))) as SlimMultiTaskModel;
  const t = await runCli(['export', '--model', dir, '--task', 'length', '--out', join(out, 'length.slim')]);
  assert.equal(t.code, 0, t.err);
  const one = singleTask(await loadBundle(readFileSync(join(out, 'length.slim'))));
  for (const text of SAMPLE) {
    const a = all.predict(text)['length']!, b = one.predict(text);
    a.forEach((x, k) => assert.ok(Math.abs(x.score - b.find((y) => y.label === x.label)!.score) < 1e-5, text));
  }
});
