import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

const bin = join(repoRoot, 'bin', 'slimtext.js');

test('slimtext --help lists commands and exits 0', () => {
  const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /commands:/);
});

test('an unknown command exits 2 with a clear message', () => {
  const r = spawnSync(process.execPath, [bin, 'nonsense'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'nonsense'/);
});

test('an unknown option exits 2 naming the option', () => {
  const r = spawnSync(process.execPath, [bin, 'tokenize', '--bogus'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bogus/);
});
