/**
 * Frozen parameters cost nothing in backward: no gradient buffers, no backward kernel calls for
 * them, and no work at all below the lowest trainable parameter. Checked by counting kernel calls
 * through a wrapping backend.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/engine/backend.js';
import { LayerNorm, Linear, Module, Rng, Tensor, backward, mean, relu, uniform } from '../../src/engine/index.js';
import { backendsUnderTest, withBackend, wrapBackend } from './backendsUnderTest.js';

/** Wraps a backend, counting calls per kernel and recording layerNormBackward's null outputs. */
function counting(inner: Backend): { backend: Backend; calls: Map<string, number>; lnNulls: boolean[][] } {
  const calls = new Map<string, number>();
  const lnNulls: boolean[][] = [];
  const backend = wrapBackend(inner, (k, kernel) => (...args: unknown[]) => {
    calls.set(k, (calls.get(k) ?? 0) + 1);
    if (k === 'layerNormBackward') lnNulls.push(args.slice(7).map((a) => a === null));
    return kernel(...args);
  });
  return { backend, calls, lnNulls };
}

class Net extends Module {
  readonly first: Linear;
  readonly norm: LayerNorm;
  readonly second: Linear;
  constructor(rng: Rng) {
    super();
    this.first = new Linear(4, 8, rng);
    this.norm = new LayerNorm(8);
    this.second = new Linear(8, 3, rng);
  }
  forward(x: Tensor): Tensor {
    return this.second.forward(relu(this.norm.forward(this.first.forward(x))));
  }
}

for (const { name, backend: inner } of backendsUnderTest) {
  describe(`frozen parameters on ${name}`, () => {
    const x = uniform([5, 4], new Rng(1), -1, 1);

    test('all trainable: every parameter gets a gradient', () => {
      const c = counting(inner);
      withBackend(c.backend, () => {
        const net = new Net(new Rng(2));
        const loss = mean(net.forward(x));
        c.calls.clear();
        backward(loss);
        for (const [pname, p] of net.namedParameters()) assert.ok(p.grad, `${pname} has a gradient`);
        // dW2, dh (into relu), dW1; no dX for the input, which needs no gradient
        assert.equal(c.calls.get('gemm'), 3);
        assert.deepEqual(c.lnNulls, [[false, false, false]]);
      });
    });

    test('frozen prefix: no buffers and no backward kernels below the trainable head', () => {
      const c = counting(inner);
      withBackend(c.backend, () => {
        const net = new Net(new Rng(2));
        net.first.freeze();
        net.norm.freeze();
        const loss = mean(net.forward(x));
        c.calls.clear();
        backward(loss);
        assert.equal(net.first.weight.grad, undefined);
        assert.equal(net.first.bias!.grad, undefined);
        assert.equal(net.norm.weight.grad, undefined);
        assert.ok(net.second.weight.grad && net.second.bias!.grad);
        assert.equal(c.calls.get('gemm'), 1, 'only dW2');
        assert.equal(c.calls.get('unaryBackward'), undefined, 'relu below the head is not visited');
        assert.equal(c.calls.get('layerNormBackward'), undefined);
      });
    });

    test('a frozen LayerNorm between trainable layers passes dx but computes no dgamma/dbeta', () => {
      const c = counting(inner);
      withBackend(c.backend, () => {
        const net = new Net(new Rng(2));
        net.norm.freeze();
        backward(mean(net.forward(x)));
        assert.deepEqual(c.lnNulls, [[false, true, true]]);
        assert.equal(net.norm.weight.grad, undefined);
        assert.ok(net.first.weight.grad);
      });
    });

    test('everything frozen: backward says so instead of silently doing nothing', () => {
      withBackend(inner, () => {
        const net = new Net(new Rng(2)).freeze();
        assert.throws(() => backward(mean(net.forward(x))), /backward: .*requires grad/);
      });
    });
  });
}
