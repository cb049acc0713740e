/**
 * Optimisers against hand-computed steps (AdamW with decoupled decay and its no-decay rule, lazy
 * Adam on touched rows only, SGD dense/momentum/sparse), gradient clipping over dense and sparse
 * gradients, gradient accumulation, and learning-rate schedules, on every backend under test.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW, Parameter, SGD, Tensor, backward, clipGradNorm, embedding, mul, sum, tensor, warmupConstant, warmupDecay,
  constant, add,
} from '../../src/engine/index.js';
import { backendsUnderTest, withBackend } from './backendsUnderTest.js';

const close = (got: ArrayLike<number>, want: number[], tol = 1e-6) => {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)), `[${i}] ${got[i]} vs ${want[i]}`);
};

const param = (values: number[], name: string, shape = [values.length]) => new Parameter(Float32Array.from(values), shape, name);
/** Gives p the gradient g through the graph: loss = sum(p * g). */
const setGrad = (p: Tensor, g: number[]) => backward(sum(mul(p, tensor(g, p.shape as number[]))));

/** Scalar AdamW, written out from the paper, for comparison. */
function adamRef(p: number, gs: number[], lr: number, wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number {
  let m = 0, v = 0;
  gs.forEach((g, i) => {
    const t = i + 1;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    p -= lr * (m / (1 - b1 ** t) / (Math.sqrt(v / (1 - b2 ** t)) + eps) + wd * p);
  });
  return p;
}

for (const { name, backend } of backendsUnderTest) {
  describe(`optimisers on ${name}`, () => {
    test('AdamW: first step by hand, second against the scalar formula', () => withBackend(backend, () => {
      const p = param([1, -2], 'dense.weight');
      const opt = new AdamW([['dense.weight', p]], { lr: 0.1, weightDecay: 0.01 });
      setGrad(p, [0.5, 0.1]);
      opt.step();
      // m/(1-b1) = g, v/(1-b2) = g^2, so the step is lr * (sign(g) + wd * p)
      close(p.data, [1 - 0.1 * (1 + 0.01), -2 - 0.1 * (1 - 0.02)], 1e-6);
      setGrad(p, [-0.5, 0.2]);
      opt.step();
      close(p.data, [adamRef(1, [0.5, -0.5], 0.1, 0.01), adamRef(-2, [0.1, 0.2], 0.1, 0.01)], 1e-5);
    }));

    test('AdamW excludes biases and LayerNorm parameters from weight decay by name', () => withBackend(backend, () => {
      const named: [string, Parameter][] = [
        ['encoder.dense.weight', param([1, 1], 'weight')],
        ['encoder.dense.bias', param([1, 1], 'bias')],
        ['encoder.LayerNorm.weight', param([1, 1], 'weight')],
        ['encoder.LayerNorm.bias', param([1, 1], 'bias')],
      ];
      const opt = new AdamW(named, { lr: 0.5, weightDecay: 0.1 });
      for (const [, p] of named) setGrad(p, [0, 0]); // zero gradient: only decay can move a value
      opt.step();
      close(named[0]![1].data, [0.95, 0.95]);
      for (const [, p] of named.slice(1)) close(p.data, [1, 1]);
      assert.equal(opt.decays('cls.bias'), false);
      assert.equal(opt.decays('layer.0.output.layer_norm.weight'), false);
      assert.equal(opt.decays('embeddings.word_embeddings.weight'), true);
      const custom = new AdamW(named, { weightDecay: 0.1, noDecay: /embeddings/ });
      assert.equal(custom.decays('embeddings.word_embeddings.weight'), false);
      assert.equal(custom.decays('encoder.dense.bias'), true);
    }));

    test('lazy Adam updates only the rows a batch touched', () => withBackend(backend, () => {
      const table = param([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], 'weight', [6, 2]);
      const opt = new AdamW([['emb.weight', table]], { lr: 0.1, weightDecay: 0 });
      backward(sum(mul(embedding(table, [1, 4, 1]), tensor([1, -1, 1, 2, 3, 0], [3, 2]))));
      assert.equal(table.grad, undefined);
      assert.deepEqual([...table.sparseGrad!.ids], [1, 4]);
      opt.step();
      // row 1 grad (1+3, -1+0), row 4 grad (1, 2): each moves by -lr*sign(g) (g = 0 does not move)
      close(table.data, [0, 0, 0.9, 1.1, 2, 2, 3, 3, 3.9, 3.9, 5, 5]);
      // second step touches only row 2: rows 1 and 4 keep their values (no momentum applied to
      // them); row 2's fresh moments are bias-corrected with the table's step count, 2 (as
      // PyTorch's SparseAdam does)
      backward(sum(embedding(table, [2])));
      opt.step();
      const row2 = 2 - (0.1 * (0.1 / (1 - 0.9 ** 2))) / (Math.sqrt(0.001 / (1 - 0.999 ** 2)) + 1e-8);
      close(table.data, [0, 0, 0.9, 1.1, row2, row2, 3, 3, 3.9, 3.9, 5, 5]);
      assert.equal(table.sparseGrad!.count, 0, 'step consumed the sparse gradient');
    }));

    test('a table used densely and sparsely gets one combined update', () => withBackend(backend, () => {
      const table = param([1, 1, 1, 1], 'weight', [2, 2]);
      const opt = new SGD([['w', table]], { lr: 1 });
      const loss = add(sum(embedding(table, [1])), sum(mul(table, tensor([0.5, 0, 0, 0], [2, 2]))));
      backward(loss);
      assert.ok(table.grad && table.sparseGrad);
      opt.step();
      close(table.data, [0.5, 1, 0, 0]);
    }));

    test('SGD: plain, momentum and weight decay by hand; sparse rows only', () => withBackend(backend, () => {
      const p = param([1, 2], 'w');
      const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.5 });
      setGrad(p, [1, -1]);
      opt.step(); // d = g + wd p = (1.5, 0); buf = d; p -= 0.1 d
      close(p.data, [0.85, 2]);
      setGrad(p, [1, -1]);
      opt.step(); // d = (1 + 0.425, -1 + 1) = (1.425, 0); buf = 0.9 * (1.5, 0) + d = (2.775, 0)
      close(p.data, [0.85 - 0.2775, 2]);

      const table = param([1, 1, 1, 1, 1, 1], 'weight', [3, 2]);
      const sopt = new SGD([table], { lr: 0.5 });
      backward(sum(embedding(table, [2, 2])));
      sopt.step();
      close(table.data, [1, 1, 1, 1, 0, 0]);
    }));

    test('clipGradNorm clips dense and sparse gradients together', () => withBackend(backend, () => {
      const w = param([0, 0], 'w');
      const table = param([0, 0, 0, 0], 'weight', [4, 1]);
      setGrad(w, [3, 4]);
      backward(mul(sum(embedding(table, [2])), tensor([12], [])));
      const norm = clipGradNorm([w, table], 1);
      assert.ok(Math.abs(norm - 13) < 1e-5, `norm ${norm}`);
      close(w.grad!, [3 / 13, 4 / 13], 1e-5);
      close(table.sparseGrad!.rows, [12 / 13], 1e-5);
      assert.ok(Math.abs(clipGradNorm([w, table], 5) - 1) < 1e-5, 'already below: unchanged');
      w.grad![0] = NaN;
      assert.throws(() => clipGradNorm([w, table], 1), /clipGradNorm: gradient norm is NaN/);
    }));

    test('gradients accumulate over backward calls until step consumes them', () => withBackend(backend, () => {
      const p = param([1, 2, 3], 'w');
      const x = tensor([1, 2, 3]);
      backward(sum(mul(p, x)));
      backward(sum(mul(p, x)));
      close(p.grad!, [2, 4, 6]);
      const opt = new SGD([p], { lr: 0.1 });
      opt.step();
      close(p.data, [0.8, 1.6, 2.4]);
      close(p.grad!, [0, 0, 0]);
      // two half batches (loss / 2 each) give the full batch's gradient
      const full = param([1, 1], 'w');
      backward(sum(mul(full, tensor([1, 2, 3, 4], [2, 2]))));
      const acc = param([1, 1], 'w');
      backward(mul(sum(mul(acc, tensor([1, 2]))), tensor([1], [])));
      backward(mul(sum(mul(acc, tensor([3, 4]))), tensor([1], [])));
      close(acc.grad!, [...full.grad!]);
    }));

    test('keepGrads leaves gradients in place after step', () => withBackend(backend, () => {
      const p = param([1], 'w');
      const opt = new SGD([p], { lr: 1, keepGrads: true });
      setGrad(p, [2]);
      opt.step();
      close(p.grad!, [2]);
      opt.zeroGrad();
      close(p.grad!, [0]);
    }));
  });
}

