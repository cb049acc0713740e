/** Weights shared between threads: the kernels take SharedArrayBuffer-backed arrays as they are, and a scope shares only what it may. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Parameter, Rng, inferKernels, isSharedWeight, sharedDerivedArray, sharedFileArray, withSharedWeights } from '../../src/engine/index.js';
import { realBackends } from './backendsUnderTest.js';

function filled(n: number, seed: number, shared: boolean): Float32Array {
  const a = new Float32Array(shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
  new Rng(seed).fillUniform(a, -1, 1);
  return a;
}

test('every backend computes the same GEMM and packed GEMM on SharedArrayBuffer-backed weights as on plain ones', () => {
  assert.ok(realBackends.length > 0);
  const [M, N, K] = [5, 24, 16];
  for (const { name, backend: be } of realBackends) {
    const x = filled(M * K, 1, false);
    const outs = [false, true].map((shared) => {
      const w = filled(N * K, 2, shared);
      const y = new Float32Array(M * N);
      be.gemm(false, true, M, N, K, 1, x, K, 0, w, K, 0, 0, y, N, 0, 1);
      return y;
    });
    assert.deepEqual(outs[1], outs[0], `${name}: gemm`);
    const k = inferKernels(be);
    if (k.f32Pack && k.f32GemmPacked) {
      const packed = [false, true].map((shared) => {
        const w = filled(N * K, 2, shared);
        const p = new Float32Array(shared ? new SharedArrayBuffer(w.length * 8) : new ArrayBuffer(w.length * 8)).subarray(0, w.length * 2);
        k.f32Pack!(N, K, w, p);
        const y = new Float32Array(M * N);
        k.f32GemmPacked!(M, N, K, x, p, null, y);
        return y;
      });
      assert.deepEqual(packed[1], packed[0], `${name}: packed gemm`);
    }
  }
});

test('a sharing scope: file arrays are shared and adopted by name; derived ones only when every source is shared', async () => {
  const file = filled(64, 3, false);
  // Outside a scope nothing changes.
  assert.equal(sharedFileArray('sha', 'w', file), file);
  let fills = 0;
  const first = await withSharedWeights(undefined, async () => {
    const w = sharedFileArray('sha', 'w', file);
    assert.ok(w.buffer instanceof SharedArrayBuffer && w !== file);
    assert.deepEqual(w, file);
    assert.ok(isSharedWeight(w) && !isSharedWeight(file));
    const d = sharedDerivedArray('double', [w], Float32Array, 64, (a) => {
      fills++;
      a.set(w.map((v) => 2 * v));
    });
    const own = sharedDerivedArray('double', [file], Float32Array, 64, (a) => a.set(file));
    assert.ok(!(own.buffer instanceof SharedArrayBuffer), 'a source that is not shared gives a plain array');
    const p = new Parameter(new Float32Array(64), [8, 8], 'weight');
    p.load(w);
    assert.equal(p.data, w, 'a parameter uses a shared weight as its storage');
    return d;
  });
  assert.equal(first.weights.size, 2);
  assert.equal(first.stats.madeBytes, 2 * 64 * 4);
  const second = await withSharedWeights(first.weights, async () => {
    const w = sharedFileArray('sha', 'w', filled(64, 3, false));
    const d = sharedDerivedArray('double', [w], Float32Array, 64, () => fills++);
    const other = sharedFileArray('sha2', 'w', filled(64, 4, false));
    return { w, d, other };
  });
  assert.equal(fills, 1, 'the derived array was not computed again');
  assert.equal(second.value.d, first.value, 'the same array, not a copy');
  assert.equal(second.value.w, first.weights.get('sha/w'));
  assert.deepEqual(second.stats, { adoptedBytes: 2 * 64 * 4, madeBytes: 64 * 4 }, 'another file is not taken for this one');
  // Outside the scope again, parameters copy.
  const p = new Parameter(new Float32Array(64), [8, 8], 'weight');
  p.load(second.value.w);
  assert.notEqual(p.data, second.value.w);
  await assert.rejects(withSharedWeights(undefined, () => withSharedWeights(undefined, async () => 1)), /already open/);
});
