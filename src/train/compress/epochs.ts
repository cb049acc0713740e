/**
 * The training loop both retrain / joint trainers share (DAN in train.ts, transformer classifier
 * in trainClassifier.ts): freeze the table (retrain) or not (joint), AdamW over what trains,
 * shuffled batches, dev accuracy after every epoch, the best epoch's values kept (epoch 0, the
 * compressed model untrained, counts too).
 */
import { AdamW, Rng, backward, type Module, type Parameter, type Tensor } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import type { EmbeddingTable } from '../../models/tables/table.js';

export type TrainMode = 'retrain' | 'joint';

export interface CompressTrainOptions {
  mode: TrainMode;
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
  /** Called after each epoch. */
  onEpoch?: (epoch: number, loss: number, devAccuracy: number | undefined) => void;
}

export interface CompressTrainResult {
  epochs: { epoch: number; loss: number; devAccuracy?: number }[];
  bestEpoch: number;
}

export interface EpochTask {
  model: Module;
  table: EmbeddingTable;
  /** Training rows. */
  rows: number;
  loss(rows: Int32Array): Tensor;
  /** Dev accuracy (undefined without dev data: the last epoch is kept). */
  accuracy(): number | undefined;
  weightDecay: number;
}

export function trainEpochs(t: EpochTask, o: CompressTrainOptions): CompressTrainResult {
  const tableParams = new Set<Parameter>(t.table.trainable());
  if (o.mode === 'joint' && tableParams.size === 0) {
    throw new OpError('--mode joint', `a ${t.table.kind} table has no trainable values (its codes are frozen integers); use --mode retrain`);
  }
  const params: [string, Parameter][] = [];
  for (const [name, p] of t.model.namedParameters()) {
    p.frozen = tableParams.has(p) && o.mode === 'retrain';
    if (!p.frozen) params.push([name, p]);
  }
  const opt = new AdamW(params, { lr: o.lr, weightDecay: t.weightDecay });
  const rng = Rng.derive(o.seed, 'compress/train');
  const order = Int32Array.from({ length: t.rows }, (_, i) => i);
  const history: CompressTrainResult['epochs'] = [];
  t.model.eval();
  let bestAcc = t.accuracy() ?? -1, best = 0;
  let snapshot = params.map(([, p]) => p.data.slice());
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      t.model.train(true);
      rng.shuffle(order);
      let lossSum = 0, steps = 0;
      for (let i = 0; i < order.length; i += o.batchSize) {
        const loss = t.loss(order.slice(i, Math.min(order.length, i + o.batchSize)));
        lossSum += loss.data[0]!;
        steps++;
        backward(loss);
        opt.step();
      }
      t.model.eval();
      const acc = t.accuracy();
      const mean = lossSum / Math.max(1, steps);
      history.push({ epoch, loss: mean, ...(acc !== undefined ? { devAccuracy: acc } : {}) });
      o.onEpoch?.(epoch, mean, acc);
      if (acc === undefined || acc > bestAcc) {
        bestAcc = acc ?? bestAcc;
        best = epoch;
        snapshot = params.map(([, p]) => p.data.slice());
      }
    }
    params.forEach(([, p], i) => p.data.set(snapshot[i]!));
  } finally {
    for (const [, p] of t.model.namedParameters()) p.frozen = false;
    t.model.eval();
  }
  return { epochs: history, bestEpoch: best };
}
