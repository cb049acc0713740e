/**
 * Training a DAN around its compressed table on the labelled task data:
 *   retrain  the table stays as compressed; the hidden and output layers learn to read it
 *            (fastText's quantize -retrain)
 *   joint    task-aware: the table's own values (PQ centroids / code books, low-rank factors,
 *            or a dense table's rows) learn with the layers from the task loss, the integer
 *            codes staying fixed. A table with no trainable values (int8/int4) cannot.
 * Cross-entropy on the gold labels, AdamW, the best epoch on dev kept.
 */
import { AdamW, Rng, backward, crossEntropy, noGrad, type Parameter } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import { LabelMap, type Example } from '../../data/index.js';
import type { Bags, Dan } from '../../models/dan.js';

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

/** lr is the DAN's; a transformer classifier retrains at 2e-4 unless told. */
export const DEFAULT_TRAIN: Readonly<Omit<CompressTrainOptions, 'mode'>> = Object.freeze({ epochs: 5, lr: 1e-3, batchSize: 32, seed: 0 });

export interface CompressTrainResult {
  epochs: { epoch: number; loss: number; devAccuracy?: number }[];
  bestEpoch: number;
}

export function trainCompressed(dan: Dan, train: readonly Example[], dev: readonly Example[] | undefined, o: CompressTrainOptions): CompressTrainResult {
  const model = dan.model;
  const table = model.embeddings;
  const tableParams = new Set<Parameter>(table.trainable());
  if (o.mode === 'joint' && tableParams.size === 0) {
    throw new OpError('--mode joint', `a ${table.kind} table has no trainable values (its codes are frozen integers); use --mode retrain`);
  }
  const map = LabelMap.fromJSON({ version: 1, labels: [...dan.labels] });
  const known = (xs: readonly Example[]) => xs.filter((e) => e.label !== undefined && map.encode([e])[0]! >= 0);
  const tr = known(train);
  if (tr.length === 0) throw new OpError('--train', 'no training rows carry one of the model\'s labels');
  const bags = dan.featurize(tr.map((e) => e.text));
  const labels = map.encode(tr);
  const dv = dev ? known(dev) : [];
  const devBags = dv.length ? dan.featurize(dv.map((e) => e.text)) : undefined;
  const devLabels = map.encode(dv);
  const params: [string, Parameter][] = [];
  for (const [name, p] of model.namedParameters()) {
    const isTable = name.startsWith('embeddings.');
    p.frozen = isTable && o.mode === 'retrain';
    if (!p.frozen) params.push([name, p]);
  }
  const opt = new AdamW(params, { lr: o.lr, weightDecay: 0 });
  const rng = Rng.derive(o.seed, 'compress/train');
  const order = Int32Array.from({ length: tr.length }, (_, i) => i);
  const history: CompressTrainResult['epochs'] = [];
  let best = -1, bestAcc = -1;
  let snapshot = params.map(([, p]) => p.data.slice());
  const accuracy = () => (devBags ? accuracyOf(dan, devBags, devLabels) : undefined);
  const acc0 = accuracy();
  if (acc0 !== undefined) {
    bestAcc = acc0;
    best = 0;
  }
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    model.train();
    rng.shuffle(order);
    let lossSum = 0, steps = 0;
    for (let i = 0; i < order.length; i += o.batchSize) {
      const rows = order.subarray(i, Math.min(order.length, i + o.batchSize));
      const batch = gather(bags, rows);
      const loss = crossEntropy(model.forward(batch), Int32Array.from(rows, (r) => labels[r]!));
      lossSum += loss.data[0]!;
      steps++;
      backward(loss);
      opt.step();
    }
    model.eval();
    const acc = accuracy();
    history.push({ epoch, loss: lossSum / Math.max(1, steps), ...(acc !== undefined ? { devAccuracy: acc } : {}) });
    o.onEpoch?.(epoch, lossSum / Math.max(1, steps), acc);
    if (acc === undefined || acc > bestAcc) {
      bestAcc = acc ?? bestAcc;
      best = epoch;
      snapshot = params.map(([, p]) => p.data.slice());
    }
  }
  params.forEach(([, p], i) => p.data.set(snapshot[i]!));
  for (const [, p] of model.namedParameters()) p.frozen = false;
  model.eval();
  return { epochs: history, bestEpoch: best };
}

function accuracyOf(dan: Dan, bags: Bags, labels: Int32Array): number {
  const C = dan.numLabels;
  const n = labels.length;
  const out = new Float32Array(n * C);
  noGrad(() => {
    for (let i = 0; i < n; i += 512) {
      const rows = Int32Array.from({ length: Math.min(512, n - i) }, (_, k) => i + k);
      out.set(dan.model.forward(gather(bags, rows)).data, i * C);
    }
  });
  let right = 0;
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let c = 1; c < C; c++) if (out[i * C + c]! > out[i * C + b]!) b = c;
    if (b === labels[i]) right++;
  }
  return right / n;
}

/** The bags of some rows, CSR. */
export function gather(b: Bags, rows: Int32Array): Bags {
  const offsets = new Int32Array(rows.length + 1);
  let n = 0;
  for (let i = 0; i < rows.length; i++) n += b.offsets[rows[i]! + 1]! - b.offsets[rows[i]!]!;
  const ids = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    ids.set(b.ids.subarray(b.offsets[r]!, b.offsets[r + 1]!), k);
    k += b.offsets[r + 1]! - b.offsets[r]!;
    offsets[i + 1] = k;
  }
  return { ids, offsets };
}
