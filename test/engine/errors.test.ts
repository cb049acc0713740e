/**
 * Bad input to ops is an OpError naming the op and the shapes (or the id, label, value), never a
 * silent wrong answer or a crash, on every backend under test.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpError } from '../../src/errors.js';
import {
  Tensor, add, attention, backward, concat, crossEntropy, embedding, embeddingBag, layerNorm, log, matmul, mse,
  permute, reshape, slice, sum, tensor, zeros, klDiv, dropout, checkFinite, transpose,
} from '../../src/engine/index.js';
import { backendsUnderTest, withBackend } from './backendsUnderTest.js';

/** Asserts fn throws an OpError whose message matches every pattern. */
function opError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OpError, `expected an OpError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

const req = (shape: number[]) => zeros(shape, { requiresGrad: true });

for (const { name, backend } of backendsUnderTest) {
  describe(`bad input on ${name}`, () => {
    test('matmul inner dimensions', () => withBackend(backend, () => {
      opError(() => matmul(zeros([2, 3]), zeros([4, 5])), /^matmul: inner dimensions differ \(3 vs 4\)/, /\[2, 3\]/, /\[4, 5\]/);
      opError(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5])), /matmul: batch dimensions differ/, /\[2, 3, 4\]/, /\[3, 4, 5\]/);
      opError(() => matmul(zeros([3]), zeros([3, 2])), /matmul: needs at least 2-D/);
      opError(() => matmul(zeros([2, 3]), zeros([2, 3]), { transB: false }), /matmul/, /\[2, 3\]/);
    }));

    test('broadcast-incompatible shapes', () => withBackend(backend, () => {
      opError(() => add(zeros([2, 3]), zeros([4])), /^add: shapes \[2, 3\] and \[4\] do not broadcast/);
      opError(() => mse(zeros([2, 3]), zeros([3])), /^mse: shapes \[2, 3\] and \[3\] differ/);
      opError(() => klDiv(zeros([2, 3]), zeros([2, 4])), /^klDiv: student \[2, 3\] and teacher \[2, 4\]/);
    }));

    test('reshape sizes, axes, slices, permutations, concat', () => withBackend(backend, () => {
      opError(() => reshape(zeros([2, 3]), [4, 2]), /^reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
      opError(() => reshape(zeros([2, 3]), [4, -1]), /^reshape: cannot reshape \[2, 3\]/);
      opError(() => sum(zeros([2, 3]), 2), /^sum: axis 2 is out of range for shape \[2, 3\]/);
      opError(() => slice(zeros([2, 3]), 1, 2, 5), /^slice: range \[2, 5\) is outside axis 1 \(size 3\) of \[2, 3\]/);
      opError(() => permute(zeros([2, 3]), [0, 0]), /^permute: \[0, 0\] is not a permutation/);
      opError(() => transpose(zeros([2, 3]), 0, 3), /^transpose: axis 3/);
      opError(() => concat([zeros([2, 3]), zeros([2, 4])], 0), /^concat: shapes \[2, 3\], \[2, 4\] differ outside axis 0/);
      opError(() => new Tensor(new Float32Array(5), [2, 3]), /^tensor: data has 5 elements but shape \[2, 3\] needs 6/);
    }));

    test('layer norm parameters, attention shapes, dropout probability', () => withBackend(backend, () => {
      opError(() => layerNorm(zeros([2, 4]), zeros([3]), zeros([4])), /^layerNorm: gamma \[3\] and beta \[4\] must have 4 elements/, /\[2, 4\]/);
      opError(() => attention(zeros([1, 2, 3, 4]), zeros([1, 2, 3, 5]), zeros([1, 2, 3, 4])), /^attention: expected/, /k \[1, 2, 3, 5\]/);
      opError(() => dropout(zeros([2]), 1, 0), /^dropout: probability 1/);
    }));

    test('ids and labels out of range', () => withBackend(backend, () => {
      const table = req([5, 2]);
      opError(() => embedding(table, [1, 5]), /^embedding: /, /5/, /table \[5, 2\]/);
      opError(() => embedding(table, [-1]), /^embedding: /, /-1/);
      opError(() => embeddingBag(table, [0, 7], [0, 1, 2]), /^embeddingBag: /, /7/, /table \[5, 2\]/);
      opError(() => embeddingBag(table, [0, 1], [0, 1]), /^embeddingBag: offsets .* must end at the number of ids/);
      opError(() => embeddingBag(table, [0, 1], [0, 2, 1, 2]), /^embeddingBag: offsets .* decrease at bag 1/);
      opError(() => crossEntropy(zeros([2, 3]), [0, 3]), /^crossEntropy: label 3 at row 1 is outside \[0, 3\) for logits \[2, 3\]/);
      opError(() => crossEntropy(zeros([2, 3]), [0]), /^crossEntropy: logits \[2, 3\] have 2 rows but 1 labels/);
    }));

    test('NaN or Inf in a loss stops backward before any gradient is written', () => withBackend(backend, () => {
      const p = tensor([-1, 1], [2], { requiresGrad: true });
      opError(() => backward(sum(log(p))), /^backward: tensor of shape \[\] holds NaN or Inf \(value NaN\)/);
      assert.equal(p.grad, undefined);
      opError(() => checkFinite(tensor([1, Infinity]), 'logits'), /^logits: tensor of shape \[2\] holds NaN or Inf/);
      opError(() => backward(add(p, p)), /^backward: loss must have one element, got shape \[2\]/);
    }));
  });
}
