/**
 * Multi-task benchmark (issue 9, CentraBert): one JSON object on stdout, progress on stderr.
 *
 * --part speed: the serving cost of answering N tasks for one text, merged (trunk once + N
 *   branches) against N separate full models, as counted FLOPs and layer passes and as measured
 *   single-core time (one text per call, tokenisation excluded for both). Shapes: a randomly
 *   initialised checkpoint of BERT-base's shape (12 x 768, written by this bench into a temporary
 *   folder and read back; times are CPU time of the one thread, see timeIt; speed needs no trained weights, and the N branches are one branch run N
 *   times, which costs what N distinct branches cost), and the --model checkpoint itself.
 *   Counted cost: (trunk + N x branch) / (N x layers) layer passes.
 * --part accuracy: per data set, full fine-tuning vs partial fine-tuning (embeddings and the
 *   bottom layers frozen, the top L train) vs branches distilled from the L = --teacher-layers
 *   branch to l layers; then one merged model of the --merge-branch recipe's branches, each task
 *   evaluated through the merged model (and checked equal to its standalone branch).
 *
 *   npx tsx bench/multitask.ts --part speed --threads 1
 *   npx tsx bench/multitask.ts --part accuracy --max-train 2000 --epochs 3 --threads 1
 * Flags: --model DIR (default ../shared/models/bert-l4-h128-mlm) --shared DIR
 *   speed: --shapes base,model --tasks 1,2,4,8,12,16,21 --trunks 6,8,10 (base) --model-trunks 2,3
 *     --branches 1,2 --texts 16 --repeats 3 --main-trunk 8 --other-tasks 1,8,21 (the other base trunks' N)
 *   accuracy: --sets sst2,clinc150,banking77,snips,atis,trec,emotion,agnews --partial 1,2,3
 *     --students 1,2 --teacher-layers 3 --max-train N --max-dev N --max-test N --epochs N --lr X
 *     --partial-lr X --distill-lr X --distill-epochs N --pooling mean --seeds 0 --merge-branch distill-1
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getBackend } from '../src/engine/index.js';
import { mean, sampleStd } from '../src/bench/stats.js';
import { readSplit } from '../src/train/tasks/taskData.js';
import { writeHfCheckpoint, type BertConfig } from '../src/io/hfCheckpoint.js';
import { BertModel, loadBert } from '../src/models/bert/model.js';
import { SequenceClassifier } from '../src/models/classifier.js';
import { classifierLogits, plainEncode } from '../src/models/inference.js';
import { branchOnTrunk, loadMultiTask, MultiTaskModel, type TaskBranch } from '../src/models/multiTask.js';
import { loadAnyModel } from '../src/models/anyModel.js';
import { loadTaskModel } from '../src/models/taskModel.js';
import { tokenizeAll, type TokenizedSet } from '../src/models/textBatch.js';
import { loadTokenizer } from '../src/text/tokenizer.js';
import { finetune } from '../src/train/finetune/finetune.js';
import { distillBranch } from '../src/train/multitask/branchDistill.js';
import { mergeBranches } from '../src/train/multitask/merge.js';
import { evaluateTaskModel } from '../src/train/tasks/evaluate.js';
import { repoRoot } from './root.js';

const { values: opt } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    model: { type: 'string' },
    shared: { type: 'string' },
    threads: { type: 'string', default: '1' },
    shapes: { type: 'string', default: 'base,model' },
    tasks: { type: 'string', default: '1,2,4,8,12,16,21' },
    // The full task sweep on the main trunk, a few points on the others (a loaded machine's time).
    'main-trunk': { type: 'string', default: '8' },
    'other-tasks': { type: 'string' },
    trunks: { type: 'string', default: '6,8,10' },
    'model-trunks': { type: 'string', default: '2,3' },
    branches: { type: 'string', default: '1,2' },
    texts: { type: 'string', default: '16' },
    repeats: { type: 'string', default: '3' },
    sets: { type: 'string', default: 'sst2,clinc150,banking77,snips,atis,trec,emotion,agnews' },
    partial: { type: 'string', default: '1,2,3' },
    students: { type: 'string', default: '1,2' },
    'teacher-layers': { type: 'string', default: '3' },
    'max-train': { type: 'string', default: '2000' },
    'max-dev': { type: 'string', default: '500' },
    'max-test': { type: 'string', default: '1000' },
    epochs: { type: 'string', default: '3' },
    'distill-epochs': { type: 'string' },
    lr: { type: 'string', default: '5e-4' },
    'partial-lr': { type: 'string' },
    'distill-lr': { type: 'string' },
    'batch-size': { type: 'string', default: '32' },
    'max-length': { type: 'string', default: '64' },
    pooling: { type: 'string', default: 'mean' },
    seeds: { type: 'string', default: '0' },
    'merge-branch': { type: 'string', default: 'distill-1' },
  },
});
const shared = resolve(opt.shared ?? join(repoRoot, '..', 'shared'));
const modelDir = resolve(opt.model ?? join(shared, 'models', 'bert-l4-h128-mlm'));
const threads = Number(opt.threads);
getBackend().setThreads(threads);
const ints = (s: string) => s.split(',').map((x) => Number(x.trim()));
const log = (l: string) => console.error(`[multitask] ${l}`);
const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
const tmp = mkdtempSync(join(tmpdir(), 'slimtext-multitask-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------------------------------------ speed

/** Multiply-adds x 2 of one encoder layer over T tokens (projections, attention, feed-forward). */
function layerFlops(c: BertConfig, T: number): number {
  const H = c.hiddenSize;
  return 2 * T * (4 * H * H + 2 * H * c.intermediateSize) + 2 * 2 * T * T * H;
}

