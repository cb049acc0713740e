/**
 * One list of op cases (inputs from a seeded Rng, and a function of them) shared by the gradient
 * checks and the cross-backend agreement test, so every op is covered the same way in both.
 */
import {
  Rng, Tensor, IntTensor, uniform, tensor,
  add, sub, mul, div, scale, addScalar, relu, tanh, gelu, exp, log, neg, sqrt, square, sigmoid, abs,
  matmul, linear, reshape, transpose, permute, slice, concat, sum, mean, softmax, logSoftmax, layerNorm,
  dropout, embedding, embeddingBag, attention, splitHeads, mergeHeads, additiveMask,
  crossEntropy, klDiv, mse, cosineSimilarity,
} from '../../src/engine/index.js';

export interface Case {
  name: string;
  /** Inputs, built fresh for each backend from a seeded Rng. */
  inputs: (rng: Rng) => Tensor[];
  f: (xs: Tensor[]) => Tensor;
}

const U = (shape: number[], lo = -1, hi = 1) => (rng: Rng) => uniform(shape, rng, lo, hi, { requiresGrad: true });
/** Values in +-[lo, hi]: away from zero, for abs/div denominators. */
const awayFromZero = (shape: number[], lo = 0.5, hi = 1.5) => (rng: Rng) => {
  const t = uniform(shape, rng, lo, hi, { requiresGrad: true });
  t.data.forEach((v, i) => { if (rng.next() < 0.5) t.data[i] = -v; });
  return t;
};
const many = (...makers: ((rng: Rng) => Tensor)[]) => (rng: Rng) => makers.map((m) => m(rng));

const unary: [string, (x: Tensor) => Tensor, (rng: Rng) => Tensor][] = [
  ['relu', relu, U([3, 5])], ['tanh', tanh, U([3, 5], -2, 2)], ['gelu', gelu, U([3, 5], -3, 3)],
  ['exp', exp, U([3, 5])], ['log', log, U([3, 5], 0.5, 2)], ['neg', neg, U([3, 5])],
  ['sqrt', sqrt, U([3, 5], 0.5, 2)], ['square', square, U([3, 5])], ['sigmoid', sigmoid, U([3, 5], -3, 3)],
  ['abs', abs, awayFromZero([3, 5])],
];

