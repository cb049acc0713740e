/**
 * How much the task needs each n-gram row, for `prune --prune-by gradient`: the first-order Taylor
 * estimate of the rise in the task loss if the row were removed (set to zero), |g_i . w_i| per
 * mini-batch, summed over one pass of the labelled training rows (no update; dropout off), as in
 * Molchanov et al., "Pruning Convolutional Neural Networks for Resource Efficient Inference" (ICLR
 * 2017), applied to embedding rows. Norm ranks a row by its size alone and frequency by how often
 * it occurs; this ranks it by how much it moves the task's loss where it occurs. Rows the training
 * rows never touch score 0 (the caller breaks ties by norm).
 */
import { backward, crossEntropy, getBackend } from '../../engine/index.js';
import type { Example } from '../../data/index.js';
import { OpError } from '../../errors.js';
import type { Dan } from '../../models/dan.js';
import { gather, labelledRows } from './train.js';

export function gradientImportance(dan: Dan, train: readonly Example[], batchSize: number): Float64Array {
  const table = dan.model.embeddings;
  if (table.kind !== 'dense') throw new OpError('--prune-by gradient', `needs a dense table, the model's is ${table.kind}`);
  const { rows, labels } = labelledRows(dan, train);
  if (rows.length === 0) throw new OpError('--prune-by gradient', "no training rows carry one of the model's labels");
  const bags = dan.featurize(rows.map((e) => e.text));
  const [weight] = table.trainable();
  const w = weight!.data;
  const dim = table.dim;
  const be = getBackend();
  const score = new Float64Array(table.rows);
  const model = dan.model;
  model.eval();
  model.zeroGrad();
  try {
    for (let i = 0; i < rows.length; i += batchSize) {
      const batch = Int32Array.from({ length: Math.min(batchSize, rows.length - i) }, (_, k) => i + k);
      backward(crossEntropy(model.forward(gather(bags, batch)), Int32Array.from(batch, (r) => labels[r]!)));
      const g = weight!.sparseGrad;
      if (g) {
        const ids = g.ids, grads = g.rows;
        for (let r = 0; r < ids.length; r++) score[ids[r]!]! += Math.abs(be.dot(dim, grads.subarray(r * dim, r * dim + dim), w.subarray(ids[r]! * dim)));
      }
      model.zeroGrad();
    }
  } finally {
    model.zeroGrad();
  }
  return score;
}
