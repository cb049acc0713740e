/**
 * Multi-task models end to end on a tiny random checkpoint: branches fine-tuned on a frozen trunk
 * (and one distilled from another) merge into one model whose per-task outputs equal the standalone
 * branches'; adding, replacing and removing a task leaves every other task's bytes and outputs
 * untouched; branches of different trunks, duplicate names, missing tasks and damaged folders are
 * refused with errors naming folder, task and tensor, and a refused change leaves the model as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finetune } from '../../../src/train/finetune/finetune.js';
import { distillBranch } from '../../../src/train/multitask/branchDistill.js';
import { changeBranches, mergeBranches } from '../../../src/train/multitask/merge.js';
import { loadMultiTask, type MultiTaskModel } from '../../../src/models/multiTask.js';
import { loadAnyModel } from '../../../src/models/anyModel.js';
import { loadTaskModel } from '../../../src/models/taskModel.js';
import { classifierLogits, plainEncode, softmaxRows } from '../../../src/models/inference.js';
import { tokenizeAll } from '../../../src/models/textBatch.js';
import { MultiTaskPredictor } from '../../../src/models/predictor.js';
import { readBundle } from '../../../src/io/bundle.js';
import { classData, classRows, dataFiles, tempDir, tinyCheckpoint, tsv } from '../fixtures.js';

const TEXTS = classRows(40, 11).map(([t]) => t);

/** A second task on the same texts: short (<= 2 words) or long. */
function lengthData(): string {
  const rows = (n: number, seed: number) => classRows(n, seed).map(([t]) => [t, t.split(' ').length <= 2 ? 'short' : 'long'] as const);
  return dataFiles({ 'train.tsv': tsv(['text', 'label'], rows(192, 3)), 'dev.tsv': tsv(['text', 'label'], rows(48, 4)) });
}

async function branch(ckpt: string, data: string, freezeLayers: number, seed = 0, extra: Record<string, unknown> = {}): Promise<string> {
  const out = tempDir('slimtext-branch-');
  await finetune({ model: ckpt, train: data, out, recipe: { task: 'classify', epochs: 4, lr: 1e-2, batchSize: 16, freezeEmbeddings: true, freezeLayers, seed, pooling: 'mean', usePooler: false, ...extra } });
  return out;
}

function standalone(dir: string): Promise<Float32Array> {
  return loadTaskModel(dir).then(({ model: tm }) => {
    if (tm.task === 'reply') throw new Error('not a classifier');
    return classifierLogits(tm.model, tokenizeAll(tm.tokenizer, TEXTS, undefined, tm.maxLength), 16, plainEncode(0));
  });
}