export const cases: Case[] = [
  // ---------------------------------------------------------------- element-wise, broadcasting
  { name: 'add same shape', inputs: many(U([3, 4]), U([3, 4])), f: ([a, b]) => add(a!, b!) },
  { name: 'add (3,4) + (4)', inputs: many(U([3, 4]), U([4])), f: ([a, b]) => add(a!, b!) },
  { name: 'add (2,1,4) + (3,1) -> (2,3,4)', inputs: many(U([2, 1, 4]), U([3, 1])), f: ([a, b]) => add(a!, b!) },
  { name: 'sub (3,1) - (1,4)', inputs: many(U([3, 1]), U([1, 4])), f: ([a, b]) => sub(a!, b!) },
  { name: 'mul (2,3,4) * (3,1)', inputs: many(U([2, 3, 4]), U([3, 1])), f: ([a, b]) => mul(a!, b!) },
  { name: 'mul (4) * (2,3,4)', inputs: many(U([4]), U([2, 3, 4])), f: ([a, b]) => mul(a!, b!) },
  { name: 'mul by itself', inputs: many(U([3, 4])), f: ([a]) => mul(a!, a!) },
  { name: 'div same shape', inputs: many(U([3, 4]), awayFromZero([3, 4])), f: ([a, b]) => div(a!, b!) },
  { name: 'div (2,3,4) / (4)', inputs: many(U([2, 3, 4]), awayFromZero([4])), f: ([a, b]) => div(a!, b!) },
  { name: 'div (3) / (2,3)', inputs: many(U([3]), awayFromZero([2, 3])), f: ([a, b]) => div(a!, b!) },
  { name: 'scale', inputs: many(U([3, 4])), f: ([a]) => scale(a!, -1.7) },
  { name: 'addScalar', inputs: many(U([3, 4])), f: ([a]) => mul(addScalar(a!, 0.3), a!) },
  ...unary.map(([name, op, mk]): Case => ({ name, inputs: many(mk), f: ([a]) => op(a!) })),

  // ---------------------------------------------------------------- matrix products
  { name: 'matmul (3,4)@(4,5)', inputs: many(U([3, 4]), U([4, 5])), f: ([a, b]) => matmul(a!, b!) },
  { name: 'matmul transA', inputs: many(U([4, 3]), U([4, 5])), f: ([a, b]) => matmul(a!, b!, { transA: true }) },
  { name: 'matmul transB', inputs: many(U([3, 4]), U([5, 4])), f: ([a, b]) => matmul(a!, b!, { transB: true }) },
  { name: 'matmul transA transB alpha', inputs: many(U([4, 3]), U([5, 4])), f: ([a, b]) => matmul(a!, b!, { transA: true, transB: true, alpha: 0.7 }) },
  { name: 'bmm (2,3,4)@(2,4,5)', inputs: many(U([2, 3, 4]), U([2, 4, 5])), f: ([a, b]) => matmul(a!, b!) },
  { name: 'bmm transA transB (2,2,...)', inputs: many(U([2, 2, 4, 3]), U([2, 2, 5, 4])), f: ([a, b]) => matmul(a!, b!, { transA: true, transB: true }) },
  { name: 'batched a @ shared b (folded)', inputs: many(U([2, 3, 4]), U([4, 5])), f: ([a, b]) => matmul(a!, b!) },
  { name: 'batched a @ shared b^T (folded)', inputs: many(U([2, 3, 4]), U([5, 4])), f: ([a, b]) => matmul(a!, b!, { transB: true }) },
  { name: 'batched a^T @ shared b', inputs: many(U([2, 4, 3]), U([4, 5])), f: ([a, b]) => matmul(a!, b!, { transA: true }) },
  { name: 'shared a @ batched b', inputs: many(U([3, 4]), U([2, 4, 5])), f: ([a, b]) => matmul(a!, b!) },
  { name: 'shared a^T @ batched b^T', inputs: many(U([4, 3]), U([2, 5, 4])), f: ([a, b]) => matmul(a!, b!, { transA: true, transB: true }) },
  { name: 'linear (2,3,4) W[5,4] + b', inputs: many(U([2, 3, 4]), U([5, 4]), U([5])), f: ([x, w, b]) => linear(x!, w!, b!) },

  // ---------------------------------------------------------------- layout
  { name: 'reshape', inputs: many(U([2, 6])), f: ([a]) => mul(reshape(a!, [3, -1]), tensor([1, 2, 3, 4], [1, 4])) },
  { name: 'transpose', inputs: many(U([2, 3, 4])), f: ([a]) => transpose(a!, 0, 2) },
  { name: 'permute', inputs: many(U([2, 3, 4, 5])), f: ([a]) => permute(a!, [2, 0, 3, 1]) },
  { name: 'slice axis 0 (view)', inputs: many(U([4, 3])), f: ([a]) => slice(a!, 0, 1, 3) },
  { name: 'slice axis 1', inputs: many(U([2, 5, 3])), f: ([a]) => slice(a!, 1, 1, 4) },
  { name: 'concat axis 0', inputs: many(U([2, 3]), U([1, 3])), f: ([a, b]) => concat([a!, b!], 0) },
  { name: 'concat axis -1 (same input twice)', inputs: many(U([2, 3]), U([2, 2])), f: ([a, b]) => concat([a!, b!, a!], -1) },

  // ---------------------------------------------------------------- reductions, row-wise
  { name: 'sum all', inputs: many(U([3, 4])), f: ([a]) => sum(mul(a!, a!)) },
  { name: 'sum axis 1', inputs: many(U([2, 3, 4])), f: ([a]) => sum(a!, 1) },
  { name: 'sum axes [0, 2] keepDims', inputs: many(U([2, 3, 4])), f: ([a]) => mul(sum(a!, [0, 2], { keepDims: true }), a!) },
  { name: 'mean axis -1', inputs: many(U([3, 4])), f: ([a]) => mean(a!, -1) },
  { name: 'softmax', inputs: many(U([3, 5], -2, 2)), f: ([a]) => softmax(a!) },
  { name: 'logSoftmax', inputs: many(U([3, 5], -2, 2)), f: ([a]) => logSoftmax(a!) },
  {
    name: 'layerNorm wrt x, gamma, beta',
    inputs: many(U([2, 3, 6], -2, 2), U([6], 0.5, 1.5), U([6])),
    f: ([x, g, b]) => layerNorm(x!, g!, b!, 1e-5),
  },
  { name: 'dropout p=0.3 (fixed seed)', inputs: many(U([4, 8])), f: ([a]) => dropout(a!, 0.3, 1234) },

  // ---------------------------------------------------------------- embeddings (sparse)
  { name: 'embedding (duplicate ids, sparse grad)', inputs: many(U([7, 3])), f: ([t]) => embedding(t!, new Int32Array([1, 4, 1, 6, 0, 1])) },
  { name: 'embedding 2-D ids', inputs: many(U([5, 4])), f: ([t]) => embedding(t!, new IntTensor(new Int32Array([0, 2, 2, 4]), [2, 2])) },
  { name: 'embedding of a computed table (dense grad)', inputs: many(U([5, 3])), f: ([t]) => embedding(scale(t!, 2), [3, 3, 0]) },
  {
    name: 'embeddingBag mean (with an empty bag)',
    inputs: many(U([9, 4])),
    f: ([t]) => embeddingBag(t!, new Int32Array([1, 2, 2, 8, 5, 1]), new Int32Array([0, 3, 3, 6])),
  },
  {
    name: 'embeddingBag with id dropout (fixed seed)',
    inputs: many(U([9, 4])),
    f: ([t]) => embeddingBag(t!, new Int32Array([1, 2, 3, 8, 5, 1, 0, 7]), new Int32Array([0, 4, 8]), { dropIds: 0.4, seed: 99 }),
  },

  // ---------------------------------------------------------------- attention
  {
    name: 'attention with additive mask',
    inputs: many(U([2, 2, 3, 4]), U([2, 2, 3, 4]), U([2, 2, 3, 4])),
    f: ([q, k, v]) => attention(q!, k!, v!, { mask: additiveMask([1, 1, 0, 1, 1, 1], [2, 3]) }),
  },
  {
    name: 'attention with mask and dropout',
    inputs: many(U([1, 2, 4, 3]), U([1, 2, 4, 3]), U([1, 2, 4, 3])),
    f: ([q, k, v]) => attention(q!, k!, v!, { mask: additiveMask([1, 1, 1, 0], [1, 4]), dropout: 0.2, seed: 7 }),
  },
  { name: 'splitHeads / mergeHeads', inputs: many(U([2, 3, 6])), f: ([x]) => mergeHeads(mul(splitHeads(x!, 3), splitHeads(x!, 3))) },

  // ---------------------------------------------------------------- losses
  { name: 'crossEntropy', inputs: many(U([4, 5], -2, 2)), f: ([z]) => crossEntropy(z!, [0, 4, 2, 2]) },
  { name: 'klDiv teacher logits, T=2', inputs: many(U([3, 4], -2, 2), U([3, 4], -2, 2)), f: ([z, t]) => klDiv(z!, t!, { temperature: 2 }) },
  {
    name: 'klDiv teacher probs (with a zero), T=3',
    inputs: many(U([2, 4], -2, 2)),
    f: ([z]) => klDiv(z!, tensor([0.1, 0.2, 0.7, 0, 0.25, 0.25, 0.25, 0.25], [2, 4]), { temperature: 3, teacherIs: 'probs' }),
  },
  { name: 'mse', inputs: many(U([3, 4]), U([3, 4])), f: ([a, b]) => mse(a!, b!) },
  { name: 'cosineSimilarity', inputs: many(U([3, 5]), U([3, 5])), f: ([a, b]) => cosineSimilarity(a!, b!) },
];
