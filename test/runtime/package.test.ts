/**
 * The shipped runtime file: one small ESM file with no imports at all (so no Node built-ins and no
 * dependencies), reachable as the package subpath `slimtext/runtime`, and the same code as the
 * sources the other runtime tests check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { loadAnyModel } from '../../src/models/anyModel.js';
import { encodeSlimBundle } from '../../src/io/slimBundle.js';
import { loadBundle } from '../../src/runtime/index.js';
import { TEXTS, danFolder } from './fixtures.js';

const FILE = 'dist/runtime/slimtext-runtime.js';

test('slimtext/runtime is one small self-contained ESM file that predicts as the sources do', async () => {
  const code = readFileSync(FILE, 'utf8');
  assert.ok(!/\bimport\s*[({"'a-zA-Z*]|\brequire\s*\(/.test(code.replace(/\bimport\.meta\b/g, '')), 'the bundled runtime imports something');
  assert.ok(!/node:/.test(code), 'the bundled runtime mentions a node: module');
  const gz = gzipSync(code, { level: 9 }).length;
  assert.ok(gz < 30 * 1024, `runtime is ${gz} bytes gzipped`);
  const pkg = (await import('slimtext/runtime' as string)) as typeof import('../../src/runtime/index.js');
  const bytes = encodeSlimBundle(await loadAnyModel(await danFolder('codes', { seed: 2 })));
  const a = await pkg.loadBundle(bytes);
  const b = await loadBundle(bytes);
  for (const t of TEXTS) assert.deepEqual(a.predict(t), b.predict(t));
});
