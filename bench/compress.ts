/**
 * Embedding compression of DAN students, side by side, printed as one JSON object (plot-ready:
 * `points` holds one {set, method, mode, bytes, accuracy} per model, fastText's included):
 *
 *   npx tsx bench/compress.ts --part dan [--sets clinc150,agnews] [--keep 30000] [--max-train N] [--out DIR]
 *       [--student-epochs 5] [--student-args '--max-n 2 --lr 1e-2'] [--joint-epochs 3] [--runs ref,pq-posthoc,pq-retrain,pq-joint,pq-qnorm-joint,int4-retrain,lowrank-joint]
 *   npx tsx bench/compress.ts --part bert [--sets trec,snips] [--max-train N] [--epochs E] [--ft-epochs F]
 *       [--runs pq-posthoc-none,pq-posthoc-count,pq-retrain-count,pq-joint-count,int4-posthoc-none,f16-retrain-count] [--reuse]
 *
 * dan: for each set a supervised DAN student (slimtext distill on at most N labelled train rows,
 * no teacher: sized to the CPU budget), then prune+PQ post-hoc / retrain / joint (and joint with
 * --qnorm), prune+int4 retrain and prune+lowrank joint (--runs picks some), each retrain / joint
 * run --joint-epochs more epochs, each on the full test split; then Debian fastText `supervised`
 * (tutorial settings: lr 1.0, 25 epochs, dim 100, wordNgrams 2) and `quantize -qnorm -retrain
 * -cutoff KEEP` on the same rows (bytes of .bin /
 * .ftz, accuracy over every test row by fasttext predict); the compressed point with the best dev
 * accuracy is marked selected_by_dev (dev: the set's dev split, else train rows outside the sample;
 * --student-args passes distill flags, round 3: '--max-n 2 --hidden 0 --lr 1e-2 --cased'); and a lookup-speed check: texts/s of the dense, PQ and int4 students
 * through DanPredictor one text at a time, one thread, same texts, side by side.
 * bert: a classifier fine-tuned from ../shared/models/bert-l4-h128-mlm (mean pooling, lr 5e-4) on
 * at most N rows for F epochs (default 3), then its word embeddings compressed (retrain / joint: E epochs): PQ (16-wide sub-vectors, 256 centroids)
 * post-hoc without and with task-aware fitting, retrain and joint; int4 post-hoc; codes joint.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../src/engine/index.js';
import { loadAnyModel, isDan } from '../src/models/anyModel.js';
import { inspectModel } from '../src/models/inspect.js';
import { compressModel, type CompressMode } from '../src/train/compress/compress.js';
import { evaluateTaskModel } from '../src/train/tasks/evaluate.js';
import { readSplit, subsample } from '../src/train/tasks/taskData.js';
import type { Example } from '../src/data/index.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const SETS: Record<string, { path: string; format?: string }> = {
  clinc150: { path: '../shared/data/clinc150' }, snips: { path: '../shared/data/snips' }, atis: { path: '../shared/data/atis' },
  banking77: { path: '../shared/data/banking77/splits' }, trec: { path: '../shared/data/trec' }, sst2: { path: '../shared/data/sst2' },
  agnews: { path: '../shared/data/agnews' },
};
const part = arg('part', 'dan');
const sets = arg('sets', part === 'dan' ? 'clinc150,snips,atis,banking77,trec,sst2,agnews' : 'trec,snips').split(',');
const keep = Number(arg('keep', '30000'));
const maxTrain = arg('max-train', '6000');
const epochs = arg('epochs', '2');
const ftEpochs = arg('ft-epochs', '3');
const root = arg('out', '/tmp/slimtext-bench-compress');
const jointEpochs = Number(arg('joint-epochs', '3'));
const studentEpochs = arg('student-epochs', '5');
const only = arg('runs', '');
// Extra `slimtext distill` flags for the student (round 3: '--max-n 2 --lr 1e-2').
const studentArgs = arg('student-args', '').split(/\s+/).filter(Boolean);
getBackend().setThreads(1);

const cli = (args: string[]) => {
  const r = spawnSync('node', ['bin/slimtext.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`slimtext ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const points: Record<string, unknown>[] = [];
// Written after every model too, so an interrupted run keeps what it measured.
const partial = () => writeFileSync(join(root, `partial-${part}.json`), JSON.stringify({ points, speed }, null, 1));
const speed: Record<string, unknown>[] = [];
const evalOf = async (m: string, path: string) => (await evaluateTaskModel(await loadAnyModel(m), path, { split: 'test' })).accuracy as number;
for (const set of part === 'bert' ? sets : []) {
  const { path } = SETS[set]!;
  const dir = join(root, `bert-${set}`);
  mkdirSync(dir, { recursive: true });
  const model = join(dir, 'model');
  // --reuse: keep a classifier an earlier run of this bench fine-tuned into OUT (same flags, same seed).
  if (!(process.argv.includes('--reuse') && existsSync(join(model, 'slimtext.json')))) {
    rmSync(model, { recursive: true, force: true });
    cli(['finetune', '--model', '../shared/models/bert-l4-h128-mlm', '--train', path, '--task', 'classify', '--out', model, '--epochs', ftEpochs, '--lr', '5e-4', '--pooling', 'mean', '--max-length', '64', '--max-train', maxTrain, '--threads', '1']);
  }
  const base = await inspectModel(model);
  const baseAcc = await evalOf(model, path);
  points.push({ set, model: 'bert', method: 'dense', mode: '-', finetune_epochs: Number(ftEpochs), bytes: base.bytes_on_disk, embedding_bytes: base.embedding_bytes, accuracy: baseAcc });
  const runs: [string, CompressMode, string, Record<string, number>][] = [
    ['pq', 'posthoc', 'none', { pqDsub: 16 }], ['pq', 'posthoc', 'count', { pqDsub: 16 }], ['pq', 'retrain', 'count', { pqDsub: 16 }], ['pq', 'joint', 'count', { pqDsub: 16 }],
    ['int4', 'posthoc', 'none', {}],
    // Only when --runs names it: f16 (near-lossless, frozen) retrained the same epochs, the reference
    // that separates "more training of the rest" from what PQ costs.
    ['f16', 'retrain', 'count', {}],
  ];
  for (const [methods, mode, fit, st] of runs) {
    if (only ? !only.split(',').includes(`${methods}-${mode}-${fit}`) : methods === 'f16') continue;
    const out = join(dir, `${methods}-${mode}-${fit}`);
    const r = await compressModel({ model, methods, mode, train: path, out, overwrite: true, epochs: Number(epochs), maxTrain: Number(maxTrain), maxDev: 500, fitWeights: fit as 'count' | 'none', settings: { kmeansIters: 8, ...st } });
    const acc = await evalOf(out, path);
    points.push({ set, model: 'bert', method: methods, mode, fit_weights: fit, ...(mode === 'posthoc' ? {} : { epochs: Number(epochs), best_epoch: r.training?.bestEpoch }), bytes: r.after.bytes_on_disk, embedding_bytes: r.after.embedding_bytes, embedding_reduction: 1 - r.embedding_ratio, accuracy: acc, relative_drop: (baseAcc - acc) / baseAcc, seconds: r.seconds });
    console.error(`${set} ${methods} ${mode} ${fit}: ${acc}`);
    partial();
  }
}
for (const set of part === 'dan' ? sets : []) {
  const { path } = SETS[set]!;
  const dir = join(root, set);
  mkdirSync(dir, { recursive: true });
  const dan = join(dir, 'dan');
  rmSync(dan, { recursive: true, force: true });
  // The same seeded sample of train rows for the student, its compression and fastText.
  const tsv = (rows: Example[], file: string) => writeFileSync(file, rows.map((e) => `${e.text.replace(/\s+/g, ' ')}\t${e.label}`).join('\n') + '\n');
  const allTrain = (await readSplit(path, 'train', 'train')).examples;
  const trainRows = subsample(allTrain, Number(maxTrain), 0, 'bench');
  const trainTsv = join(dir, 'train.tsv');
  tsv(trainRows, trainTsv);
  const devTsv = join(dir, 'dev.tsv');
  // A set without a dev split (TREC, AG News) takes its dev rows from the train rows outside the
  // sample, so the student trains on all the rows fastText gets (not on 90% of them).
  const inSample = new Set(trainRows);
  const devRows = await readSplit(path, 'dev', 'dev').then((d) => d.examples, () => allTrain.filter((e) => !inSample.has(e)));
  tsv(subsample(devRows, 1000, 0, 'bench-dev'), devTsv);
  cli(['distill', '--train', trainTsv, '--dev', devTsv, '--out', dan, '--epochs', studentEpochs, '--workers', '1', '--quiet', ...studentArgs]);
  const base = await inspectModel(dan);
  const baseAcc = await evalOf(dan, path);
  points.push({ set, model: 'dan', method: 'dense', mode: '-', bytes: base.bytes_on_disk, embedding_bytes: base.embedding_bytes, accuracy: baseAcc });
  // 'prune' keeping every row + joint = the dense student trained the same extra epochs: the
  // reference that separates "more training" from "the task signal through the compressed table".
  const runs: [string, string, CompressMode, Record<string, number | boolean>][] = [
    ['ref', 'prune', 'joint', { pruneKeep: 1e9 }], ['pq-posthoc', 'prune,pq', 'posthoc', { pqDsub: 8 }], ['pq-retrain', 'prune,pq', 'retrain', { pqDsub: 8 }], ['pq-joint', 'prune,pq', 'joint', { pqDsub: 8 }],
    ['pq-qnorm-joint', 'prune,pq', 'joint', { pqDsub: 8, qnorm: true }], ['int4-retrain', 'prune,int4', 'retrain', {}], ['lowrank-joint', 'prune,lowrank', 'joint', { rank: 16 }],
  ];
  for (const [label, methods, mode, s] of runs) {
    if (only && !only.split(',').includes(label)) continue;
    const out = join(dir, `${methods.replace(',', '-')}-${mode}${s.pruneKeep ? '-all' : ''}${s.qnorm ? '-qnorm' : ''}`);
    const r = await compressModel({ model: dan, methods, mode, train: trainTsv, dev: devTsv, out, overwrite: true, epochs: jointEpochs, settings: { pruneKeep: keep, kmeansIters: 8, kmeansSample: 16384, ...s } });
    const acc = await evalOf(out, path);
    points.push({ set, model: 'dan', method: methods, mode, ...(s.qnorm ? { qnorm: true } : {}), ...(s.pruneKeep ? { reference: 'dense + same epochs' } : {}), keep, joint_epochs: jointEpochs, bytes: r.after.bytes_on_disk, embedding_bytes: r.after.embedding_bytes, embedding_reduction: 1 - r.embedding_ratio, ...(r.after.dev_accuracy !== undefined ? { dev_accuracy: r.after.dev_accuracy } : {}), accuracy: acc, drop_points: 100 * (baseAcc - acc), relative_drop: (baseAcc - acc) / baseAcc, seconds: r.seconds });
    console.error(`${set} ${label}: ${r.after.bytes_on_disk} bytes, dev ${r.after.dev_accuracy}, accuracy ${acc}`);
    partial();
  }
  // The compressed student one would ship, chosen without the test split: best dev accuracy,
  // ties to the smaller model (round 3).
  const shipped = points.filter((p) => p.set === set && p.model === 'dan' && p.method !== 'dense' && !p.reference && typeof p.dev_accuracy === 'number')
    .sort((a, b) => (b.dev_accuracy as number) - (a.dev_accuracy as number) || (a.bytes as number) - (b.bytes as number))[0];
  if (shipped) shipped.selected_by_dev = true;
  const testRows = (await readSplit(path, 'test', 'test')).examples;
  // Lookup speed: dense vs the joint PQ student, same texts, one thread.
  const texts = testRows.map((e) => e.text).slice(0, 2000);
  const rate = async (m: string) => {
    const tm = await loadAnyModel(m);
    if (!isDan(tm)) throw new Error('not a DAN');
    const p = tm.dan.predictor();
    for (const t of texts) p.logitsOne(t);
    const t0 = performance.now();
    for (let k = 0; k < 3; k++) for (const t of texts) p.logitsOne(t);
    return (3 * texts.length) / ((performance.now() - t0) / 1000);
  };
  // (bench/tableSpeed.ts measures the same under the bench lock; this is the unlocked quick look.)
  if (!only || (only.includes('pq-joint') && only.includes('int4-retrain'))) {
    const dense = await rate(dan), pq = await rate(join(dir, 'prune-pq-joint')), i4 = await rate(join(dir, 'prune-int4-retrain'));
    speed.push({ set, dense_texts_per_s: Math.round(dense), pq_texts_per_s: Math.round(pq), int4_texts_per_s: Math.round(i4), pq_slowdown: dense / pq, int4_slowdown: dense / i4 });
  }
  // fastText on the same train split.
  const ft = (rows: Example[], name: string) => {
    const file = join(dir, `${name}.ft`);
    writeFileSync(file, rows.map((e) => `__label__${e.label!.replace(/\s/g, '_')} ${e.text.replace(/\s+/g, ' ')}`).join('\n') + '\n');
    return file;
  };
  const trainFt = ft(trainRows, 'train');
  const model = join(dir, 'ft');
  const run = (a: string[]) => spawnSync('fasttext', a, { encoding: 'utf8' });
  run(['supervised', '-input', trainFt, '-output', model, '-lr', '1.0', '-epoch', '25', '-wordNgrams', '2', '-dim', '100', '-thread', '1', '-verbose', '0']);
  run(['quantize', '-input', trainFt, '-output', model, '-qnorm', '-retrain', '-cutoff', String(keep), '-lr', '1.0', '-epoch', '25', '-thread', '1', '-verbose', '0']);
  // Accuracy over every test row, as slimtext counts it: `fasttext test` leaves out rows whose
  // label the model never saw (ATIS has 5), which flattered fastText's P@1 in rounds 1 and 2.
  const textsFile = join(dir, 'test.txt');
  writeFileSync(textsFile, testRows.map((e) => e.text.replace(/\s+/g, ' ')).join('\n') + '\n');
  const p1 = (m: string) => {
    const got = run(['predict', m, textsFile]).stdout.split('\n');
    return testRows.filter((e, i) => got[i] === `__label__${e.label!.replace(/\s/g, '_')}`).length / testRows.length;
  };
  points.push({ set, model: 'fasttext', method: 'fasttext', mode: 'supervised', bytes: statSync(`${model}.bin`).size, accuracy: p1(`${model}.bin`) });
  points.push({ set, model: 'fasttext', method: 'fasttext', mode: `quantize -qnorm -retrain -cutoff ${keep}`, bytes: statSync(`${model}.ftz`).size, accuracy: p1(`${model}.ftz`) });
  console.error(`${set} done`);
}
console.log(JSON.stringify({ machine: '2-core AMD EPYC, shared', part, threads: 1, keep, ...(part === 'bert' ? { finetune_epochs: Number(ftEpochs), compress_epochs: Number(epochs) } : {}), max_train: Number(maxTrain), student_epochs: Number(studentEpochs), student_args: studentArgs.join(' '), joint_epochs: jointEpochs, points, speed }, null, 1));
