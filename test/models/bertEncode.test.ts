import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertFeatureExtractor } from '../../src/models/bert/featureExtraction.js';
import { setBackend } from '../../src/engine/index.js';
import { repoRoot, sharedPath } from '../helpers.js';
import { pythonSkip, runReference } from '../reference/python.js';
import { bertTestBackends, maxAbsDiff, realBackendSkip } from './bertBackends.js';

const model = sharedPath('models/bert-l4-h128-mlm');
const torchSkip = pythonSkip(['torch', 'numpy']);
const skip = model.skip || torchSkip;

const LINES = [
  'hello world',
  'The quick brown fox jumps over the lazy dog.',
  '',
  'Café naïve: résumé?! 42 apples, 3.5 pears',
  'what is the weather like in new york tomorrow morning',
];

/** The reference's hidden states for id sequences (each run alone, unpadded). */
function reference(ids: number[][]): number[][][] {
  return (JSON.parse(runReference('bert_ref.py', [model.path!], JSON.stringify(ids))) as { last_hidden_state: number[][][] }).last_hidden_state;
}

for (const [name, backend] of bertTestBackends()) {
  test(`[${name}] encoder outputs on the shared checkpoint match bert_ref.py to 1e-4`, { skip }, async () => {
    setBackend(backend);
    const fx = await BertFeatureExtractor.load(model.path!);
    const out = fx.encode(LINES);
    const ref = reference(out.map((o) => o.ids));
    out.forEach((o, i) => {
      assert.equal(o.ids[0], 101, '[CLS] first');
      assert.equal(o.ids[o.ids.length - 1], 102, '[SEP] last');
      assert.equal(o.lastHiddenState.length, o.ids.length);
      const d = maxAbsDiff(o.lastHiddenState.flatMap((r) => Array.from(r)), ref[i]!.flat());
      assert.ok(d < 1e-4, `line ${i}: max |diff| ${d}`);
    });
  });
}

/** Runs the CLI: the compiled bin under dist, or the sources through tsx during development. */
function cli(args: string[], input: string): { status: number | null; stdout: string; stderr: string } {
  const fromDist = fileURLToPath(import.meta.url).includes(`${join('dist', 'test')}`);
  const argv = fromDist ? [join(repoRoot, 'bin', 'slimtext.js'), ...args] : ['--import', 'tsx', join(repoRoot, 'scripts', 'dev-cli.ts'), ...args];
  const r = spawnSync(process.execPath, argv, { input, encoding: 'utf8', cwd: repoRoot, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('slimtext encode --json on the shared checkpoint matches bert_ref.py to 1e-4', { skip: skip || realBackendSkip() }, () => {
  const long = Array.from({ length: 700 }, (_, i) => `word${i % 50}`).join(' ');
  const input = [...LINES, long].join('\n') + '\n';
  const r = cli(['encode', '--model', model.path!, '--json', '--batch-size', '4'], input);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { ids: number[]; last_hidden_state: number[][] });
  assert.equal(rows.length, LINES.length + 1, 'one output line per input line');
  assert.deepEqual(rows[2]!.ids, [101, 102], 'an empty line is [CLS] [SEP]');
  assert.equal(rows[5]!.ids.length, 512, 'a long line is truncated to the model maximum');
  const ref = reference(rows.map((o) => o.ids));
  rows.forEach((o, i) => {
    assert.equal(o.last_hidden_state.length, o.ids.length);
    assert.equal(o.last_hidden_state[0]!.length, 128);
    const d = maxAbsDiff(o.last_hidden_state.flat(), ref[i]!.flat());
    assert.ok(d < 1e-4, `line ${i}: max |diff| ${d}`);
  });
});

test('slimtext encode: clear errors for a bad folder, a missing option and asking for an absent pooler', { skip: realBackendSkip() }, () => {
  const r = cli(['encode', '--model', '/nonexistent/model', '--json'], 'hi\n');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\/nonexistent\/model.*config\.json is missing/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const u = cli(['encode', '--json'], '');
  assert.equal(u.status, 2);
  assert.match(u.stderr, /--model is required/);
  if (!model.skip) {
    const p = cli(['encode', '--model', model.path!, '--pooled'], 'hi\n');
    assert.equal(p.status, 1);
    assert.match(p.stderr, /no pooler/);
  }
});