/**
 * Median wall and CPU milliseconds of `repeats` runs of fn. CPU time (this process's user + system
 * time) is the single-core cost: with one kernel thread the work runs on this thread, and CPU time
 * leaves out the time the scheduler gives to other processes, which wall time on a shared,
 * oversubscribed machine does not.
 */
function timeIt(fn: () => void, repeats: number): { wall: number; cpu: number } {
  const walls: number[] = [];
  const cpus_: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus_.push((c.user + c.system) / 1000);
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { wall: med(walls), cpu: med(cpus_) };
}

async function speedOn(label: string, dir: string, trunks: number[]): Promise<Record<string, unknown>> {
  const { model: bert } = await loadBert(dir, { pooler: false });
  const c = bert.config;
  const tok = loadTokenizer(dir);
  const texts = (await readSplit(join(shared, 'data', 'sst2'), 'test', 'test')).examples.slice(0, Number(opt.texts)).map((e) => e.text);
  const sets: TokenizedSet[] = texts.map((t) => tokenizeAll(tok, [t], undefined, 128));
  const tokens = sets.map((s) => s.lengths[0]!);
  const C = 10;
  const repeats = Number(opt.repeats);
  const full = new SequenceClassifier(bert, { numLabels: C, usePooler: false, pooling: 'mean' });
  full.eval();
  const encode = plainEncode(0);
  const per = (t: { wall: number; cpu: number }) => ({ wall: t.wall / sets.length, cpu: t.cpu / sets.length });
  const fullMs = () => per(timeIt(() => { for (const s of sets) classifierLogits(full, s, 1, encode); }, repeats));
  log(`${label}: ${c.numLayers} x ${c.hiddenSize}, ${texts.length} texts of ${mean(tokens).toFixed(1)} tokens on average, ${threads} thread(s)`);
  fullMs(); // warm-up: first calls pay for JIT compilation and buffer pools
  const fullBefore = fullMs();
  const fullRuns = [fullBefore];
  log(`${label}: one full model ${fullBefore.cpu.toFixed(2)} ms CPU (${fullBefore.wall.toFixed(2)} ms wall) per text`);
  const flopsFull = mean(tokens.map((T) => c.numLayers * layerFlops(c, T)));
  const rows: Record<string, unknown>[] = [];
  for (const D of trunks) {
    for (const l of ints(opt.branches!)) {
      if (D + l > c.numLayers) continue;
      const spec = { start_layer: D, layers: l, pooling: 'mean' as const, use_pooler: false, dropout: 0.1, labels: Array.from({ length: C }, (_, i) => `c${i}`) };
      const model = branchOnTrunk(bert, spec);
      // The branch's own layers are the checkpoint's layers D..D+l-1 (copied in).
      for (let i = 0; i < l; i++) model.bert.encoder.layer[D + i]!.loadParameters((n) => new Map(bert.encoder.layer[D + i]!.namedParameters()).get(n)?.data);
      model.eval();
      // The separate-model cost measured again beside each trunk / branch group (the machine is shared).
      const fullNow = fullMs();
      fullRuns.push(fullNow);
      const mainTrunk = Number(opt['main-trunk']) === D || label !== 'base';
      for (const N of ints(mainTrunk || !opt['other-tasks'] ? opt.tasks! : opt['other-tasks'])) {
        const tasks: TaskBranch[] = Array.from({ length: N }, (_, i) => ({ spec: { ...spec, name: `t${i}`, weights: `branch-t${i}` }, model }));
        const mt = new MultiTaskModel(dir, bert, tasks, tok, 128);
        mt.logits(sets[0]!, tasks, 1);
        const t = per(timeIt(() => { for (const s of sets) mt.logits(s, tasks, 1); }, repeats));
        const ms = t.cpu;
        const separateMs = N * fullNow.cpu;
        const counted = (D + N * l) / (N * c.numLayers);
        const flops = mean(tokens.map((T) => (D + N * l) * layerFlops(c, T))) / (N * flopsFull);
        const measured = ms / separateMs;
        rows.push({
          full_cpu_ms: round(fullNow.cpu, 2), trunk: D, branch: l, tasks: N, merged_cpu_ms: round(ms, 2), separate_cpu_ms: round(separateMs, 2),
          merged_wall_ms: round(t.wall, 2), separate_wall_ms: round(N * fullNow.wall, 2), wall_ratio: round(t.wall / (N * fullNow.wall)), counted_ratio: round(counted), flops_ratio: round(flops),
          measured_ratio: round(measured), saving: round(1 - measured), measured_over_counted: round(measured / counted, 3),
        });
        log(`${label} trunk ${D} + ${N} x ${l}: ${ms.toFixed(2)} ms CPU vs ${separateMs.toFixed(2)} ms separate = ${(100 * measured).toFixed(1)}% (counted ${(100 * counted).toFixed(1)}%)`);
      }
    }
  }
  const fullAfter = fullMs();
  return {
    shape: { layers: c.numLayers, hidden: c.hiddenSize, heads: c.numHeads, intermediate: c.intermediateSize },
    texts: texts.length, mean_tokens: round(mean(tokens), 1), full_model_cpu_ms: { runs: [...fullRuns, fullAfter].map((x) => round(x.cpu, 2)), spread: round(Math.max(...[...fullRuns, fullAfter].map((x) => x.cpu)) / Math.min(...[...fullRuns, fullAfter].map((x) => x.cpu)), 3) },
    full_model_wall_ms: [...fullRuns, fullAfter].map((x) => round(x.wall, 2)),
    rows,
  };
}

