/**
 * The labelled rows of one data set as the distillation benches use them: train (optionally an even
 * sample), dev (the set's own, else a seeded share of train; at most 2,000 rows) and test, with train
 * and dev written as JSONL so the teacher, the student and fastText see exactly the same rows.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collect, openDataset, resolveSplit, type Example } from '../src/data/index.js';
import { splitDev } from '../src/data/split.js';

export interface LabelledSet {
  train: string;
  trainSplit?: string;
  dev?: string;
  devSplit?: string;
  test: string;
  testSplit?: string;
}

export interface BenchRows {
  train: Example[];
  dev: Example[];
  test: Example[];
  /** JSONL copies of train and dev in the bench's folder. */
  files: { train: string; dev: string };
}

export async function readSplit(path: string, name: string | undefined, fallback: string): Promise<Example[]> {
  const ds = await openDataset(path);
  const s = name ? resolveSplit(ds.splits, name) : ds.splits.length === 1 ? ds.splits[0] : resolveSplit(ds.splits, fallback);
  if (!s) throw new Error(`${path}: no split ${name ?? fallback} (has ${ds.splits.join(', ')})`);
  return collect(ds.read(s));
}

/** `n` rows evenly spaced over `xs` (all of them when n is 0 or at least their number). */
export function sample<T>(xs: T[], n: number): T[] {
  if (!n || xs.length <= n) return xs;
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)]!);
}

export const MAX_DEV = 2000;

export async function benchRows(s: LabelledSet, dir: string, o: { maxTrain?: number; maxTest?: number } = {}): Promise<BenchRows> {
  let train = sample(await readSplit(s.train, s.trainSplit, 'train'), o.maxTrain ?? 0);
  const test = sample(await readSplit(s.test, s.testSplit, 'test'), o.maxTest ?? 0);
  let dev: Example[] = s.dev ? await readSplit(s.dev, s.devSplit, 'dev') : [];
  if (!s.dev) ({ train, dev } = splitDev(train));
  dev = sample(dev, MAX_DEV);
  const jsonl = (name: string, rows: Example[]) => {
    const p = join(dir, name);
    const text = rows.map((e) => JSON.stringify({ text: e.text, label: e.label })).join('\n') + '\n';
    // Left untouched when unchanged: a resumed labelling run checks its corpus files' size and time.
    if (!existsSync(p) || readFileSync(p, 'utf8') !== text) writeFileSync(p, text);
    return p;
  };
  return { train, dev, test, files: { train: jsonl('train.jsonl', train), dev: jsonl('dev.jsonl', dev) } };
}