describe('learning-rate schedules', () => {
  test('linear warm-up then linear decay, as Hugging Face defines it', () => {
    const s = warmupDecay({ peak: 1, warmupSteps: 4, totalSteps: 12 });
    close([0, 1, 2, 3, 4, 5, 8, 11, 12, 20].map(s), [0, 0.25, 0.5, 0.75, 1, 0.875, 0.5, 0.125, 0, 0]);
  });

  test('polynomial decay to an end value', () => {
    const s = warmupDecay({ peak: 1, warmupSteps: 0, totalSteps: 10, end: 0.1, power: 2 });
    close([0, 5, 10].map(s), [1, 0.1 + 0.9 * 0.25, 0.1]);
  });

  test('warm-up then constant; constant', () => {
    close([0, 1, 2, 3].map(warmupConstant(2, 2)), [0, 1, 2, 2]);
    assert.equal(constant(0.3)(100), 0.3);
  });

  test('bad schedule settings are OpErrors', () => {
    assert.throws(() => warmupDecay({ peak: 1, warmupSteps: 5, totalSteps: 2 }), /warmupDecay: needs/);
  });

  test('an optimiser uses schedule(k) for its k-th update', () => {
    const p = param([0], 'w');
    const opt = new SGD([p], { schedule: warmupDecay({ peak: 1, warmupSteps: 2, totalSteps: 4 }) });
    const used: number[] = [];
    for (let k = 0; k < 4; k++) {
      setGrad(p, [-1]);
      const before = p.data[0]!;
      opt.step();
      used.push(p.data[0]! - before);
      assert.equal(opt.lr, used[k]);
    }
    close(used, [0, 0.5, 1, 0.5]);
  });
});