async function speed(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const shape of opt.shapes!.split(',')) {
    if (shape === 'base') {
      const config: BertConfig = {
        vocabSize: 30522, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, hiddenAct: 'gelu', maxPositions: 512,
        typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, padTokenId: 0,
      };
      const dir = join(tmp, 'bert-base-random');
      log('writing a randomly initialised 12 x 768 checkpoint');
      const vocab = readFileSync(join(modelDir, 'vocab.txt'), 'utf8').split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
      await writeHfCheckpoint(dir, { config, weights: new BertModel(config, { seed: 0, pooler: false }).toWeights(), vocab });
      out['bert-base-shape-random'] = await speedOn('base', dir, ints(opt.trunks!));
      rmSync(dir, { recursive: true, force: true });
    } else if (shape === 'model') {
      out[modelDir] = await speedOn('model', modelDir, ints(opt['model-trunks']!));
    } else throw new Error(`unknown shape ${shape}`);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ accuracy

interface Run {
  recipe: string;
  seed: number;
  test_accuracy: number;
  dev_accuracy: number;
  train_seconds: number;
  dir: string;
}

async function accuracy(): Promise<Record<string, unknown>> {
  const sets = opt.sets!.split(',');
  const seeds = ints(opt.seeds!);
  const maxTrain = Number(opt['max-train']);
  const base = {
    task: 'classify' as const, epochs: Number(opt.epochs), lr: Number(opt.lr), batchSize: Number(opt['batch-size']), maxLength: Number(opt['max-length']),
    maxTrain, maxDev: Number(opt['max-dev']), pooling: opt.pooling as 'mean' | 'cls', usePooler: false,
  };
  const partialLr = Number(opt['partial-lr'] ?? opt.lr);
  const distillLr = Number(opt['distill-lr'] ?? opt['partial-lr'] ?? opt.lr);
  const teacherL = Number(opt['teacher-layers']);
  const maxTest = Number(opt['max-test']);
  const results: Record<string, unknown> = {};
  const forMerge: { name: string; dir: string; data: string; standalone: number }[] = [];
  const t00 = performance.now();
  for (const name of sets) {
    const data = join(shared, 'data', name);
    const runs: Run[] = [];
    const test = async (dir: string, seed: number) => (await evaluateTaskModel(await loadAnyModel(dir), data, { split: 'test', maxExamples: maxTest, seed })).accuracy as number;
    for (const seed of seeds) {
      const ft = async (recipe: string, extra: object) => {
        const out = join(tmp, `${name}-${recipe}-${seed}`);
        const r = await finetune({ model: modelDir, train: data, out, recipe: { ...base, seed, ...extra } });
        runs.push({ recipe, seed, test_accuracy: await test(out, seed), dev_accuracy: r.best!.metrics.accuracy!, train_seconds: r.trainSeconds, dir: out });
        log(`${name} seed ${seed} ${recipe}: test ${runs.at(-1)!.test_accuracy.toFixed(4)} (${r.trainSeconds} s training)`);
        return out;
      };
      await ft('full', {});
      const layers = (await loadBert(modelDir)).model.numLayers;
      let teacherDir: string | undefined;
      for (const L of ints(opt.partial!)) {
        const dir = await ft(`partial-${L}`, { freezeEmbeddings: true, freezeLayers: layers - L, lr: partialLr });
        if (L === teacherL) teacherDir = dir;
      }
      if (!teacherDir) teacherDir = await ft(`partial-${teacherL}`, { freezeEmbeddings: true, freezeLayers: layers - teacherL, lr: partialLr });
      for (const l of ints(opt.students!)) {
        if (l >= teacherL) continue;
        const out = join(tmp, `${name}-distill-${l}-${seed}`);
        const r = await distillBranch({
          teacher: teacherDir, studentLayers: l, train: data, out,
          recipe: { epochs: Number(opt['distill-epochs'] ?? opt.epochs), lr: distillLr, batchSize: base.batchSize, maxTrain, maxDev: base.maxDev, seed },
        });
        runs.push({ recipe: `distill-${l}`, seed, test_accuracy: await test(out, seed), dev_accuracy: r.best!.metrics.accuracy!, train_seconds: r.trainSeconds, dir: out });
        log(`${name} seed ${seed} distill-${l} from partial-${teacherL}: test ${runs.at(-1)!.test_accuracy.toFixed(4)} (${r.trainSeconds} s training)`);
      }
      const m = runs.find((x) => x.recipe === opt['merge-branch'] && x.seed === seeds[0]);
      if (m && seed === seeds[0]) forMerge.push({ name, dir: m.dir, data, standalone: m.test_accuracy });
    }
    const byRecipe: Record<string, unknown> = {};
    for (const recipe of [...new Set(runs.map((r) => r.recipe))]) {
      const rs = runs.filter((r) => r.recipe === recipe);
      const acc = rs.map((r) => r.test_accuracy);
      byRecipe[recipe] = {
        test_accuracy: round(mean(acc)), ...(acc.length > 1 ? { sd: round(sampleStd(acc)) } : {}), dev_accuracy: round(mean(rs.map((r) => r.dev_accuracy))),
        train_seconds: round(mean(rs.map((r) => r.train_seconds)), 1), seeds: rs.length,
      };
    }
    results[name] = byRecipe;
  }
  // Mean over sets, and the gap to full fine-tuning.
  const recipes = [...new Set(Object.values(results).flatMap((r) => Object.keys(r as object)))];
  const average: Record<string, number> = {};
  for (const r of recipes) average[r] = round(mean(sets.map((s) => ((results[s] as Record<string, { test_accuracy: number }>)[r]?.test_accuracy ?? NaN))));
  const gap = Object.fromEntries(recipes.map((r) => [r, round(100 * (average[r]! - average.full!), 2)]));
  // One merged model of the chosen recipe's branches; each task evaluated through it.
  let merged: Record<string, unknown> | undefined;
  if (forMerge.length) {
    const out = join(tmp, 'merged');
    await mergeBranches(out, forMerge.map((f) => ({ dir: f.dir, name: f.name })));
    const mt = await loadMultiTask(out);
    merged = { branch_recipe: opt['merge-branch'], trunk_layers: Math.max(...mt.branches.map((b) => b.spec.start_layer)), tasks: {} as Record<string, unknown> };
    for (const f of forMerge) {
      const acc = (await evaluateTaskModel(mt.view(f.name), f.data, { split: 'test', maxExamples: maxTest, seed: seeds[0] })).accuracy as number;
      (merged.tasks as Record<string, unknown>)[f.name] = { merged_accuracy: round(acc), standalone_accuracy: round(f.standalone), identical: acc === f.standalone };
    }
    // Standalone equality of the logits themselves, on the first set's test texts.
    const f0 = forMerge[0]!;
    const { model: tm } = await loadTaskModel(f0.dir);
    if (tm.task !== 'reply') {
      const texts = (await readSplit(f0.data, 'test', 'test')).examples.slice(0, 200).map((e) => e.text);
      const set = tokenizeAll(tm.tokenizer, texts, undefined, tm.maxLength);
      const a = classifierLogits(tm.model, set, 64, plainEncode(0));
      const b = mt.logits(set, [mt.branch(f0.name)], 64)[0]!;
      merged.max_abs_logit_difference = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
    }
  }
  return {
    model: modelDir, recipe: { ...base, partial_lr: partialLr, distill_lr: distillLr, teacher_layers: teacherL, max_test: maxTest, seeds },
    sets: results, average_test_accuracy: average, points_vs_full: gap, ...(merged ? { merged } : {}), wall_seconds: round((performance.now() - t00) / 1000, 1),
  };
}

const report: Record<string, unknown> = {
  bench: 'multitask', date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, threads, backend: getBackend().name,
};
if (opt.part === 'speed' || opt.part === 'all') report.speed = await speed();
if (opt.part === 'accuracy' || opt.part === 'all') report.accuracy = await accuracy();
console.log(JSON.stringify(report, null, 2));
