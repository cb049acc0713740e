import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensors, readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../src/io/safetensors.js';
import { InputError } from '../../src/errors.js';
import { repoRoot, sharedPath } from '../helpers.js';
import { pythonSkip, runReference } from '../reference/python.js';
import { withTempDir } from './tempDir.js';

const fixture = join(repoRoot, 'test', 'fixtures', 'python-dtypes.safetensors');


test('reads every dtype of a file written by numpy (test/reference/make_dtype_fixture.py)', async () => {
  const f = await readSafetensors(fixture);
  assert.deepEqual(f.metadata, { format: 'pt', writer: 'numpy st_io.py' });
  const get = (n: string): { dtype: string; shape: number[]; values: number[]; kind: string } => {
    const t = f.tensors.get(n);
    assert.ok(t, `tensor ${n}`);
    return { dtype: t.dtype, shape: t.shape, values: [...t.data], kind: t.data.constructor.name };
  };
  assert.deepEqual(get('f32'), { dtype: 'F32', shape: [2, 3], values: [-1, -0.5, 0, 0.5, 1, 1.5], kind: 'Float32Array' });
  assert.deepEqual(get('f16'), { dtype: 'F16', shape: [7], values: [1, -2.5, 65504, 2 ** -24, 2 ** -14, Infinity, -0], kind: 'Float32Array' });
  assert.deepEqual(get('bf16'), { dtype: 'BF16', shape: [2, 2], values: [1, -3.140625, 2 ** 100, -0], kind: 'Float32Array' });
  assert.deepEqual(get('f64'), { dtype: 'F64', shape: [2, 2], values: [1.5, -2.25, 0.125, 7], kind: 'Float32Array' });
  assert.deepEqual(get('i64'), { dtype: 'I64', shape: [4], values: [1, -2, 2 ** 31 - 1, -(2 ** 31)], kind: 'Int32Array' });
  assert.deepEqual(get('i32'), { dtype: 'I32', shape: [2], values: [7, -8], kind: 'Int32Array' });
  assert.deepEqual(get('u8'), { dtype: 'U8', shape: [2], values: [0, 255], kind: 'Int32Array' });
  assert.deepEqual(get('bool'), { dtype: 'BOOL', shape: [3], values: [1, 0, 1], kind: 'Int32Array' });
  assert.deepEqual(get('i8_odd'), { dtype: 'I8', shape: [3], values: [-128, 0, 127], kind: 'Int32Array' });
  assert.deepEqual(get('f32_after_odd'), { dtype: 'F32', shape: [3], values: [0.25, -4, 3], kind: 'Float32Array' });
  assert.deepEqual(get('empty'), { dtype: 'F32', shape: [0, 3], values: [], kind: 'Float32Array' });
  // An aligned F32 tensor is a view into the data section (138 bytes); tensors at offsets that are
  // not multiples of 4 (i32 at 110, f32_after_odd at 126) had to be copied, and say so.
  assert.equal(f.tensors.get('f32')!.data.buffer.byteLength, 138);
  assert.notEqual(f.tensors.get('f32_after_odd')!.data.buffer.byteLength, 138);
  assert.ok(f.notes.some((n) => n.includes("'f32_after_odd'") && n.includes('aligned')), f.notes.join('\n'));
  assert.ok(f.notes.some((n) => n.includes("'i32'") && n.includes('aligned')), f.notes.join('\n'));
  assert.ok(f.notes.some((n) => n.includes("'f16': F16 converted to float32")));
  assert.ok(!f.notes.some((n) => n.startsWith("'f32'")));
});

test('round trip: what is written is read back exactly, aligned, with metadata', withTempDir(async (dir) => {
  const path = join(dir, 'm.safetensors');
  const a = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e3);
  const codes = Uint8Array.from([1, 2, 3]); // 3 bytes: would misalign anything after it
  const ids = Int32Array.from([5, -6, 2 ** 31 - 1]);
  await writeSafetensors(path, { codes: { shape: [3], data: codes }, a: { shape: [3, 4], data: a }, ids: { shape: [3], data: ids } }, { format: 'slimtext', v: '1' });
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, 'header padded to 8 bytes');
  const h = await readSafetensorsHeader(path);
  // Larger elements first: 4-byte tensors, then the byte codes.
  assert.deepEqual([...h.tensors.keys()], ['a', 'ids', 'codes']);
  const f = await readSafetensors(path);
  assert.deepEqual(f.metadata, { format: 'slimtext', v: '1' });
  assert.deepEqual(f.tensors.get('a')!.data, a);
  assert.deepEqual(f.tensors.get('a')!.shape, [3, 4]);
  assert.deepEqual(f.tensors.get('ids')!.data, ids);
  assert.deepEqual([...f.tensors.get('codes')!.data], [1, 2, 3]);
  assert.ok(!f.notes.some((x) => x.includes('copied')), 'no copies needed for a file we wrote');
}));

