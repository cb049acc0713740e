/**
 * Tensor views and tape semantics: reshape/first-dim slices share memory, noGrad records nothing,
 * intermediate gradients are freed while leaf gradients accumulate, a tensor used twice gets both
 * gradients, retainGraph, and the error on a second backward through a freed graph.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor, IntTensor, add, backward, full, mul, noGrad, gradEnabled, ones, reshape, scale, slice, sum, tensor, zeros,
  tanh, matmul, randn, Rng,
} from '../../src/engine/index.js';
import { backendsUnderTest, withBackend } from './backendsUnderTest.js';

for (const { name, backend } of backendsUnderTest) {
  describe(`tensors and autograd on ${name}`, () => {
    test('reshape and first-dimension slices are views of the same memory', () => withBackend(backend, () => {
      const x = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
      const r = reshape(x, [2, 3]);
      const s = slice(x, 0, 1, 3);
      assert.equal(r.data.buffer, x.data.buffer);
      assert.equal(s.data.buffer, x.data.buffer);
      assert.deepEqual(s.toArray(), [3, 4, 5, 6]);
      x.data[2] = 30;
      assert.equal(r.data[2], 30);
      assert.equal(s.data[0], 30);
      assert.deepEqual(s.shape, [2, 2]);
    }));

    test('noGrad records nothing and nests', () => withBackend(backend, () => {
      const p = ones([2], { requiresGrad: true });
      const y = noGrad(() => {
        assert.equal(gradEnabled(), false);
        noGrad(() => undefined);
        assert.equal(gradEnabled(), false);
        return mul(p, p);
      });
      assert.equal(gradEnabled(), true);
      assert.equal(y.requiresGrad, false);
      assert.equal(y.node, undefined);
      assert.equal(mul(p, p).requiresGrad, true);
    }));

    test('ops on tensors that need no gradient record nothing', () => withBackend(backend, () => {
      const y = tanh(mul(tensor([1, 2]), tensor([3, 4])));
      assert.equal(y.node, undefined);
      assert.equal(y.requiresGrad, false);
    }));

    test('a tensor used twice receives both gradients; intermediates are freed, leaves kept', () => withBackend(backend, () => {
      const x = tensor([1, 2, 3], [3], { requiresGrad: true });
      const h = scale(x, 2);
      const loss = sum(add(mul(h, h), h)); // d/dx = (2h + 1) * 2
      backward(loss);
      assert.deepEqual(Array.from(x.grad!), [10, 18, 26]);
      assert.equal(h.grad, undefined, 'intermediate gradient freed');
      assert.throws(() => backward(loss), /backward: the graph through 'sum' was already backpropagated/);
    }));

    test('retainGraph allows a second backward, which accumulates', () => withBackend(backend, () => {
      const x = tensor([1, 2], [2], { requiresGrad: true });
      const loss = sum(mul(x, x));
      backward(loss, { retainGraph: true });
      backward(loss);
      assert.deepEqual(Array.from(x.grad!), [4, 8]);
    }));

    test('backward from a non-scalar output with an explicit gradient', () => withBackend(backend, () => {
      const a = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
      const y = matmul(a, tensor([1, 0, 0, 1], [2, 2]));
      backward(y, { gradient: new Float32Array([1, 2, 3, 4]) });
      assert.deepEqual(Array.from(a.grad!), [1, 2, 3, 4]);
    }));

    test('a deep chain backpropagates without recursion limits', () => withBackend(backend, () => {
      const x = tensor([0.5], [1], { requiresGrad: true });
      let h: Tensor = x;
      for (let i = 0; i < 20000; i++) h = scale(h, 1);
      backward(sum(h));
      assert.deepEqual(Array.from(x.grad!), [1]);
    }));

    test('creation helpers, detach, zeroGrad, IntTensor shapes', () => withBackend(backend, () => {
      assert.deepEqual(full([2], 3).toArray(), [3, 3]);
      assert.deepEqual(zeros([2, 0]).shape, [2, 0]);
      assert.equal(tensor([7], []).item(), 7);
      assert.throws(() => tensor([1, 2]).item(), /item: tensor of shape \[2\] has 2 elements/);
      const p = tensor([1, 2], [2], { requiresGrad: true });
      backward(sum(mul(p, p)));
      p.zeroGrad();
      assert.deepEqual(Array.from(p.grad!), [0, 0]);
      const d = mul(p, p).detach();
      assert.equal(d.requiresGrad, false);
      assert.throws(() => new IntTensor(new Int32Array(3), [2, 2]), /intTensor: data has 3 elements/);
      const a = randn([1000], new Rng(3));
      const m = a.toArray().reduce((s, v) => s + v) / 1000;
      assert.ok(Math.abs(m) < 0.15);
    }));
  });
}
