/**
 * Buffer recycling: the pool's own rules (exact sizes, whole buffers only, no double entries), and
 * the engine's use of it. Gradients of intermediate tensors and op-private scratch are recycled
 * after backward without changing any result; activations marked with releaseWithGraph are
 * recycled only once backward frees the op that made them, and never under retainGraph.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Linear, Rng, add, backward, gelu, linear, mse, mul, releaseWithGraph, sum, tanh, uniform, type Tensor,
} from '../../src/engine/index.js';
import { EncoderLayer } from '../../src/models/transformer/encoderLayer.js';
import { additiveMask } from '../../src/engine/index.js';
import { bufferPoolStats, clearBufferPool, giveBack, setBufferPoolLimit, takeBuffer, takeZeroed } from '../../src/engine/pool.js';
import { backendsUnderTest, withBackend } from './backendsUnderTest.js';

const BIG = 1 << 15; // above the pool's minimum size

test('the pool hands back exactly what it was given, once', () => {
  clearBufferPool();
  const a = new Float32Array(BIG);
  giveBack(a);
  giveBack(a); // a second give-back of the same buffer is ignored
  assert.equal(bufferPoolStats().pooledBytes, BIG * 4);
  assert.equal(takeBuffer(BIG), a);
  assert.notEqual(takeBuffer(BIG), a, 'taken once, then gone');
  // other sizes, views and small buffers are not pooled
  giveBack(new Float32Array(BIG + 16).subarray(16));
  giveBack(new Float32Array(64));
  assert.equal(bufferPoolStats().pooledBytes, 0);
  const b = new Float32Array(BIG).fill(3);
  giveBack(b);
  const z = takeZeroed(BIG, (n, x) => x.fill(0, 0, n));
  assert.equal(z, b);
  assert.ok(z.every((v) => v === 0), 'takeZeroed zeroes a recycled buffer');
  clearBufferPool();
});

/** x -> tanh(W2 gelu(W1 x + b1) + x) summed: big enough intermediates to go through the pool. */
function net(rng: Rng): { params: Tensor[]; loss: (x: Tensor) => Tensor } {
  const l1 = new Linear(64, 128, rng);
  const l2 = new Linear(128, 64, rng);
  return { params: [...l1.parameters(), ...l2.parameters()], loss: (x) => sum(mul(tanh(add(l2.forward(gelu(l1.forward(x))), x)), x)) };
}

