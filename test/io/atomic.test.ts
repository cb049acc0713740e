import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeFileAtomic, writeFileAtomicSync, writeStreamAtomic } from '../../src/io/atomic.js';
import { withTempDir } from './tempDir.js';


test('writes buffers, strings and chunk lists, replacing the old file and leaving no temp file', withTempDir(async (dir) => {
  const p = join(dir, 'out.bin');
  writeFileSync(p, 'old contents');
  await writeFileAtomic(p, Uint8Array.from([1, 2, 3]));
  assert.deepEqual([...readFileSync(p)], [1, 2, 3]);
  await writeFileAtomic(p, ['a', Buffer.from('b'), new Uint8Array(0), 'c']);
  assert.equal(readFileSync(p, 'utf8'), 'abc');
  writeFileAtomicSync(p, 'sync');
  assert.equal(readFileSync(p, 'utf8'), 'sync');
  assert.deepEqual(readdirSync(dir), ['out.bin']);
}));

test('streams: a Readable and a generator are written whole', withTempDir(async (dir) => {
  const p = join(dir, 's.txt');
  await writeStreamAtomic(p, Readable.from(['x', 'y', 'z'].map((s) => Buffer.from(s.repeat(100_000)))));
  assert.equal(readFileSync(p, 'utf8'), 'x'.repeat(100_000) + 'y'.repeat(100_000) + 'z'.repeat(100_000));
  async function* gen(): AsyncIterable<string> {
    yield 'one\n';
    yield 'two\n';
  }
  await writeStreamAtomic(p, gen());
  assert.equal(readFileSync(p, 'utf8'), 'one\ntwo\n');
}));

test('a source that fails part-way leaves the old file untouched and removes the temp file', withTempDir(async (dir) => {
  const p = join(dir, 'model.safetensors');
  writeFileSync(p, 'the previous checkpoint');
  async function* failing(): AsyncIterable<Uint8Array> {
    yield new Uint8Array(1000);
    throw new Error('disk full (simulated)');
  }
  await assert.rejects(writeStreamAtomic(p, failing()), /disk full/);
  assert.equal(readFileSync(p, 'utf8'), 'the previous checkpoint');
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  function* failingSync(): Iterable<string> {
    yield 'partial';
    throw new Error('boom');
  }
  assert.throws(() => writeFileAtomicSync(p, failingSync()), /boom/);
  assert.equal(readFileSync(p, 'utf8'), 'the previous checkpoint');
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
}));

test('a missing folder is an error, not a stray file elsewhere', withTempDir(async (dir) => {
  await assert.rejects(writeFileAtomic(join(dir, 'no', 'such', 'f'), 'x'), { code: 'ENOENT' });
}));
