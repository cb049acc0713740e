/** `slimtext export`: bundle and ONNX from a model folder, the overwrite rule, bad options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '../../src/runtime/index.js';
import { danFolder, tinyTransformerFolder } from '../runtime/fixtures.js';
import { tempDir } from '../train/fixtures.js';
import { runCli } from './inProcess.js';

test('export --format bundle writes a .slim the runtime loads; an existing --out needs --overwrite', async () => {
  const dir = await danFolder('int4');
  const out = join(tempDir('slimtext-export-'), 'm.slim');
  const r = await runCli(['export', '--model', dir, '--format', 'bundle', '--out', out, '--json']);
  assert.equal(r.code, 0, r.err);
  const summary = JSON.parse(r.out) as { bytes: number };
  assert.equal(summary.bytes, readFileSync(out).length);
  const model = await loadBundle(readFileSync(out));
  assert.equal(model.labels.length, 4);
  const again = await runCli(['export', '--model', dir, '--out', out]);
  assert.notEqual(again.code, 0);
  assert.match(again.err, /already exists; pass --overwrite/);
  assert.equal((await runCli(['export', '--model', dir, '--out', out, '--overwrite', '--dtype', 'f16'])).code, 0);
});

test('export --format onnx writes the model and its tokenizer files; bad options are usage errors', async () => {
  const dir = await tinyTransformerFolder('mean');
  const outDir = tempDir('slimtext-export-');
  const r = await runCli(['export', '--model', dir, '--format', 'onnx', '--out', join(outDir, 'model.onnx')]);
  assert.equal(r.code, 0, r.err);
  for (const f of ['model.onnx', 'config.json', 'vocab.txt']) assert.ok(existsSync(join(outDir, f)), f);
  const bad = await runCli(['export', '--model', dir, '--format', 'tflite', '--out', join(outDir, 'x')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--format must be bundle or onnx/);
  const dan = await runCli(['export', '--model', await danFolder('dense'), '--format', 'onnx', '--out', join(outDir, 'd.onnx')]);
  assert.notEqual(dan.code, 0);
  assert.match(dan.err, /ship it as a bundle/);
});
