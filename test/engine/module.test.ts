/**
 * Modules: parameter names come from field names (nested modules, arrays by index), train/eval
 * reaches dropout, freezing, loading parameters by name, and seeded reproducibility: same seed and
 * backend, bit-identical training; another seed, different numbers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW, Dropout, Embedding, EmbeddingBag, LayerNorm, Linear, MLP, Module, Rng, Tensor, backward, crossEntropy,
} from '../../src/engine/index.js';
import { backendsUnderTest, withBackend } from './backendsUnderTest.js';

class Block extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  constructor(rng: Rng) {
    super();
    this.dense = new Linear(3, 3, rng);
    this.LayerNorm = new LayerNorm(3);
  }
}

class Model extends Module {
  readonly embeddings: Embedding;
  readonly layer: Block[];
  readonly shared: Linear;
  readonly alias: Linear;
  constructor(rng: Rng) {
    super();
    this.embeddings = new Embedding(10, 3, rng);
    this.layer = [new Block(rng), new Block(rng)];
    this.shared = new Linear(3, 2, rng, { bias: false });
    this.alias = this.shared; // the same module twice: its parameters are listed once
  }
}

describe('modules', () => {
  test('parameter names follow fields, arrays by index, shared parameters once', () => {
    const m = new Model(new Rng(0));
    assert.deepEqual(m.namedParameters().map(([n]) => n), [
      'embeddings.weight',
      'layer.0.dense.weight', 'layer.0.dense.bias', 'layer.0.LayerNorm.weight', 'layer.0.LayerNorm.bias',
      'layer.1.dense.weight', 'layer.1.dense.bias', 'layer.1.LayerNorm.weight', 'layer.1.LayerNorm.bias',
      'shared.weight',
    ]);
    assert.equal(m.namedParameters('bert')[0]![0], 'bert.embeddings.weight');
    assert.equal(m.parameterCount(), 30 + 2 * (9 + 3 + 3 + 3) + 6);
    assert.deepEqual(m.children().map(([n]) => n), ['embeddings', 'layer.0', 'layer.1', 'shared', 'alias']);
  });

  test('Linear weights are [out, in] as PyTorch stores them; BERT init is normal(0, std) with zero bias', () => {
    const l = new Linear(4, 3, new Rng(1), { std: 0.02 });
    assert.deepEqual(l.weight.shape, [3, 4]);
    assert.deepEqual(Array.from(l.bias!.data), [0, 0, 0]);
    assert.ok(l.weight.toArray().every((v) => Math.abs(v) < 0.2));
  });

  test('freeze and train/eval reach every sub-module', () => {
    const m = new Model(new Rng(0));
    m.layer[1]!.freeze();
    assert.equal(m.parameterCount(true), m.parameterCount() - 18);
    m.eval();
    assert.equal(m.layer[0]!.LayerNorm.training, false);
    m.train();
    assert.equal(m.layer[1]!.dense.training, true);
  });

  test('loadParameters copies by full name and names what is missing or mis-sized', () => {
    const m = new Model(new Rng(0));
    const src = new Model(new Rng(1));
    const byName = new Map(src.namedParameters().map(([n, p]) => [n, p.data]));
    assert.deepEqual(m.loadParameters((n) => byName.get(n)), []);
    assert.deepEqual(Array.from(m.layer[1]!.dense.weight.data), Array.from(src.layer[1]!.dense.weight.data));
    assert.throws(() => m.loadParameters((n) => (n === 'shared.weight' ? undefined : byName.get(n))), /loadParameters: missing parameters: shared.weight/);
    assert.deepEqual(m.loadParameters((n) => (n === 'shared.weight' ? undefined : byName.get(n)), { allowMissing: true }), ['shared.weight']);
    assert.throws(() => m.loadParameters(() => new Float32Array(2)), /loadParameters: embeddings.weight: 2 values given, parameter \[10, 3\] holds 30/);
  });
});

class Classifier extends Module {
  readonly emb: EmbeddingBag;
  readonly mlp: MLP;
  readonly drop: Dropout;
  constructor(rng: Rng) {
    super();
    this.emb = new EmbeddingBag(50, 8, rng, { dropIds: 0.2 });
    this.mlp = new MLP([8, 16, 3], rng, { dropout: 0.3, activation: 'gelu' });
    this.drop = new Dropout(0.1, rng);
  }
  forward(ids: Int32Array, offsets: Int32Array): Tensor {
    return this.mlp.forward(this.drop.forward(this.emb.forward(ids, offsets)));
  }
}

/** Five training steps with every kind of randomness on; returns losses and final parameters. */
function trainRun(seed: number): { losses: number[]; params: number[] } {
  const rng = new Rng(seed);
  const m = new Classifier(rng);
  const opt = new AdamW(m, { lr: 0.01 });
  const ids = Int32Array.from({ length: 40 }, (_, i) => (i * 7) % 50);
  const offsets = Int32Array.from([0, 10, 20, 30, 40]);
  const losses: number[] = [];
  for (let s = 0; s < 5; s++) {
    const loss = crossEntropy(m.forward(ids, offsets), [0, 1, 2, 1]);
    losses.push(loss.item());
    backward(loss);
    opt.step();
  }
  return { losses, params: m.parameters().flatMap((p) => p.toArray()) };
}

for (const { name, backend } of backendsUnderTest) {
  test(`same seed and backend give bit-identical training on ${name}; another seed differs`, () => withBackend(backend, () => {
    const a = trainRun(11);
    const b = trainRun(11);
    assert.deepEqual(a, b);
    const c = trainRun(12);
    assert.notDeepEqual(a.losses, c.losses);
  }));
}

test('Rng: a fixed stream per seed, uniform in range, normal moments', () => {
  const r = new Rng(42);
  const first = [r.nextU32(), r.nextU32(), r.nextU32()];
  // xoshiro128** seeded by splitmix32, checked against the reference C code: the stream must never
  // change, or saved seeds stop reproducing runs.
  assert.deepEqual(first, [2837322924, 544945897, 479756282]);
  const again = new Rng(42);
  assert.deepEqual([again.nextU32(), again.nextU32(), again.nextU32()], first);
  assert.notDeepEqual([new Rng(43).nextU32()], [first[0]]);
  const u = new Rng(1);
  let mean = 0, sq = 0;
  for (let i = 0; i < 20000; i++) {
    const x = u.next();
    assert.ok(x >= 0 && x < 1);
    const z = u.normal();
    mean += z;
    sq += z * z;
  }
  assert.ok(Math.abs(mean / 20000) < 0.03 && Math.abs(sq / 20000 - 1) < 0.05);
  const xs = [1, 2, 3, 4, 5, 6];
  u.shuffle(xs);
  assert.deepEqual([...xs].sort(), [1, 2, 3, 4, 5, 6]);
});
