/**
 * End-to-end learning on small synthetic tasks, on every backend under test: a 2-layer MLP learns
 * XOR-like quadrants, and an embedding-bag (DAN-style) classifier learns topics from bags of word
 * ids with lazy Adam on the table. Loss must fall and held-out accuracy exceed 95%.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW, EmbeddingBag, IntTensor, Linear, MLP, Module, Rng, Tensor, backward, crossEntropy, noGrad,
} from '../../src/engine/index.js';
import { backendsUnderTest, withBackend } from './backendsUnderTest.js';

function argmaxRows(t: Tensor): number[] {
  const [rows, cols] = t.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < cols; c++) if (t.data[r * cols + c]! > t.data[r * cols + best]!) best = c;
    return best;
  });
}

function accuracy(logits: Tensor, labels: Int32Array): number {
  return argmaxRows(logits).filter((p, i) => p === labels[i]).length / labels.length;
}

// Points in [-1, 1]^2 away from the axes; class 1 iff x*y > 0 (not linearly separable).
function quadrants(n: number, rng: Rng): { x: Tensor; y: Int32Array } {
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = (0.1 + 0.9 * rng.next()) * (rng.next() < 0.5 ? -1 : 1);
    const b = (0.1 + 0.9 * rng.next()) * (rng.next() < 0.5 ? -1 : 1);
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = a * b > 0 ? 1 : 0;
  }
  return { x: new Tensor(x, [n, 2]), y };
}

// Documents of 10 word ids: 3 from their topic's 20 words, 7 from 900 noise words.
function topics(n: number, rng: Rng): { ids: Int32Array; offsets: Int32Array; y: Int32Array } {
  const ids = new Int32Array(n * 10);
  const offsets = new Int32Array(n + 1);
  const y = new Int32Array(n);
  for (let d = 0; d < n; d++) {
    const topic = rng.int(4);
    y[d] = topic;
    for (let j = 0; j < 10; j++) ids[d * 10 + j] = j < 3 ? topic * 20 + rng.int(20) : 100 + rng.int(900);
    rng.shuffle(ids.subarray(d * 10, d * 10 + 10));
    offsets[d + 1] = (d + 1) * 10;
  }
  return { ids, offsets, y };
}

class Dan extends Module {
  readonly emb: EmbeddingBag;
  readonly out: Linear;
  constructor(rng: Rng) {
    super();
    this.emb = new EmbeddingBag(1000, 16, rng, { dropIds: 0.1 });
    this.out = new Linear(16, 4, rng);
  }
  forward(ids: Int32Array, offsets: Int32Array): Tensor {
    return this.out.forward(this.emb.forward(ids, offsets));
  }
}

for (const { name, backend } of backendsUnderTest) {
  describe(`training on ${name}`, () => {
    test('a 2-layer MLP learns quadrants (loss falls, accuracy > 95%)', () => withBackend(backend, () => {
      const rng = new Rng(5);
      const train = quadrants(256, rng);
      const held = quadrants(200, rng);
      const mlp = new MLP([2, 32, 2], rng, { activation: 'relu' });
      const opt = new AdamW(mlp, { lr: 0.03, weightDecay: 0 });
      const losses: number[] = [];
      for (let step = 0; step < 150; step++) {
        const loss = crossEntropy(mlp.forward(train.x), train.y);
        losses.push(loss.item());
        backward(loss);
        opt.step();
      }
      assert.ok(losses.at(-1)! < 0.3 * losses[0]!, `loss ${losses[0]} -> ${losses.at(-1)}`);
      const acc = noGrad(() => accuracy(mlp.eval().forward(held.x), held.y));
      assert.ok(acc > 0.95, `held-out accuracy ${acc}`);
    }));

    test('an embedding-bag classifier learns topics with lazy Adam (accuracy > 95%)', () => withBackend(backend, () => {
      const rng = new Rng(9);
      const model = new Dan(rng);
      const opt = new AdamW(model, { lr: 0.05, weightDecay: 0 });
      const held = topics(200, rng);
      const losses: number[] = [];
      for (let step = 0; step < 120; step++) {
        const b = topics(32, rng);
        const loss = crossEntropy(model.forward(b.ids, b.offsets), new IntTensor(b.y));
        losses.push(loss.item());
        backward(loss);
        // The table's gradient is sparse: only this batch's ids, never a dense vocab x dim buffer.
        assert.equal(model.emb.weight.grad, undefined);
        assert.ok(model.emb.weight.sparseGrad!.count <= 320);
        opt.step();
      }
      const first = losses.slice(0, 10).reduce((s, v) => s + v) / 10;
      const last = losses.slice(-10).reduce((s, v) => s + v) / 10;
      assert.ok(last < 0.3 * first, `loss ${first} -> ${last}`);
      model.eval();
      const acc = noGrad(() => accuracy(model.forward(held.ids, held.offsets), held.y));
      assert.ok(acc > 0.95, `held-out accuracy ${acc}`);
    }));
  });
}
