/**
 * The ops that fuse what used to be compositions (linear with its bias, multi-head attention on the
 * (B, T, h*d) layout, the residual join dropout + add + layer norm, mse) against those compositions,
 * forward and every input gradient, on every backend; plus a finite-difference check of each.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng, add, additiveMask, attention, backward, dropout, gradcheck, layerNorm, linear, matmul, mean, mergeHeads, mse,
  mul, multiHeadAttention, residualLayerNorm, splitHeads, square, sub, sum, uniform, type Tensor,
} from '../../src/engine/index.js';
import { OpError } from '../../src/errors.js';
import { backendsUnderTest, withBackend } from './backendsUnderTest.js';

interface Case {
  name: string;
  inputs: (rng: Rng) => Tensor[];
  fused: (xs: Tensor[]) => Tensor;
  composed: (xs: Tensor[]) => Tensor;
}

const U = (shape: number[], lo = -1, hi = 1) => (rng: Rng) => uniform(shape, rng, lo, hi, { requiresGrad: true });
const many = (...fs: ((rng: Rng) => Tensor)[]) => (rng: Rng) => fs.map((f) => f(rng));

const mask23 = () => additiveMask([1, 1, 0, 1, 1, 1], [2, 3]);

const cases: Case[] = [
  {
    name: 'linear with bias = matmul(x, W^T) + b',
    inputs: many(U([2, 3, 4]), U([5, 4]), U([5])),
    fused: ([x, w, b]) => linear(x!, w!, b!),
    composed: ([x, w, b]) => add(matmul(x!, w!, { transB: true }), b!),
  },
  {
    name: 'multiHeadAttention = mergeHeads(attention(splitHeads(...))) with mask',
    inputs: many(U([2, 3, 6]), U([2, 3, 6]), U([2, 3, 4])),
    fused: ([q, k, v]) => multiHeadAttention(q!, k!, v!, 2, { mask: mask23() }),
    composed: ([q, k, v]) => mergeHeads(attention(splitHeads(q!, 2), splitHeads(k!, 2), splitHeads(v!, 2), { mask: mask23() })),
  },
  {
    name: 'multiHeadAttention with dropout, Tq != Tk, one tensor as k and v',
    inputs: many(U([1, 2, 6]), U([1, 4, 6])),
    fused: ([q, kv]) => multiHeadAttention(q!, kv!, kv!, 3, { dropout: 0.3, seed: 11 }),
    composed: ([q, kv]) => mergeHeads(attention(splitHeads(q!, 3), splitHeads(kv!, 3), splitHeads(kv!, 3), { dropout: 0.3, seed: 11 })),
  },
  {
    name: 'multiHeadAttention self-attention (q = k = v)',
    inputs: many(U([2, 3, 4])),
    fused: ([x]) => multiHeadAttention(x!, x!, x!, 2, { mask: mask23() }),
    composed: ([x]) => mergeHeads(attention(splitHeads(x!, 2), splitHeads(x!, 2), splitHeads(x!, 2), { mask: mask23() })),
  },
  {
    name: 'residualLayerNorm = layerNorm(dropout(x) + r)',
    inputs: many(U([2, 3, 5]), U([2, 3, 5]), U([5], 0.5, 1.5), U([5])),
    fused: ([x, r, g, b]) => residualLayerNorm(x!, r!, g!, b!, 1e-5, { dropout: 0.25, seed: 3 }),
    composed: ([x, r, g, b]) => layerNorm(add(dropout(x!, 0.25, 3), r!), g!, b!, 1e-5),
  },
  {
    name: 'residualLayerNorm without dropout, x as its own residual',
    inputs: many(U([4, 6]), U([6], 0.5, 1.5), U([6])),
    fused: ([x, g, b]) => residualLayerNorm(x!, x!, g!, b!, 1e-5),
    composed: ([x, g, b]) => layerNorm(add(x!, x!), g!, b!, 1e-5),
  },
  {
    name: 'mse = mean((a - b)^2)',
    inputs: many(U([3, 5]), U([3, 5])),
    fused: ([a, b]) => mse(a!, b!),
    composed: ([a, b]) => mean(square(sub(a!, b!))),
  },
];

/** Output and every input gradient of sum(f(xs) * R) for a fixed random R. */
function run(c: Case, f: (xs: Tensor[]) => Tensor): { out: Float32Array; grads: Float32Array[] } {
  const xs = c.inputs(new Rng(42));
  const out = f(xs);
  backward(sum(mul(out, uniform([...out.shape], new Rng(7), -1, 1))));
  return { out: out.data.slice(), grads: xs.map((x) => x.grad!.slice()) };
}

function close(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  const scale = Math.max(...b.map(Math.abs), 1e-6);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * scale, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

for (const { name: bname, backend } of backendsUnderTest) {
  describe(`fused ops on ${bname}`, () => {
    for (const c of cases) {
      test(`${c.name}: same output and gradients`, () => withBackend(backend, () => {
        const want = run(c, c.composed);
        const got = run(c, c.fused);
        close(got.out, want.out, 'output');
        got.grads.forEach((g, i) => close(g, want.grads[i]!, `gradient ${i}`));
      }));

      test(`${c.name}: finite differences`, () => withBackend(backend, () => {
        const xs = c.inputs(new Rng(42));
        const r = gradcheck(() => c.fused(xs), xs);
        assert.ok(r.ok, `worst ${r.worst.toFixed(3)}\n${r.failures.join('\n')}`);
      }));
    }

    test('shape errors name the op and the shapes', () => withBackend(backend, () => {
      const t = (shape: number[]) => uniform(shape, new Rng(1), -1, 1);
      const opError = (f: () => unknown, re: RegExp) => assert.throws(f, (e) => e instanceof OpError && re.test(e.message));
      opError(() => multiHeadAttention(t([2, 3, 6]), t([2, 3, 4]), t([2, 3, 6]), 2), /^multiHeadAttention: expected .*k \[2, 3, 4\]/);
      opError(() => multiHeadAttention(t([1, 2, 6]), t([1, 2, 6]), t([1, 2, 6]), 4), /^multiHeadAttention: .*h = 4/);
      opError(() => residualLayerNorm(t([2, 3]), t([3, 2]), t([3]), t([3])), /^residualLayerNorm: x \[2, 3\] and residual \[3, 2\] shapes differ/);
      const q = t([1, 2, 3, 4]);
      opError(() => attention(q, q, q, { mask: t([2, 1, 1, 3]) }), /^attention: mask \[2, 1, 1, 3\] does not broadcast to the scores' shape \[1, 2, 3, 3\]/);
    }));
  });
}