test('F16 and BF16 writes round like numpy, and numpy reads our files', { skip: pythonSkip(['numpy']) }, withTempDir(async (dir) => {
  const path = join(dir, 'h.safetensors');
  // Random values over a wide range, plus edge cases: ties, subnormals, overflow, signed zero.
  let s = 12345;
  const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const vals = Array.from({ length: 400 }, () => (rnd() - 0.5) * 2 ** Math.floor(rnd() * 60 - 30));
  vals.push(1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 3 * 2 ** -26, 2 ** -24 * 1.5, 65504, 65520, 1e6, -1e-9, -0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38);
  const x = Float32Array.from(vals);
  await writeSafetensors(path, { x: { shape: [x.length], data: x }, h: { shape: [x.length], data: x, dtype: 'F16' }, b: { shape: [x.length], data: x, dtype: 'BF16' } }, { k: 'v' });
  const dump = JSON.parse(runReference('st_dump.py', [path])) as {
    metadata: Record<string, string>;
    tensors: Record<string, { dtype: string; values: Array<number | string>; as_f16?: Array<number | string>; as_bf16?: Array<number | string> }>;
  };
  assert.deepEqual(dump.metadata, { k: 'v' });
  const js = (a: ArrayLike<number>): Array<number | string> => Array.from(a, (v) => (Number.isFinite(v) ? v : String(v)));
  assert.deepEqual(dump.tensors.x!.values, js(x));
  assert.equal(dump.tensors.h!.dtype, 'F16');
  assert.ok(dump.tensors.h!.values.includes('Infinity'), 'the overflow case is in the data');
  assert.deepEqual(dump.tensors.h!.values, dump.tensors.x!.as_f16);
  assert.deepEqual(dump.tensors.b!.values, dump.tensors.x!.as_bf16);
  // And our reader decodes them to the same numbers numpy does.
  const f = await readSafetensors(path);
  assert.deepEqual(js(f.tensors.get('h')!.data), dump.tensors.h!.values);
  assert.deepEqual(js(f.tensors.get('b')!.data), dump.tensors.b!.values);
}));

/** Builds a file from a header object and a data section, bypassing the writer's checks. */
function rawFile(dir: string, header: unknown, data: Uint8Array, headerLen?: number): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerLen ?? json.length));
  const p = join(dir, 'bad.safetensors');
  writeFileSync(p, Buffer.concat([len, json, data]));
  return p;
}

test('inconsistent files are InputErrors naming the file and the tensor', withTempDir(async (dir) => {
  const f32 = (shape: number[], offs: number[]): unknown => ({ dtype: 'F32', shape, data_offsets: offs });
  const cases: Array<[string, () => string, RegExp]> = [
    ['truncated data', () => rawFile(dir, { w: f32([4], [0, 16]) }, new Uint8Array(8)), /'w'.*run past the end of the data section \(8 bytes/],
    ['size disagrees with shape', () => rawFile(dir, { w: f32([3], [0, 16]) }, new Uint8Array(16)), /'w'.*hold 16 bytes but F32 shape \[3\] needs 12/],
    ['overlap', () => rawFile(dir, { a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, new Uint8Array(12)), /'b'.*overlap tensor 'a'/],
    ['unknown dtype', () => rawFile(dir, { q: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /'q'.*dtype "F8_E4M3" is not supported/],
    ['bad shape', () => rawFile(dir, { s: f32([-1], [0, 0]) }, new Uint8Array(0)), /'s'.*shape/],
    ['header length past the end', () => rawFile(dir, {}, new Uint8Array(0), 1000), /header length 1000 exceeds/],
    ['not JSON', () => { const p = join(dir, 'j.safetensors'); const b = Buffer.alloc(12); b.writeBigUInt64LE(4n); b.write('{{{{', 8); writeFileSync(p, b); return p; }, /header is not JSON/],
    ['too short', () => { const p = join(dir, 's.safetensors'); writeFileSync(p, Buffer.alloc(3)); return p; }, /3 bytes/],
    ['i64 out of int32 range', () => { const b = Buffer.alloc(8); b.writeBigInt64LE(2n ** 40n); return rawFile(dir, { big: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, b); }, /'big'.*does not fit in int32/],
  ];
  for (const [what, make, re] of cases) {
    const p = make();
    await assert.rejects(readSafetensors(p), (e: unknown) => {
      assert.ok(e instanceof InputError, `${what}: ${String(e)}`);
      assert.ok(e.message.includes(p), `${what}: message names the file: ${e.message}`);
      assert.match(e.message, re, what);
      return true;
    });
  }
}));

test('the writer refuses data that does not match the shape', () => {
  assert.throws(() => encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } }), /'w'.*\[2, 2\] has 4 elements but the data has 3/);
  assert.throws(() => encodeSafetensors({ w: { shape: [1], data: new Int32Array(1), dtype: 'F16' } }), /cannot store Int32Array data as F16/);
});

const shared = sharedPath('models/bert-l4-h128-mlm/model.safetensors');
test('reads the shared PyTorch-made checkpoint without copying', { skip: shared.skip }, async () => {
  const f = await readSafetensors(shared.path!);
  assert.deepEqual(f.notes, []);
  assert.deepEqual(f.tensors.get('bert.embeddings.word_embeddings.weight')!.shape, [30522, 128]);
  assert.deepEqual(f.tensors.get('bert.encoder.layer.3.output.dense.weight')!.shape, [128, 512]);
  let total = 0;
  for (const t of f.tensors.values()) total += t.data.length;
  // The README's parameter count (4,813,242) is what the file stores (MLM head included, tied decoder not).
  assert.equal(total, 4_813_242);
});
