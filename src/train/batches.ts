/**
 * Length-bucketed training batches: each epoch, the examples are shuffled, cut into pools of
 * `poolBatches` batches, each pool sorted by length and cut into batches, and the batches shuffled.
 * Rows of a batch have similar lengths, so dynamic padding wastes little, while batch composition
 * and order still change every epoch. The order is a pure function of (seed, epoch), which is what
 * lets a resumed run see exactly the batches the interrupted one would have seen.
 */
import { Rng } from '../engine/index.js';

export interface BatchPlanOptions {
  batchSize: number;
  seed: number;
  /** Batches per sorting pool (default 50; 1 gives plain shuffled batches). */
  poolBatches?: number;
  /** Drop a last, smaller batch (default false). */
  dropLast?: boolean;
}

/** The batches (arrays of example indices) of one epoch. */
export function epochBatches(lengths: Int32Array, epoch: number, opts: BatchPlanOptions): Int32Array[] {
  const n = lengths.length;
  const B = opts.batchSize;
  const rng = Rng.derive(opts.seed, `batches/epoch-${epoch}`);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  rng.shuffle(order);
  const pool = B * (opts.poolBatches ?? 50);
  const batches: Int32Array[] = [];
  for (let p = 0; p < n; p += pool) {
    const chunk = order.slice(p, Math.min(n, p + pool));
    // Stable by position in the shuffle, so equal lengths keep a random order.
    const pos = new Map<number, number>();
    chunk.forEach((x, k) => pos.set(x, k));
    const sorted = Array.from(chunk).sort((a, b) => lengths[a]! - lengths[b]! || pos.get(a)! - pos.get(b)!);
    for (let i = 0; i < sorted.length; i += B) batches.push(Int32Array.from(sorted.slice(i, i + B)));
  }
  // Pools hold whole batches, so only the very last batch can be short.
  if (opts.dropLast && batches.length > 0 && batches[batches.length - 1]!.length < B) batches.pop();
  rng.shuffle(batches);
  return batches;
}

/** Number of batches per epoch (for the schedule). */
export function batchesPerEpoch(n: number, opts: Pick<BatchPlanOptions, 'batchSize' | 'dropLast'>): number {
  return opts.dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
}
