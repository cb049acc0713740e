/**
 * Reading the examples a task needs from any data set openDataset understands: which split a path
 * means, the fields each task requires (a label; a pair; a reply), and seeded subsampling.
 */
import { InputError } from '../../errors.js';
import { Rng } from '../../engine/index.js';
import { collect, openDataset, resolveSplit, type Dataset, type Example, type OpenOptions } from '../../data/index.js';
import type { TaskKind } from '../../models/taskModel.js';

export interface SplitRows {
  examples: Example[];
  /** The file the rows came from (for messages). */
  file: string;
  split: string;
  dataset: Dataset;
  /** Set when bad rows were skipped (OpenOptions.skipBad): one line saying how many, and the first. */
  skipped?: string;
}

/**
 * The rows of `split` of a data set (by name or alias); with no split named, the only split of a
 * one-split source, else `fallback` ('train', 'test', ...). For the reply task, files are read
 * without a label column unless one is named (ConvLab dialogues carry their own annotations).
 */
export async function readSplit(path: string, split: string | undefined, fallback: string, open: OpenOptions = {}, task?: TaskKind): Promise<SplitRows> {
  let ds = await openDataset(path, open);
  if (task === 'reply' && open.label === undefined && ds.format !== 'convlab') ds = await openDataset(path, { ...open, label: false });
  const name = split !== undefined ? resolveSplit(ds.splits, split) : ds.splits.length === 1 ? ds.splits[0] : resolveSplit(ds.splits, fallback);
  if (name === undefined) {
    throw new InputError(path, undefined, undefined, `no split '${split ?? fallback}' (has: ${ds.splits.join(', ')}); pick one with the split option`);
  }
  const stream = ds.read(name, { skipBad: open.skipBad });
  const examples = await collect(stream);
  const n = stream.skipped.count;
  const skipped = n > 0 ? `skipped ${n} bad row${n === 1 ? '' : 's'} in ${ds.fileOf(name)}; first: ${stream.skipped.first[0]?.message ?? ''}` : undefined;
  return { examples, file: ds.fileOf(name), split: name, dataset: ds, ...(skipped ? { skipped } : {}) };
}

/** Throws an InputError naming file:line for the first row that lacks what the task needs. */
export function requireFields(rows: readonly Example[], task: TaskKind, file: string): void {
  const need: [keyof Example, string][] = task === 'reply' ? [['target', 'reply (target)']] : task === 'pair' ? [['pair', 'second text (pair)'], ['label', 'label']] : [['label', 'label']];
  for (const [field, what] of need) {
    const bad = rows.find((ex) => ex[field] === undefined || ex[field] === '');
    if (bad) {
      throw new InputError(file, bad.line, String(field), `the ${task} task needs a ${what} on every row; this row has none${task === 'pair' ? ' (name the column with the pair option)' : ''}`);
    }
  }
  if (rows.length === 0) throw new InputError(file, undefined, undefined, 'holds no examples');
}

/** At most `max` rows (0: all), a seeded sample kept in the original order. */
export function subsample<T>(rows: readonly T[], max: number, seed: number, label: string): T[] {
  if (max <= 0 || rows.length <= max) return [...rows];
  const idx = Int32Array.from({ length: rows.length }, (_, i) => i);
  Rng.derive(seed, `subsample/${label}`).shuffle(idx);
  return Array.from(idx.subarray(0, max)).sort((a, b) => a - b).map((i) => rows[i]!);
}
