import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/errors.js';
import { countTransferTexts, loadTransferTexts } from '../../../src/train/distill/corpus.js';

test('augment:N:SPEC streams the same augmented variants on every read, after nothing else', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtext-aug-'));
  try {
    const file = join(dir, 'train.txt');
    const lines = ['book a flight to boston tomorrow morning', 'what is the weather like in paris today', 'play some relaxing jazz music for me please'];
    writeFileSync(file, lines.join('\n') + '\n');
    const spec = `augment:4:${file}`;
    const a = await loadTransferTexts([spec]);
    const b = await loadTransferTexts([file, spec]);
    assert.deepEqual(b.slice(0, 3), lines);
    assert.deepEqual(b.slice(3), a); // deterministic: a labelling run can resume over it
    assert.ok(a.length >= 6 && a.length <= 12, `${a.length} variants`);
    for (const t of a) assert.ok(!lines.includes(t));
    assert.equal(await countTransferTexts([spec]), a.length);
    await assert.rejects(loadTransferTexts([`augment:0:${file}`]), (e: unknown) => e instanceof InputError && /augment:N:SPEC/.test(e.message));
    await assert.rejects(loadTransferTexts([`augment:x:${file}`]), InputError);
    await assert.rejects(loadTransferTexts([`augment:2:${join(dir, 'missing.txt')}`]), /missing\.txt/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
