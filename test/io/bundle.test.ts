/** slimtext model bundles: round trip, commit-point replacement, and verified reads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_VERSION, MANIFEST_FILE, isBundle, readBundle, writeBundle, type BundleInput } from '../../src/io/bundle.js';
import { InputError } from '../../src/errors.js';

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'slimtext-bundle-'));
  process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  return d;
}

function input(scale = 1): BundleInput {
  const src = dir();
  writeFileSync(join(src, 'vocab.txt'), '[PAD]\n[UNK]\nhello\n');
  return {
    task: 'classify',
    architecture: { kind: 'test', layers: 2 },
    labels: ['neg', 'pos'],
    recipe: { lr: 0.001 },
    metrics: { dev: { accuracy: 0.5 } },
    notes: ['a note'],
    tensors: new Map([
      ['w', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6], (x) => x * scale) }],
      ['ids', { shape: [2], data: Int32Array.of(7, 8) }],
    ]),
    tokenizerFiles: [join(src, 'vocab.txt')],
    data: { 'responses.json': ['yes', 'no'] },
  };
}

test('a bundle round-trips tensors, manifest fields, tokenizer files and data files', async () => {
  const d = dir();
  assert.equal(isBundle(d), false);
  const m = await writeBundle(d, input());
  assert.equal(isBundle(d), true);
  assert.equal(m.version, BUNDLE_VERSION);
  assert.match(m.weights, /^model-[0-9a-f]{12}\.safetensors$/);
  const b = await readBundle(d);
  assert.deepEqual(b.manifest, m);
  assert.deepEqual(Array.from(b.tensors.get('w')!.data), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(b.tensors.get('w')!.shape, [2, 3]);
  assert.deepEqual(Array.from(b.tensors.get('ids')!.data), [7, 8]);
  assert.deepEqual(b.data('responses.json'), ['yes', 'no']);
  assert.equal(b.data('absent.json'), undefined);
  assert.equal(readFileSync(b.path('vocab.txt')!, 'utf8'), '[PAD]\n[UNK]\nhello\n');
  assert.match(b.path('vocab.txt')!, /vocab-[0-9a-f]{12}\.txt$/, 'every file is content-addressed');
  assert.deepEqual(m.tokenizer.files, ['vocab.txt']);
  assert.deepEqual(Object.keys(m.names!).sort(), ['model.safetensors', 'responses.json', 'vocab.txt']);
  assert.deepEqual(Object.keys(m.files).sort(), Object.values(m.names!).sort());
  assert.deepEqual(readdirSync(d).sort(), [...Object.keys(m.files), MANIFEST_FILE].sort());
});

test('saving again replaces the bundle whole: new weights file, the old one removed after the manifest', async () => {
  const d = dir();
  const first = await writeBundle(d, input(1));
  const second = await writeBundle(d, input(2));
  assert.notEqual(first.weights, second.weights);
  assert.ok(!existsSync(join(d, first.weights)));
  assert.deepEqual(readdirSync(d).filter((f) => f.endsWith('.safetensors')), [second.weights]);
  assert.deepEqual(Array.from((await readBundle(d)).tensors.get('w')!.data), [2, 4, 6, 8, 10, 12]);
  assert.ok(!readdirSync(d).some((f) => f.endsWith('.tmp')), 'no temporary files left');
});

test('a file that does not match the manifest is an error naming it', async () => {
  const d = dir();
  const m = await writeBundle(d, input());
  const vocab = join(d, m.names!['vocab.txt']!);
  writeFileSync(vocab, '[PAD]\n[UNK]\nbye\n');
  await assert.rejects(readBundle(d), (e: unknown) => e instanceof InputError && e.file === vocab && /SHA-256 differs/.test(e.message));
  rmSync(vocab);
  await assert.rejects(readBundle(d), /vocab-[0-9a-f]{12}\.txt: listed in slimtext\.json but missing/);
  await writeBundle(d, input());
  const weights = join(d, m.weights);
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(weights, bytes);
  await assert.rejects(readBundle(d), /size or SHA-256 differs/);
});

test('manifests from a newer slimtext, of another format, or not bundles at all are clear errors', async () => {
  const d = dir();
  await writeBundle(d, input());
  const path = join(d, MANIFEST_FILE);
  const m = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...m, version: BUNDLE_VERSION + 1 }));
  await assert.rejects(readBundle(d), /\(field 'version'\): version 3 was written by a newer slimtext/);
  writeFileSync(path, JSON.stringify({ ...m, format: 'other' }));
  await assert.rejects(readBundle(d), /\(field 'format'\)/);
  const hf = dir();
  writeFileSync(join(hf, 'config.json'), '{}');
  await assert.rejects(readBundle(hf), /a Hugging Face checkpoint, not a slimtext model.*slimtext finetune/);
  await assert.rejects(readBundle(dir()), /not a slimtext model folder/);
});

test('a version 1 bundle (plain file names) still loads, and saving over it removes its old files', async () => {
  const d = dir();
  const m = await writeBundle(d, input());
  // Rewrite it as version 1 did: fixed names, no `names` map.
  const files: Record<string, unknown> = {};
  for (const [name, stored] of Object.entries(m.names!)) {
    const plain = name === 'model.safetensors' ? m.weights : name;
    if (plain !== stored) writeFileSync(join(d, plain), readFileSync(join(d, stored)));
    if (plain !== stored) rmSync(join(d, stored));
    files[plain] = m.files[stored];
  }
  const { names: _names, ...rest } = m;
  writeFileSync(join(d, MANIFEST_FILE), JSON.stringify({ ...rest, version: 1, files }));
  const b = await readBundle(d);
  assert.equal(b.path('vocab.txt'), join(d, 'vocab.txt'));
  assert.deepEqual(b.data('responses.json'), ['yes', 'no']);
  await writeBundle(d, input(3));
  assert.ok(!existsSync(join(d, 'vocab.txt')) && !existsSync(join(d, 'responses.json')), 'the old fixed-name files are removed after the commit');
});

test('stale temporary files of killed writers and leftovers of killed saves are removed by the next save', async () => {
  const d = dir();
  await writeBundle(d, input());
  writeFileSync(join(d, '.model-0123456789ab.safetensors.999999.deadbeef.tmp'), 'x'); // pid 999999: not running
  writeFileSync(join(d, 'vocab-0123456789ab.txt'), 'left by a killed save');
  writeFileSync(join(d, 'notes.md'), 'the user\'s own file');
  const m = await writeBundle(d, input(2));
  assert.deepEqual(readdirSync(d).sort(), [...Object.keys(m.files), MANIFEST_FILE, 'notes.md'].sort());
});

test('a tokenizer file copied from another bundle keeps its logical name; a look-alike name is kept as it is', async () => {
  const a = dir();
  const first = await writeBundle(a, input());
  const stored = first.names!['vocab.txt']!;
  assert.match(stored, /^vocab-[0-9a-f]{12}\.txt$/);
  const b = dir();
  const src = dir();
  // Named like a stored file, but the hex is not its own hash: an ordinary file name.
  writeFileSync(join(src, 'merges-0123456789ab.txt'), 'a b\n');
  const second = await writeBundle(b, { ...input(), tokenizerFiles: [join(a, stored), join(src, 'merges-0123456789ab.txt')] });
  assert.deepEqual(second.tokenizer.files, ['vocab.txt', 'merges-0123456789ab.txt']);
  assert.equal(readFileSync(join(b, second.names!['vocab.txt']!), 'utf8'), '[PAD]\n[UNK]\nhello\n');
});
