/**
 * AdamW's `lazy: false`: a sparse (embedding) gradient takes the same step as dense AdamW, as
 * PyTorch's AdamW does: rows a batch did not touch still move by their first moment and weight
 * decay. Lazy updates here were why fine-tuning BERT on CLINC150 lagged PyTorch's (see adamw.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, Parameter, backward, embedding, mul, sum, tensor } from '../../src/engine/index.js';
import { backendsUnderTest, withBackend } from './backendsUnderTest.js';

const table = () => new Parameter(Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]), [6, 2], 'weight');
/** Row-id lists and their gradient rows, one entry per step. */
const steps: { ids: number[]; g: number[] }[] = [
  { ids: [1, 4, 1], g: [1, -1, 1, 2, 3, 0] },
  { ids: [2], g: [0.5, -0.25] },
  { ids: [4, 0], g: [-1, 0.5, 2, 2] },
];

function dense(ids: number[], g: number[]): number[] {
  const out = new Array(12).fill(0);
  ids.forEach((id, k) => {
    out[id * 2] += g[k * 2]!;
    out[id * 2 + 1] += g[k * 2 + 1]!;
  });
  return out;
}

for (const { name, backend } of backendsUnderTest) {
  describe(`AdamW lazy: false on ${name}`, () => {
    test('sparse gradients step exactly as the same gradients given densely', () => withBackend(backend, () => {
      const sparseT = table();
      const denseT = table();
      const a = new AdamW([['emb.weight', sparseT]], { lr: 0.1, weightDecay: 0.01, lazy: false });
      const b = new AdamW([['emb.weight', denseT]], { lr: 0.1, weightDecay: 0.01 });
      const lazyT = table();
      const c = new AdamW([['emb.weight', lazyT]], { lr: 0.1, weightDecay: 0.01 });
      for (const { ids, g } of steps) {
        backward(sum(mul(embedding(sparseT, ids), tensor(g, [ids.length, 2]))));
        backward(sum(mul(embedding(lazyT, ids), tensor(g, [ids.length, 2]))));
        assert.ok(sparseT.sparseGrad && !sparseT.grad, 'the embedding gradient is sparse');
        backward(sum(mul(denseT, tensor(dense(ids, g), [6, 2]))));
        a.step();
        b.step();
        c.step();
        for (let i = 0; i < 12; i++) assert.ok(Math.abs(sparseT.data[i]! - denseT.data[i]!) <= 1e-6, `[${i}] ${sparseT.data[i]} vs ${denseT.data[i]}`);
      }
      // Row 1 was touched only in step 1: dense AdamW kept moving it (momentum), lazy did not.
      assert.notEqual(lazyT.data[2], sparseT.data[2]);
      // Row 5 was never touched: only weight decay moves it, and only in the dense step.
      assert.equal(lazyT.data[10], 5);
      assert.ok(sparseT.data[10]! < 5);
    }));

    test('lazy can be chosen per parameter by name', () => withBackend(backend, () => {
      const words = table();
      const ngrams = table();
      const opt = new AdamW([['bert.word_embeddings.weight', words], ['dan.ngrams.weight', ngrams]], {
        lr: 0.1, weightDecay: 0, lazy: (n) => n.startsWith('dan.'),
      });
      for (const { ids, g } of steps.slice(0, 2)) {
        for (const t of [words, ngrams]) backward(sum(mul(embedding(t, ids), tensor(g, [ids.length, 2]))));
        opt.step();
      }
      // Step 2 touched only row 2: row 4 (touched in step 1) moved again in the dense table only.
      assert.ok(Math.abs(ngrams.data[8]! - 3.9) < 1e-6, `lazy row 4: ${ngrams.data[8]}`);
      assert.ok(words.data[8]! < 3.9 - 0.05);
    }));
  });
}
