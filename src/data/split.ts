/**
 * A deterministic, seeded dev split for data sets that ship without one (BANKING77's CSVs, TREC,
 * AG News): same rows + seed -> same split on every machine. Stratified by label, with exact
 * totals (largest remainder), so a 10% dev set has 10% of each class as near as whole rows allow,
 * and a class is never moved out of training entirely.
 */
import { Rng } from '../engine/random.js';
import { type Dataset, type Example, type ReadOptions, SkipLog, collect, resolveSplit } from './dataset.js';
import { naturalCompare } from './labelMap.js';

export interface DevSplitOptions {
  /** Share of rows held out (default 0.1). */
  fraction?: number;
  seed?: number;
  /** Keep each label's share (default true). */
  stratify?: boolean;
}

export const DEFAULT_DEV_FRACTION = 0.1;
export const DEFAULT_SPLIT_SEED = 1234;

/** Splits rows into train and dev; both keep the rows' original order. */
export function splitDev<T extends Pick<Example, 'label'>>(rows: readonly T[], opts: DevSplitOptions = {}): { train: T[]; dev: T[] } {
  const fraction = opts.fraction ?? DEFAULT_DEV_FRACTION;
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`dev fraction must be in (0, 1), got ${fraction}`);
  const rng = new Rng(opts.seed ?? DEFAULT_SPLIT_SEED);
  const groups = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = opts.stratify === false ? '' : (r.label ?? '');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  });
  const keys = [...groups.keys()].sort(naturalCompare);
  const target = Math.round(fraction * rows.length);
  const quotas = keys.map((k) => {
    const n = groups.get(k)!.length;
    const exact = fraction * n;
    return { k, n, take: Math.min(Math.floor(exact), n - 1), rest: exact - Math.floor(exact) };
  });
  let short = target - quotas.reduce((s, q) => s + q.take, 0);
  for (const q of [...quotas].sort((a, b) => b.rest - a.rest || naturalCompare(a.k, b.k))) {
    if (short <= 0) break;
    if (q.take < q.n - 1) {
      q.take++;
      short--;
    }
  }
  const isDev = new Uint8Array(rows.length);
  for (const q of quotas) {
    const idx = groups.get(q.k)!;
    rng.shuffle(idx);
    for (let j = 0; j < q.take; j++) isDev[idx[j]!] = 1;
  }
  const train: T[] = [];
  const dev: T[] = [];
  rows.forEach((r, i) => (isDev[i] ? dev : train).push(r));
  return { train, dev };
}

export interface TrainDev {
  train: Example[];
  dev: Example[];
  /** Where dev came from: the set's own split, or held out of train with the seed. */
  devFrom: { split: string } | { heldOut: Required<DevSplitOptions> };
  skipped: SkipLog[];
}

/** Train and dev rows of a data set: its dev split when it has one, else a seeded share of train. */
export async function loadTrainDev(ds: Dataset, opts: DevSplitOptions & ReadOptions & { train?: string; dev?: string } = {}): Promise<TrainDev> {
  const trainStream = ds.read(opts.train ?? 'train', opts);
  const all = await collect(trainStream);
  const devName = resolveSplit(ds.splits, opts.dev ?? 'dev');
  if (devName !== undefined) {
    const devStream = ds.read(devName, opts);
    return { train: all, dev: await collect(devStream), devFrom: { split: devName }, skipped: [trainStream.skipped, devStream.skipped] };
  }
  const used = { fraction: opts.fraction ?? DEFAULT_DEV_FRACTION, seed: opts.seed ?? DEFAULT_SPLIT_SEED, stratify: opts.stratify ?? true };
  return { ...splitDev(all, used), devFrom: { heldOut: used }, skipped: [trainStream.skipped] };
}
