/**
 * `slimtext compress` as a library call: load a model, prune and/or compress its embedding table,
 * optionally retrain around it (retrain) or train it with the task (joint), and save the result as
 * a model folder that loads wherever a model does. The recipe (methods, settings, mode, pruning,
 * training history) goes into the manifest under `recipe.compression`.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../../errors.js';
import { readBundle } from '../../io/bundle.js';
import type { Example, OpenOptions } from '../../data/index.js';
import { loadAnyModel, isDan } from '../../models/anyModel.js';
import { Dan } from '../../models/dan.js';
import { withTable, pruneDan, type PruneInfo } from './prune.js';
import { DEFAULT_SETTINGS, compressTable, parseMethods, type CompressSettings, type Method } from './methods.js';
import { DEFAULT_TRAIN, trainCompressed, type CompressTrainResult } from './train.js';
import { readSplit, subsample } from '../tasks/taskData.js';
import { inspectModel } from '../../models/inspect.js';
import { tableBytes } from '../../models/tables/table.js';

export type CompressMode = 'posthoc' | 'retrain' | 'joint';

export interface CompressOptions {
  model: string;
  methods: string;
  /** Default: joint with train data, posthoc without. */
  mode?: CompressMode;
  train?: string;
  dev?: string;
  data?: OpenOptions;
  /** Train on a seeded sample of at most N rows (0: all). */
  maxTrain?: number;
  settings?: Partial<CompressSettings>;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  out: string;
  overwrite?: boolean;
  log?: (line: string) => void;
}

export interface CompressReport {
  out: string;
  methods: Method[];
  mode: CompressMode;
  before: { bytes_on_disk: number; embedding_bytes: number; dev_accuracy?: number };
  after: { bytes_on_disk: number; embedding_bytes: number; dev_accuracy?: number };
  embedding_ratio: number;
  prune?: PruneInfo;
  training?: CompressTrainResult;
  seconds: number;
}

export async function compressModel(o: CompressOptions): Promise<CompressReport> {
  const t0 = performance.now();
  if (existsSync(o.out) && !o.overwrite) throw new InputError(o.out, undefined, undefined, 'already exists: pass --overwrite to replace it');
  const methods = parseMethods(o.methods);
  const mode: CompressMode = o.mode ?? (o.train ? 'joint' : 'posthoc');
  if (mode !== 'posthoc' && !o.train) throw new InputError('--mode', undefined, undefined, `${mode} trains on the task: give the labelled data with --train`);
  const s: CompressSettings = { ...DEFAULT_SETTINGS, ...o.settings };
  const tm = await loadAnyModel(o.model);
  if (!isDan(tm)) {
    throw new InputError(o.model, undefined, 'architecture.kind', `compress takes DAN students (kind 'dan'); this is a ${tm.task} transformer model, whose word-embedding compression is not built yet`);
  }
  const source = await readBundle(o.model);
  const before = await inspectModel(o.model);
  let dan = tm.dan;
  const train = o.train ? subsample((await readSplit(o.train, undefined, 'train', o.data, 'classify')).examples, o.maxTrain ?? 0, s.seed, 'compress') : undefined;
  const dev = o.dev ? (await readSplit(o.dev, undefined, 'dev', o.data, 'classify')).examples : o.train ? await devOf(o.train, o.data) : undefined;
  const log = o.log ?? (() => {});
  const devAcc = (d: Dan): number | undefined => (dev ? accuracy(d, dev) : undefined);
  const accBefore = devAcc(dan);
  let prune: PruneInfo | undefined;
  for (const m of methods) {
    if (m === 'prune') {
      ({ dan, info: prune } = pruneDan(dan, s));
      log(`pruned to ${prune.kept} n-grams (${prune.dropped} ${prune.fallout === 'bucket' ? `fall out to ${prune.buckets} buckets` : 'skipped'})`);
    } else {
      const t = performance.now();
      const table = compressTable(dan.model.embeddings, m, s);
      dan = new Dan(withTable(dan.model, table), dan.vocab, dan.features, dan.labels);
      log(`${m}: ${tableBytes(table)} table bytes (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    }
  }
  let training: CompressTrainResult | undefined;
  if (mode !== 'posthoc') {
    training = trainCompressed(dan, train!, dev, {
      mode, epochs: o.epochs ?? DEFAULT_TRAIN.epochs, lr: o.lr ?? DEFAULT_TRAIN.lr, batchSize: o.batchSize ?? DEFAULT_TRAIN.batchSize, seed: s.seed,
      onEpoch: (e, loss, acc) => log(`${mode} epoch ${e}: loss ${loss.toFixed(4)}${acc !== undefined ? `, dev accuracy ${acc.toFixed(4)}` : ''}`),
    });
  }
  const accAfter = devAcc(dan);
  const compression = {
    methods, mode, settings: s, source: o.model, ...(prune ? { prune } : {}), table: dan.model.embeddings.spec(),
    ...(training ? { training, train: o.train, train_rows: train!.length } : {}),
  };
  await dan.save(o.out, {
    recipe: { compression, source_recipe: source.manifest.recipe },
    metrics: { ...(accBefore !== undefined ? { dev_accuracy_before: accBefore, dev_accuracy: accAfter } : {}), source_metrics: source.manifest.metrics },
    notes: [...source.manifest.notes, `embedding table compressed: ${methods.join(',')} (${mode})`],
  });
  const after = await inspectModel(o.out);
  return {
    out: o.out, methods, mode,
    before: { bytes_on_disk: before.bytes_on_disk, embedding_bytes: before.embedding_bytes, ...(accBefore !== undefined ? { dev_accuracy: accBefore } : {}) },
    after: { bytes_on_disk: after.bytes_on_disk, embedding_bytes: after.embedding_bytes, ...(accAfter !== undefined ? { dev_accuracy: accAfter } : {}) },
    embedding_ratio: after.embedding_bytes / before.embedding_bytes,
    ...(prune ? { prune } : {}), ...(training ? { training } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
}

async function devOf(train: string, data: OpenOptions | undefined): Promise<Example[] | undefined> {
  try {
    return (await readSplit(train, 'dev', 'dev', data, 'classify')).examples;
  } catch {
    return undefined;
  }
}

function accuracy(dan: { predict(t: readonly string[]): Float32Array; labels: readonly string[] }, rows: readonly Example[]): number {
  const logits = dan.predict(rows.map((e) => e.text));
  const C = dan.labels.length;
  let right = 0;
  rows.forEach((e, i) => {
    let b = 0;
    for (let c = 1; c < C; c++) if (logits[i * C + c]! > logits[i * C + b]!) b = c;
    if (dan.labels[b] === e.label) right++;
  });
  return right / rows.length;
}
