/**
 * Every op's backward against finite differences, on every backend under test (the reference and
 * each real backend that loads), including broadcasting, transposed and batched products, masked
 * attention, sparse embedding gradients, KL with temperature and dropout with a fixed seed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UnaryOp } from '../../src/engine/backend.js';
import { Rng, add, backward, embedding, embeddingBag, gelu, gradcheck, sum, tanh, uniform } from '../../src/engine/index.js';
import { backendsUnderTest, withBackend, wrapBackend } from './backendsUnderTest.js';
import { cases } from './opCases.js';

for (const { name: bname, backend } of backendsUnderTest) {
  describe(`gradcheck on ${bname}`, () => {
    for (const c of cases) {
      test(c.name, () => withBackend(backend, () => {
        const xs = c.inputs(new Rng(42));
        const r = gradcheck(() => c.f(xs), xs);
        assert.ok(r.ok, `${c.name}: worst ${r.worst.toFixed(3)}, skipped ${r.skipped}/${r.checked}\n${r.failures.join('\n')}`);
        assert.ok(r.checked > 0);
        if (process.env.GRADCHECK_VERBOSE) console.log(c.name, r.worst.toFixed(3), r.skipped, r.checked);
      }));
    }

    test('embedding gradients stay sparse: coalesced ids, no dense buffer', () => withBackend(backend, () => {
      const t = uniform([1000, 4], new Rng(1), -1, 1, { requiresGrad: true });
      const out = embedding(t, [5, 7, 5, 999, 5]);
      const bag = embeddingBag(t, [7, 3, 3], [0, 1, 3]);
      const loss = add(sum(out), sum(bag));
      backward(loss);
      assert.equal(t.grad, undefined);
      const sg = t.sparseGrad!;
      assert.equal(sg.count, 4);
      const byId = new Map([...sg.ids].map((id, r) => [id, [...sg.rows.subarray(r * 4, r * 4 + 4)]]));
      // id 5 three times in the lookup; 7 once there and as a whole bag; 3 twice in a bag of two
      assert.deepEqual(byId, new Map([[5, [3, 3, 3, 3]], [7, [2, 2, 2, 2]], [999, [1, 1, 1, 1]], [3, [1, 1, 1, 1]]]));
    }));

    test('gradcheck catches a 1% error in a backward kernel', () => {
      const broken = wrapBackend(backend, (k) => k !== 'unaryBackward' ? undefined : (...args: unknown[]) => {
        const [op, n, x, y, dy, dx] = args as [UnaryOp, number, Float32Array, Float32Array, Float32Array, Float32Array];
        const tmp = new Float32Array(n);
        backend.unaryBackward(op, n, x, y, dy, tmp);
        backend.axpby(n, op === UnaryOp.Tanh ? 1.01 : 1, tmp, 1, dx);
      });
      withBackend(broken, () => {
        const xs = [uniform([3, 4], new Rng(3), -1, 1, { requiresGrad: true })];
        assert.equal(gradcheck(() => tanh(xs[0]!), xs).ok, false);
        assert.equal(gradcheck(() => gelu(xs[0]!), xs).ok, true);
      });
    });
  });
}
