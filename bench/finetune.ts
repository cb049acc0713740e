/**
 * Fine-tuning cost benchmark (issue 4): on SST-2, CLINC150 and DailyDialog reply suggestion with
 * ../shared/models/bert-l4-h128-mlm, full fine-tuning against freezing, dropping, and both, with
 * the same seeds, epochs and data; plus a run from random initialisation. For each run: total
 * training time, time per epoch, and the test metric (accuracy; recall@1 and MRR on 1-of-100
 * replies), and each variant's time saving and metric change against full fine-tuning.
 *
 * Prints one JSON object on stdout (progress on stderr); models go to a temporary folder that is
 * removed. Sizes are flags, so a full run fits the time at hand:
 *   npx tsx bench/finetune.ts                                   # defaults: about 30 min on 2 idle cores
 *   npx tsx bench/finetune.ts --max-train 400 --max-dev 200 --max-test 200 --epochs 1   # smoke run
 * Flags: --sets sst2,clinc150,dailydialog --configs full,freeze,drop,drop-bottom,both,random --epochs N
 *   --max-train N --max-dev N --max-test N (per set: --max-train-sst2 N, ...) --freeze-layers K
 *   --drop-layers SPEC (the drop variant, default top:2) --drop-bottom SPEC (default bottom:2)
 *   --both-drop SPEC --both-freeze K --lr-classify X --lr-reply X --batch-size N
 *   --max-length N --seed N --seeds 0,1,2 --pooling cls|mean|auto --threads N --model DIR --shared DIR
 * With --seeds, every variant runs once per seed (data sample, initialisation and dropout all
 * follow the seed) and the table compares means, with the spread across seeds beside them: one
 * seed's metric moves by about a point on these test sets, as much as the effects measured.
 * Pooling is the mean of the tokens by default for every variant: bert-l4-h128-mlm was pretrained
 * by masked LM alone, its [CLS] vector is nearly constant, and a classifier reading [CLS] over
 * mostly frozen layers does not learn at all (TREC, 1 trainable layer: dev 0.23 with [CLS], 0.67
 * with mean pooling), which would say nothing about what freezing costs.
 * On a machine whose cores other work is using, pass --threads 1: two BLAS threads that keep being
 * descheduled stall each other (measured: a layer's forward pass from 9 ms to 30-120 ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getBackend } from '../src/engine/index.js';
import { mean, sampleStd } from '../src/bench/stats.js';
import { loadTaskModel } from '../src/models/taskModel.js';
import { evaluateTaskModel } from '../src/train/tasks/evaluate.js';
import { finetune } from '../src/train/finetune/finetune.js';
import type { Recipe } from '../src/train/recipe.js';
import { repoRoot } from './root.js';

interface SetSpec {
  task: 'classify' | 'reply';
  path: string;
  /** Test metrics reported, the first being the one compared. */
  metrics: string[];
  maxTrain: number;
  maxDev: number;
  maxTest: number;
}

const SETS: Record<string, SetSpec> = {
  sst2: { task: 'classify', path: 'data/sst2', metrics: ['accuracy'], maxTrain: 20000, maxDev: 1000, maxTest: 0 },
  clinc150: { task: 'classify', path: 'data/clinc150', metrics: ['accuracy'], maxTrain: 15000, maxDev: 1500, maxTest: 0 },
  dailydialog: { task: 'reply', path: 'data/dailydialog', metrics: ['recall_at_1', 'mrr', 'recall_at_5'], maxTrain: 15000, maxDev: 1000, maxTest: 2000 },
};
const CONFIGS = ['full', 'freeze', 'drop', 'drop-bottom', 'both', 'random'] as const;
type Config = (typeof CONFIGS)[number];

const setNames = Object.keys(SETS);
const { values: a } = parseArgs({
  options: {
    sets: { type: 'string', default: setNames.join(',') },
    configs: { type: 'string', default: CONFIGS.join(',') },
    epochs: { type: 'string', default: '3' },
    'max-train': { type: 'string' },
    'max-dev': { type: 'string' },
    'max-test': { type: 'string' },
    ...Object.fromEntries(setNames.flatMap((s) => ['train', 'dev', 'test'].map((k) => [`max-${k}-${s}`, { type: 'string' as const }]))),
    'freeze-layers': { type: 'string', default: '2' },
    'drop-layers': { type: 'string', default: 'top:2' },
    'drop-bottom': { type: 'string', default: 'bottom:2' },
    'both-drop': { type: 'string', default: 'top:1' },
    'both-freeze': { type: 'string', default: '2' },
    'lr-classify': { type: 'string', default: '5e-4' },
    'lr-reply': { type: 'string', default: '2e-4' },
    'batch-size': { type: 'string', default: '32' },
    'max-length': { type: 'string', default: '64' },
    seed: { type: 'string', default: '0' },
    seeds: { type: 'string' },
    pooling: { type: 'string', default: 'mean' },
    threads: { type: 'string' },
    model: { type: 'string' },
    shared: { type: 'string' },
  },
});
const opt = a as Record<string, string | undefined>;
const int = (k: string): number | undefined => (opt[k] === undefined ? undefined : Number(opt[k]));
const shared = resolve(opt.shared ?? join(repoRoot, '..', 'shared'));
const modelDir = opt.model ?? join(shared, 'models', 'bert-l4-h128-mlm');
if (opt.threads) getBackend().setThreads(Number(opt.threads));
const sets = opt.sets!.split(',').map((s) => s.trim());
const configs = opt.configs!.split(',').map((s) => s.trim()) as Config[];
for (const s of sets) if (!SETS[s]) throw new Error(`unknown set '${s}' (known: ${setNames.join(', ')})`);
for (const c of configs) if (!CONFIGS.includes(c)) throw new Error(`unknown config '${c}' (known: ${CONFIGS.join(', ')})`);

