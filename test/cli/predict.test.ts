/** `slimtext predict`, spawned with lines on stdin (from source under tsx, or the compiled bin). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { finetune } from '../../src/train/finetune/finetune.js';
import { classData, pairData, replyData, tempDir, tinyCheckpoint } from '../train/fixtures.js';

function slimtext(args: string[], input: string) {
  const fromSource = import.meta.url.endsWith('.ts');
  const argv = fromSource ? ['--import', 'tsx', join(repoRoot, 'scripts', 'dev-cli.ts'), ...args] : [join(repoRoot, 'bin', 'slimtext.js'), ...args];
  return spawnSync(process.execPath, argv, { input, encoding: 'utf8', cwd: repoRoot });
}

const ckpt = tinyCheckpoint();

async function trained(task: 'classify' | 'pair' | 'reply', data: string, extra: object = {}): Promise<string> {
  const out = join(tempDir(), task);
  await finetune({ model: await ckpt, train: data, out, recipe: { task, epochs: 3, lr: 1e-2, batchSize: 8, ...extra } });
  return out;
}

test('predict: one label and probability per line; --top-k and --json', async () => {
  const model = await trained('classify', classData(256, 16), { batchSize: 16 });
  const r = slimtext(['predict', '--model', model], 'the big cat\nhello\n\na red dog on the fish\n');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 4, 'an empty line still gets a prediction, so outputs line up with inputs');
  assert.match(lines[0]!, /^animal\t0\.\d{4}$/);
  assert.match(lines[1]!, /^greeting\t0\.\d{4}$/);
  assert.match(lines[3]!, /^animal\t/);
  const j = slimtext(['predict', '--model', model, '--json', '--top-k', '2'], 'hi the\n');
  assert.equal(j.status, 0, j.stderr);
  const o = JSON.parse(j.stdout);
  assert.equal(o.label, 'greeting');
  assert.equal(o.top.length, 2);
  assert.ok(Math.abs(o.top[0].score + o.top[1].score - 1) < 1e-3);
});

test('predict on a pair model reads TEXT<TAB>PAIR lines', async () => {
  const model = await trained('pair', pairData(256, 16), { usePooler: false });
  const r = slimtext(['predict', '--model', model], 'the cat\thello there\nhi\ta big dog\n');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => l.split('\t')[0]), ['greeting', 'animal']);
});

test('predict on a reply model prints the top replies of its reply set', async () => {
  const model = await trained('reply', replyData(96, 16), { responses: 6, lr: 1e-3 });
  const r = slimtext(['predict', '--model', model, '--json'], 'the cat hello\n');
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.equal(o.replies.length, 3);
  assert.ok(o.replies[0].score >= o.replies[1].score);
  const t = slimtext(['predict', '--model', model, '--top-k', '1'], 'hi\nthe dog\n');
  assert.equal(t.stdout.trimEnd().split('\n').length, 2);
  assert.match(t.stdout.split('\n')[0]!, /^.+\t-?\d\.\d{4}$/);
  const bad = slimtext(['predict', '--model', model, '--top-k', '0'], '');
  assert.equal(bad.status, 2);
});
