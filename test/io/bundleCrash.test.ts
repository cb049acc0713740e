/**
 * Every save is all-or-nothing: a child process writes a bundle and is SIGKILLed right after its
 * k-th file operation (SLIMTEXT_CRASH_AFTER_OPS, the hook in io/atomic.ts), for every k until the
 * save completes. After each kill the folder must hold the old bundle whole or the new one whole
 * (a new folder: the new one whole or none), and the next save must succeed and leave no debris.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE, isBundle, readBundle, writeBundle } from '../../src/io/bundle.js';
import { crashInput } from './crashSave.js';
import { withTempDir } from './tempDir.js';

const child = join(fileURLToPath(new URL('.', import.meta.url)), 'crashSave.js');

function saveKilledAfter(k: number, dir: string, version: number, scratch: string): 'killed' | 'completed' {
  const r = spawnSync(process.execPath, [child, dir, String(version), scratch], { env: { ...process.env, SLIMTEXT_CRASH_AFTER_OPS: String(k) }, encoding: 'utf8' });
  if (r.signal === 'SIGKILL') return 'killed';
  assert.equal(r.status, 0, r.stderr);
  return 'completed';
}

/** Which version the folder holds, checking that it is whole (every file present and hash-checked). */
async function versionIn(dir: string): Promise<number | undefined> {
  if (!isBundle(dir)) return undefined;
  const b = await readBundle(dir);
  const v = (b.manifest.architecture as { version: number }).version;
  assert.deepEqual(Array.from(b.tensors.get('w')!.data), [1, 2, 3, 4].map((x) => x * v));
  assert.equal(readFileSync(b.path('vocab.txt')!, 'utf8'), `[PAD]\n[UNK]\nv${v}\n`);
  assert.deepEqual(b.data('trainer.json'), { version: v });
  return v;
}

function assertNoDebris(dir: string, files: Record<string, unknown>): void {
  assert.deepEqual(readdirSync(dir).sort(), [...Object.keys(files), MANIFEST_FILE].sort());
}

for (const existing of [true, false]) {
  test(`a save killed after any file operation leaves ${existing ? 'the old bundle or the new one' : 'the new bundle or none'}, whole`, withTempDir(async (tmp) => {
    const scratch = join(tmp, 'scratch');
    let k = 1;
    const seen = new Set<number | undefined>();
    for (; k < 500; k++) {
      const dir = join(tmp, `b${k}`);
      if (existing) await writeBundle(dir, crashInput(1, scratch));
      const outcome = saveKilledAfter(k, dir, 2, scratch);
      const v = await versionIn(dir);
      seen.add(v);
      assert.ok(existing ? v === 1 || v === 2 : v === undefined || v === 2, `killed after operation ${k}: folder holds ${String(v)}`);
      // The next save over whatever was left must work and leave only the new bundle's files.
      const m = await writeBundle(dir, crashInput(3, scratch));
      assert.equal(await versionIn(dir), 3);
      assertNoDebris(dir, m.files);
      if (outcome === 'completed') break;
    }
    assert.ok(k > 10 && k < 500, `the save took ${k} file operations`);
    // Kills before the commit keep the old state; kills after it show the new one.
    assert.deepEqual([...seen].sort(), existing ? [1, 2] : [2, undefined]);
    assert.ok(!existsSync(join(tmp, `b${k + 1}`)));
  }));
}
