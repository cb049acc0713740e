/**
 * The multi-task commands through the CLI: finetune branches, distill a smaller branch
 * (`distill --teacher`), `merge`, `merge --model --add/--remove`, `predict` answering every task
 * (or --tasks) in one pass, `eval --task` with the same JSON as a standalone model, and the errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { runCli } from './inProcess.js';
import { classData, classRows, dataFiles, tempDir, tinyCheckpoint, tsv } from '../train/fixtures.js';

function slimtext(args: string[], input: string) {
  const fromSource = import.meta.url.endsWith('.ts');
  const argv = fromSource ? ['--import', 'tsx', join(repoRoot, 'scripts', 'dev-cli.ts'), ...args] : [join(repoRoot, 'bin', 'slimtext.js'), ...args];
  return spawnSync(process.execPath, argv, { input, encoding: 'utf8', cwd: repoRoot });
}

const setup = (async () => {
  const ckpt = await tinyCheckpoint();
  const animals = classData(192, 48);
  const rows = (n: number, seed: number) => classRows(n, seed).map(([t]) => [t, t.split(' ').length <= 2 ? 'short' : 'long'] as const);
  const lengths = dataFiles({ 'train.tsv': tsv(['text', 'label'], rows(192, 3)), 'dev.tsv': tsv(['text', 'label'], rows(48, 4)) });
  const root = tempDir();
  const ft = async (name: string, data: string, k: number) => {
    const r = await runCli(['finetune', '--model', ckpt, '--train', data, '--out', join(root, name), '--epochs', '3', '--lr', '1e-2', '--batch-size', '16',
      '--freeze-embeddings', '--freeze-layers', String(k), '--pooling', 'mean', '--quiet']);
    assert.equal(r.code, 0, r.err);
    return join(root, name);
  };
  return { root, animals, lengths, a: await ft('animals', animals, 1), b: await ft('length', lengths, 2) };
})();

test('distill --teacher makes a 1-layer branch; merge, predict, eval --task, add and remove work from the CLI', async () => {
  const { root, animals, a, b } = await setup;
  const small = join(root, 'animals1');
  const d = await runCli(['distill', '--teacher', a, '--student-layers', '1', '--train', animals, '--out', small, '--epochs', '2', '--lr', '1e-2', '--batch-size', '16', '--quiet', '--json']);
  assert.equal(d.code, 0, d.err);
  const ds = JSON.parse(d.out);
  assert.equal(ds.student_layers, 1);
  assert.equal(ds.teacher_layers, 2);
  assert.equal(ds.start_layer, 1);

  const mt = join(root, 'mt');
  const m = await runCli(['merge', '--out', mt, a, b, '--json']);
  assert.equal(m.code, 0, m.err);
  assert.deepEqual(JSON.parse(m.out).tasks.map((t: { name: string }) => t.name), ['animals', 'length']);
  const again = await runCli(['merge', '--out', mt, a]);
  assert.equal(again.code, 2);
  assert.match(again.err, /already exists; pass --overwrite/);

  const add = await runCli(['merge', '--model', mt, '--add', small]);
  assert.equal(add.code, 0, add.err);
  assert.match(add.out, /animals1 .* written/);
  assert.match(add.out, /length .* unchanged/);

  const p = slimtext(['predict', '--model', mt, '--json'], 'the cat\nhello big red small dog\n');
  assert.equal(p.status, 0, p.stderr);
  const lines = p.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(Object.keys(lines[0]), ['animals', 'length', 'animals1']);
  assert.ok(['short', 'long'].includes(lines[1].length.label));
  const chosen = slimtext(['predict', '--model', mt, '--tasks', 'length'], 'the cat\n');
  assert.match(chosen.stdout, /^length\t(short|long)\t0\.\d{4}\n$/);

  const e1 = await runCli(['eval', '--model', mt, '--task', 'length', '--data', (await setup).lengths, '--split', 'dev', '--json']);
  const e2 = await runCli(['eval', '--model', b, '--data', (await setup).lengths, '--split', 'dev', '--json']);
  assert.equal(e1.code, 0, e1.err);
  const r1 = JSON.parse(e1.out);
  const r2 = JSON.parse(e2.out);
  assert.deepEqual(Object.keys(r1), Object.keys(r2));
  assert.equal(r1.accuracy, r2.accuracy);
  assert.equal(r1.macro_f1, r2.macro_f1);

  const corpus = join(dataFiles({ 'c.txt': 'the cat\nhello there\n' }), 'c.txt');
  const lab = await runCli(['label', '--teacher', mt, '--task', 'length', '--corpus', corpus, '--out', join(root, 'length.logits'), '--workers', '1', '--json']);
  assert.equal(lab.code, 0, lab.err);
  assert.equal(JSON.parse(lab.out).rows, 2);
  const labNoTask = await runCli(['label', '--teacher', mt, '--corpus', corpus, '--out', join(root, 'x.logits'), '--workers', '1']);
  assert.equal(labNoTask.code, 1);
  assert.match(labNoTask.err, /choose one with --task NAME/);

  const missing = await runCli(['eval', '--model', mt, '--task', 'nope', '--data', animals, '--json']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no task 'nope' in this multi-task model \(tasks: animals, length, animals1\)/);
  const noTask = await runCli(['eval', '--model', mt, '--data', animals]);
  assert.equal(noTask.code, 1);
  assert.match(noTask.err, /choose one with --task NAME/);

  const rm = await runCli(['merge', '--model', mt, '--remove', 'length']);
  assert.equal(rm.code, 0, rm.err);
  const rmAgain = await runCli(['merge', '--model', mt, '--remove', 'length']);
  assert.equal(rmAgain.code, 1);
  assert.match(rmAgain.err, /no task 'length' to remove \(tasks: animals, animals1\)/);
});

test('usage errors: merge without branches, distill branch mode without --student-layers, branch flags in DAN mode', async () => {
  const { a } = await setup;
  let r = await runCli(['merge', '--out', join(tempDir(), 'x')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /at least one branch folder/);
  r = await runCli(['merge', '--model', a]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--model needs --add, --update or --remove/);
  r = await runCli(['distill', '--teacher', a, '--train', (await setup).animals, '--out', join(tempDir(), 'y')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--student-layers/);
  r = await runCli(['distill', '--train', (await setup).animals, '--student-layers', '1', '--out', join(tempDir(), 'z')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--student-layers belongs to branch mode/);
});