for (const { name, backend } of backendsUnderTest) {
  describe(`buffer recycling on ${name}`, () => {
    test('gradients are the same with a cold and a warm pool, and across repeated steps', () => withBackend(backend, () => {
      const run = () => {
        const rng = new Rng(5);
        const { params, loss } = net(rng);
        const x = uniform([300, 64], rng, -1, 1, { requiresGrad: true });
        const grads: Float32Array[][] = [];
        for (let step = 0; step < 3; step++) {
          backward(loss(x));
          grads.push([x, ...params].map((p) => p.grad!.slice()));
          for (const p of [x, ...params]) p.zeroGrad();
        }
        return grads;
      };
      const off = withoutPool(run);
      clearBufferPool();
      const cold = run();
      assert.ok(bufferPoolStats().pooledBytes > 0, 'backward returned intermediate buffers to the pool');
      const warm = run();
      assert.deepEqual(cold, off);
      assert.deepEqual(warm, off);
      assert.deepEqual(cold[2], cold[0], 'every step computes the same gradients');
    }));

    test('a gradient an input adopted is not recycled while that input still needs it', () => withBackend(backend, () => {
      // add's backward gives c a copy of g and lets a adopt g itself; c's producer runs next and
      // takes a buffer of g's size for x2's gradient, which must not be g.
      const run = () => {
        const rng = new Rng(4);
        const [x1, x2, w1, w2] = [[300, 64], [300, 64], [64, 64], [64, 64]].map((s) => uniform(s, rng, -1, 1, { requiresGrad: true }));
        const a = linear(x1!, w1!);
        const c = linear(x2!, w2!);
        backward(sum(mul(add(a, c), uniform([300, 64], rng, -1, 1))));
        return [x1, x2, w1, w2].map((t) => t!.grad!.slice());
      };
      const off = withoutPool(run);
      clearBufferPool();
      assert.deepEqual(run(), off);
      assert.deepEqual(run(), off);
    }));

    test('an input used twice gets both gradients when the first adopts the output gradient', () => withBackend(backend, () => {
      const x = uniform([200, 100], new Rng(1), -1, 1, { requiresGrad: true });
      backward(sum(mul(add(x, x), x))); // d/dx sum(2x * x) = 4x
      const g = x.grad!;
      for (let i = 0; i < x.size; i += 997) assert.ok(Math.abs(g[i]! - 4 * x.data[i]!) < 1e-5);
    }));

    test('releaseWithGraph recycles a marked activation after backward, not before and not under retainGraph', () => withBackend(backend, () => {
      clearBufferPool();
      const rng = new Rng(2);
      const w = uniform([128, 64], rng, -0.1, 0.1, { requiresGrad: true });
      const x = uniform([256, 64], rng, -1, 1);
      const h = linear(x, w);
      const y = gelu(h);
      releaseWithGraph(h);
      const loss = sum(y);
      assert.equal(bufferPoolStats().pooledBytes, 0, 'nothing recycled during forward');
      backward(loss, { retainGraph: true });
      assert.ok(!poolHolds(h.data), 'kept while the graph is retained');
      backward(loss);
      assert.ok(poolHolds(h.data), 'recycled once backward freed the op that made it');
      clearBufferPool();
      const leaf = uniform([256, 128], rng, -1, 1);
      releaseWithGraph(leaf); // no recorded op: left alone
      backward(mse(linear(leaf, uniform([4, 128], rng, -1, 1, { requiresGrad: true })), uniform([256, 4], rng, -1, 1)));
      assert.ok(!poolHolds(leaf.data));
    }));

    test('an encoder layer trains the same with its activations recycled', () => withBackend(backend, () => {
      const step = () => {
        const rng = new Rng(9);
        // (B, T, H) = (4, 64, 64): every activation is big enough for the pool
        const layer = new EncoderLayer({ hiddenSize: 64, numHeads: 4, intermediateSize: 128 }, rng);
        const x = uniform([4, 64, 64], rng, -1, 1);
        const target = uniform([4, 64, 64], rng, -1, 1);
        const mask = additiveMask(new Int32Array(256).fill(1), [4, 64]);
        const losses: number[] = [];
        for (let s = 0; s < 4; s++) {
          const loss = mse(layer.forward(x, mask), target);
          losses.push(loss.item());
          backward(loss);
          for (const p of layer.parameters()) {
            p.data.set(p.data.map((v, i) => v - 0.05 * p.grad![i]!));
            p.zeroGrad();
          }
        }
        return losses;
      };
      const off = withoutPool(step);
      clearBufferPool();
      const cold = step();
      const warm = step();
      assert.deepEqual(cold, off);
      assert.deepEqual(warm, off);
      assert.ok(cold[3]! < cold[0]!, `loss falls: ${cold.join(', ')}`);
    }));
  });
}

/** fn's result with recycling switched off: the reference the pooled runs must match exactly. */
function withoutPool<T>(fn: () => T): T {
  clearBufferPool();
  const old = setBufferPoolLimit(0);
  try {
    return fn();
  } finally {
    setBufferPoolLimit(old);
  }
}

/** Whether `b` is currently in the pool (taking it out and putting it back). */
function poolHolds(b: Float32Array): boolean {
  const taken: Float32Array[] = [];
  let found = false;
  for (;;) {
    const before = bufferPoolStats().reused;
    const t = takeBuffer(b.length);
    if (bufferPoolStats().reused === before) break; // a fresh allocation: the list for this size is empty
    taken.push(t);
    if (t === b) found = true;
  }
  for (const t of taken) giveBack(t);
  return found;
}