function merged(mt: MultiTaskModel, names?: string[]): Map<string, Float32Array> {
  const tasks = mt.select(names);
  const l = mt.logits(tokenizeAll(mt.tokenizer, TEXTS, undefined, mt.maxLength), tasks, 16);
  return new Map(tasks.map((t, k) => [t.spec.name, l[k]!]));
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const fixtures = (async () => {
  const ckpt = await tinyCheckpoint();
  const animals = classData(192, 48);
  const lengths = lengthData();
  const a = await branch(ckpt, animals, 1); // 2 branch layers from layer 1
  const b = await branch(ckpt, lengths, 2, 0, { pooling: 'cls', usePooler: true }); // 1 layer from layer 2, pooler
  const c = tempDir('slimtext-distilled-');
  await distillBranch({ teacher: a, studentLayers: 1, train: animals, out: c, overwrite: true, recipe: { epochs: 3, lr: 1e-2, batchSize: 16 } });
  return { ckpt, animals, lengths, a, b, c };
})();

test('a merged model answers each task exactly as its standalone branch, all tasks in one trunk pass', async () => {
  const { a, b, c } = await fixtures;
  const out = join(tempDir(), 'mt');
  const r = await mergeBranches(out, [{ dir: a, name: 'animals' }, { dir: b, name: 'length' }, { dir: c, name: 'animals1' }]);
  assert.equal(r.trunkLayers, 2);
  assert.deepEqual(r.tasks.map((t) => [t.name, t.start_layer, t.layers]), [['animals', 1, 2], ['length', 2, 1], ['animals1', 1, 1]]);
  const mt = await loadMultiTask(out);
  const all = merged(mt);
  for (const [name, dir] of [['animals', a], ['length', b], ['animals1', c]] as const) {
    const want = await standalone(dir);
    assert.ok(maxDiff(all.get(name)!, want) <= 1e-5, `${name}: ${maxDiff(all.get(name)!, want)}`);
    assert.ok(maxDiff(merged(mt, [name]).get(name)!, want) <= 1e-5);
    // The single-task view (eval / label --task) is the standalone model too.
    const view = await loadAnyModel(out, { task: name });
    if (view.task !== 'classify' || 'kind' in view) throw new Error('expected a classifier view');
    assert.ok(maxDiff(classifierLogits(view.model, tokenizeAll(view.tokenizer, TEXTS, undefined, view.maxLength), 16, plainEncode(0)), want) <= 1e-5);
  }
  const p = new MultiTaskPredictor(mt, ['length', 'animals']).predict(['the cat', 'hello big red small dog']);
  assert.deepEqual(Object.keys(p[0]!), ['length', 'animals']);
  assert.ok(['short', 'long'].includes(p[0]!.length![0]!.text));
  // --quantize int8 reaches the trunk and the branches: the all-tasks pass equals each task's int8 view
  const tasks = mt.select(['animals']);
  const q8 = mt.probabilities(TEXTS, tasks, 16, 'int8')[0]!;
  const fp = mt.probabilities(TEXTS, tasks, 16)[0]!;
  const view = mt.view('animals');
  const q8view = softmaxRows(classifierLogits(view.model, tokenizeAll(view.tokenizer, TEXTS, undefined, view.maxLength), 16, plainEncode(0, { quantize: 'int8' })), view.labels.length);
  assert.ok(maxDiff(q8, q8view) <= 1e-5, `multi-task int8 vs view int8 ${maxDiff(q8, q8view)}`);
  assert.ok(maxDiff(q8, fp) > 0 && maxDiff(q8, fp) < 0.1, `int8 vs fp32 ${maxDiff(q8, fp)}`);
  await assert.rejects(loadAnyModel(out), /multi-task model \(tasks: animals, length, animals1\): choose one with --task/);
  await assert.rejects(loadAnyModel(out, { task: 'nope' }), (e: Error) => e.message.includes(out) && /no task 'nope'/.test(e.message));
});

test('add, update and remove change one task and leave the others bit-identical, bytes and outputs', async () => {
  const { animals, a, b, c } = await fixtures;
  const out = join(tempDir(), 'mt');
  await mergeBranches(out, [{ dir: a, name: 'animals' }, { dir: b, name: 'length' }]);
  const files = async () => (await readBundle(out)).manifest.weight_files!;
  const bytes = (f: string) => readFileSync(join(out, f));
  const f0 = await files();
  const b0 = bytes(f0['branch-length']!);
  const ino = statSync(join(out, f0['branch-length']!)).ino;
  const before = merged(await loadMultiTask(out));

  const added = await changeBranches(out, { add: [{ dir: c, name: 'animals1' }] });
  assert.deepEqual(added.written, [added.tasks[2]!.weights], 'only the new branch file is written');
  const f1 = await files();
  assert.equal(f1['branch-length'], f0['branch-length']);
  assert.equal(f1['branch-animals'], f0['branch-animals']);
  assert.equal(statSync(join(out, f1['branch-length']!)).ino, ino, 'the untouched branch file is the same file');
  let now = merged(await loadMultiTask(out));
  assert.deepEqual(now.get('animals'), before.get('animals'));
  assert.deepEqual(now.get('length'), before.get('length'));
  assert.ok(maxDiff(now.get('animals1')!, await standalone(c)) <= 1e-5);

  const a2 = await branch((await fixtures).ckpt, animals, 1, 5); // retrained with another seed
  const updated = await changeBranches(out, { update: [{ dir: a2, name: 'animals' }] });
  assert.deepEqual(updated.written, [updated.tasks[0]!.weights]);
  const f2 = await files();
  assert.notEqual(f2['branch-animals'], f1['branch-animals']);
  assert.deepEqual(bytes(f2['branch-length']!), b0);
  now = merged(await loadMultiTask(out));
  assert.deepEqual(now.get('length'), before.get('length'));
  assert.ok(maxDiff(now.get('animals')!, await standalone(a2)) <= 1e-5);
  const animals1 = now.get('animals1')!;

  const removed = await changeBranches(out, { remove: ['length'] });
  assert.equal(removed.trunkLayers, 1, 'the trunk shrinks to the deepest remaining branch start');
  const f3 = await files();
  assert.deepEqual(Object.keys(f3).sort(), ['branch-animals', 'branch-animals1']);
  assert.equal(f3['branch-animals1'], f2['branch-animals1']);
  now = merged(await loadMultiTask(out));
  assert.deepEqual(now.get('animals1'), animals1);
  assert.ok(maxDiff(now.get('animals')!, await standalone(a2)) <= 1e-5);
});

test('bad input: different trunks, duplicate names, missing tasks, non-branches and damaged folders are refused; the model stays as it was', async () => {
  const { ckpt, animals, a, b } = await fixtures;
  const other = await branch(await tinyCheckpoint({}, 8), animals, 1);
  await assert.rejects(mergeBranches(join(tempDir(), 'x'), [{ dir: a }, { dir: other }]), (e: Error) => e.message.includes(a) && e.message.includes(other) && /do not share a trunk: their embeddings differ/.test(e.message));
  const out = join(tempDir(), 'mt');
  await mergeBranches(out, [{ dir: a, name: 'animals' }, { dir: b, name: 'length' }]);
  const manifest = readFileSync(join(out, 'slimtext.json'));
  await assert.rejects(changeBranches(out, { add: [{ dir: other, name: 'other' }] }), (e: Error) => e.message.includes(other) && /do not share a trunk/.test(e.message));
  await assert.rejects(mergeBranches(join(tempDir(), 'y'), [{ dir: a, name: 't' }, { dir: b, name: 't' }]), /task 't' is also the name of/);
  await assert.rejects(changeBranches(out, { add: [{ dir: b, name: 'length' }] }), /task 'length' is already in the model/);
  await assert.rejects(changeBranches(out, { remove: ['nope'] }), (e: Error) => e.message.includes(out) && /no task 'nope' to remove \(tasks: animals, length\)/.test(e.message));
  await assert.rejects(changeBranches(out, { update: [{ dir: a, name: 'nope' }] }), /no task 'nope' to update/);
  await assert.rejects(mergeBranches(out, [{ dir: a }]), /already exists; pass --overwrite/);
  // A full fine-tune (trainable embeddings) is not a branch.
  const full = tempDir('slimtext-full-');
  await finetune({ model: ckpt, train: animals, out: full, recipe: { task: 'classify', epochs: 1, batchSize: 32 } });
  await assert.rejects(changeBranches(out, { add: [{ dir: full, name: 'full' }] }), (e: Error) => e.message.includes(full) && /not a branch/.test(e.message));
  // A truncated weight file.
  const cut = join(tempDir(), 'cut');
  cpSync(b, cut, { recursive: true });
  const weights = (await readBundle(cut)).manifest.weights;
  truncateSync(join(cut, weights), 100);
  await assert.rejects(changeBranches(out, { add: [{ dir: cut, name: 'cut' }] }), (e: Error) => e.message.includes(join(cut, weights)));
  // A branch whose frozen tensors no longer match its recorded trunk (edited and re-hashed manifest).
  const edited = join(tempDir(), 'edited');
  cpSync(b, edited, { recursive: true });
  const m = JSON.parse(readFileSync(join(edited, 'slimtext.json'), 'utf8'));
  m.architecture.trunk.id = m.architecture.trunk.id.replace(/^./, (ch: string) => (ch === '0' ? '1' : '0'));
  writeFileSync(join(edited, 'slimtext.json'), JSON.stringify(m));
  await assert.rejects(changeBranches(out, { add: [{ dir: edited, name: 'edited' }] }), /do not match the trunk identity recorded/);
  // A mis-shaped branch: the manifest claims more labels than the classifier has.
  const shaped = join(tempDir(), 'shaped');
  cpSync(b, shaped, { recursive: true });
  const m2 = JSON.parse(readFileSync(join(shaped, 'slimtext.json'), 'utf8'));
  m2.labels = [...m2.labels, 'extra'];
  m2.architecture.num_labels = m2.labels.length;
  writeFileSync(join(shaped, 'slimtext.json'), JSON.stringify(m2));
  await assert.rejects(changeBranches(out, { add: [{ dir: shaped, name: 'shaped' }] }), (e: Error) => /classifier\.weight/.test(e.message) && /shape/.test(e.message));
  assert.deepEqual(readFileSync(join(out, 'slimtext.json')), manifest, 'refused changes leave the manifest untouched');
  assert.equal((await loadMultiTask(out)).taskNames.join(','), 'animals,length');
  // A damaged multi-task model names the file and task.
  const broken = join(tempDir(), 'broken');
  cpSync(out, broken, { recursive: true });
  const bf = (await readBundle(broken)).manifest.weight_files!['branch-length']!;
  truncateSync(join(broken, bf), 64);
  await assert.rejects(loadMultiTask(broken), (e: Error) => e.message.includes(join(broken, bf)));
});

test('branch distillation: the student keeps the teacher trunk identity and learns the task', async () => {
  const { a, c } = await fixtures;
  const ta = (await readBundle(a)).manifest.architecture.trunk as { id: string; start_layer: number };
  const tc = (await readBundle(c)).manifest.architecture.trunk as { id: string; start_layer: number };
  assert.equal(tc.id, ta.id);
  assert.equal(tc.start_layer, 1);
  const { model, manifest } = await loadTaskModel(c);
  if (model.task === 'reply') throw new Error('expected a classifier');
  assert.equal(model.model.bert.numLayers, 2);
  const m = manifest.metrics as { dev: { accuracy: number }; teacher_dev: { accuracy: number } };
  assert.ok(m.dev.accuracy >= 0.7 && m.dev.accuracy >= m.teacher_dev.accuracy - 0.05, JSON.stringify(m));
  await assert.rejects(distillBranch({ teacher: a, studentLayers: 3, train: (await fixtures).animals, out: tempDir() }), /l must be in 1\.\.2/);
});