const variant: Record<Config, Partial<Recipe>> = {
  full: {},
  freeze: { freezeEmbeddings: true, freezeLayers: int('freeze-layers')! },
  drop: { dropLayers: opt['drop-layers']! },
  'drop-bottom': { dropLayers: opt['drop-bottom']! },
  both: { dropLayers: opt['both-drop']!, freezeEmbeddings: true, freezeLayers: int('both-freeze')! },
  random: { randomInit: true },
};

const work = mkdtempSync(join(tmpdir(), 'slimtext-bench-ft-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const started = performance.now();
const results: Record<string, unknown> = {};

for (const name of sets) {
  const spec = SETS[name]!;
  const size = (k: 'train' | 'dev' | 'test', def: number) => int(`max-${k}-${name}`) ?? int(`max-${k}`) ?? def;
  const base: Partial<Recipe> = {
    task: spec.task, pooling: opt.pooling as Recipe['pooling'], epochs: int('epochs')!, batchSize: int('batch-size')!, maxLength: int('max-length')!, seed: int('seed')!,
    lr: Number(spec.task === 'reply' ? opt['lr-reply'] : opt['lr-classify']), maxTrain: size('train', spec.maxTrain), maxDev: size('dev', spec.maxDev),
  };
  const runs: Record<string, Record<string, unknown>> = {};
  const seeds = (opt.seeds ?? opt.seed!).split(',').map((x) => Number(x.trim()));
  for (const config of configs) {
    const perSeed: Record<string, unknown>[] = [];
    for (const seed of seeds) {
      const out = join(work, `${name}-${config}-${seed}`);
      console.error(`[${elapsed()}] ${name} ${config} seed ${seed}: fine-tuning`);
      const r = await finetune({ model: modelDir, train: join(shared, spec.path), out, recipe: { ...base, seed, ...variant[config] } });
      const { model } = await loadTaskModel(out);
      const test = await evaluateTaskModel(model, join(shared, spec.path), { split: 'test', maxExamples: size('test', spec.maxTest), seed });
      rmSync(out, { recursive: true, force: true });
      perSeed.push({
        seed,
        train_seconds: r.trainSeconds,
        epoch_seconds: r.history.map((e) => e.train_seconds),
        eval_seconds: round(r.history.reduce((s, e) => s + e.eval_seconds, 0)),
        wall_seconds: r.wallSeconds,
        best_epoch: r.best?.epoch,
        dev: r.best?.metrics,
        test: Object.fromEntries(spec.metrics.map((m) => [m, test[m]])),
        test_n: test.n,
        inference_throughput_per_s: test.throughput_per_s,
        trainable_parameters: r.parameters.trainable,
        parameters: r.parameters.total,
        layers_kept: r.layers.kept,
        ...(r.cache ? { cache: { hits: r.cache.hits, computed: r.cache.computed, saved_seconds: r.cache.savedSeconds, mb: round(r.cache.bytes / 2 ** 20) } } : {}),
      });
      console.error(`[${elapsed()}] ${name} ${config} seed ${seed}: ${r.trainSeconds.toFixed(1)} s training, test ${JSON.stringify(perSeed.at(-1)!.test)}`);
    }
    const one = perSeed[0]!;
    runs[config] = seeds.length === 1
      ? { ...one, recipe: variant[config] }
      : {
          train_seconds: round(mean(perSeed.map((r) => r.train_seconds as number))),
          test: Object.fromEntries(spec.metrics.map((m) => [m, round4(mean(perSeed.map((r) => (r.test as Record<string, number>)[m]!)))])),
          test_std: Object.fromEntries(spec.metrics.map((m) => [m, round4(sampleStd(perSeed.map((r) => (r.test as Record<string, number>)[m]!)))])),
          trainable_parameters: one.trainable_parameters, parameters: one.parameters, layers_kept: one.layers_kept,
          recipe: variant[config], seeds: perSeed,
        };
  }
  const full = runs.full as { train_seconds: number; test: Record<string, number> } | undefined;
  const vsFull = full
    ? Object.fromEntries(Object.entries(runs).filter(([c]) => c !== 'full').map(([c, run]) => {
        const rr = run as { train_seconds: number; test: Record<string, number> };
        const m = spec.metrics[0]!;
        return [c, { time_saving_pct: round(100 * (1 - rr.train_seconds / full.train_seconds)), [`${m}_delta_points`]: round(100 * (rr.test[m]! - full.test[m]!)) }];
      }))
    : undefined;
  results[name] = { task: spec.task, data: join(shared, spec.path), recipe: base, runs, ...(vsFull ? { vs_full: vsFull } : {}) };
}

console.log(JSON.stringify({
  date: new Date().toISOString(), command: ['npx tsx bench/finetune.ts', ...process.argv.slice(2)].join(' '), model: modelDir, backend: getBackend().name, threads: getBackend().threads(), cpus: cpus().length,
  total_seconds: round((performance.now() - started) / 1000), variants: variant, sets: results,
}, null, 2));

function elapsed(): string {
  return `${((performance.now() - started) / 1000).toFixed(0)} s`;
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
