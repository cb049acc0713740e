/**
 * Embedding compression of DAN students, side by side, printed as one JSON object (plot-ready:
 * `points` holds one {set, method, mode, bytes, accuracy} per model, fastText's included):
 *
 *   npx tsx bench/compress.ts [--sets clinc150,agnews] [--keep 30000] [--out DIR]
 *
 * For each set: a supervised DAN student (slimtext distill on the labelled train split, no
 * teacher: sized to the CPU budget), then prune+PQ post-hoc / retrain / joint and prune+int4
 * retrain, each evaluated on the test split; then Debian fastText `supervised` (wordNgrams 2) and
 * `quantize -qnorm -retrain -cutoff KEEP` on the same train split, bytes of the .bin and .ftz and
 * their test accuracy. A lookup-speed check compares the compressed and dense tables' inference
 * (texts/s through DanPredictor, one thread, same texts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../src/engine/index.js';
import { loadAnyModel, isDan } from '../src/models/anyModel.js';
import { inspectModel } from '../src/models/inspect.js';
import { compressModel, type CompressMode } from '../src/train/compress/compress.js';
import { evaluateTaskModel } from '../src/train/tasks/evaluate.js';
import { readSplit } from '../src/train/tasks/taskData.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const SETS: Record<string, { path: string; format?: string }> = {
  clinc150: { path: '../shared/data/clinc150' }, snips: { path: '../shared/data/snips' }, atis: { path: '../shared/data/atis' },
  banking77: { path: '../shared/data/banking77/splits' }, trec: { path: '../shared/data/trec' }, sst2: { path: '../shared/data/sst2' },
  agnews: { path: '../shared/data/agnews' },
};
const sets = arg('sets', 'clinc150,agnews').split(',');
const keep = Number(arg('keep', '30000'));
const root = arg('out', '/tmp/slimtext-bench-compress');
getBackend().setThreads(1);

const cli = (args: string[]) => {
  const r = spawnSync('node', ['bin/slimtext.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`slimtext ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const points: Record<string, unknown>[] = [];
const speed: Record<string, unknown>[] = [];
for (const set of sets) {
  const { path } = SETS[set]!;
  const dir = join(root, set);
  mkdirSync(dir, { recursive: true });
  const dan = join(dir, 'dan');
  rmSync(dan, { recursive: true, force: true });
  cli(['distill', '--train', path, '--out', dan, '--epochs', '5', '--workers', '1', '--quiet']);
  const evalOf = async (m: string) => (await evaluateTaskModel(await loadAnyModel(m), path, { split: 'test' })).accuracy as number;
  const base = await inspectModel(dan);
  const baseAcc = await evalOf(dan);
  points.push({ set, method: 'dense', mode: '-', bytes: base.bytes_on_disk, embedding_bytes: base.embedding_bytes, accuracy: baseAcc });
  const runs: [string, CompressMode, Record<string, number>][] = [
    ['prune,pq', 'posthoc', { pqDsub: 8 }], ['prune,pq', 'retrain', { pqDsub: 8 }], ['prune,pq', 'joint', { pqDsub: 8 }],
    ['prune,int4', 'retrain', {}], ['prune,lowrank', 'joint', { rank: 16 }],
  ];
  for (const [methods, mode, s] of runs) {
    const out = join(dir, `${methods.replace(',', '-')}-${mode}`);
    const r = await compressModel({ model: dan, methods, mode, train: path, out, overwrite: true, epochs: 3, settings: { pruneKeep: keep, kmeansIters: 8, kmeansSample: 16384, ...s } });
    const acc = await evalOf(out);
    points.push({ set, method: methods, mode, bytes: r.after.bytes_on_disk, embedding_bytes: r.after.embedding_bytes, embedding_reduction: 1 - r.embedding_ratio, accuracy: acc, drop_points: 100 * (baseAcc - acc), relative_drop: (baseAcc - acc) / baseAcc, seconds: r.seconds });
  }
  // Lookup speed: dense vs the joint PQ student, same texts, one thread.
  const texts = (await readSplit(path, 'test', 'test')).examples.map((e) => e.text).slice(0, 2000);
  const rate = async (m: string) => {
    const tm = await loadAnyModel(m);
    if (!isDan(tm)) throw new Error('not a DAN');
    const p = tm.dan.predictor();
    for (const t of texts) p.logitsOne(t);
    const t0 = performance.now();
    for (let k = 0; k < 3; k++) for (const t of texts) p.logitsOne(t);
    return (3 * texts.length) / ((performance.now() - t0) / 1000);
  };
  const dense = await rate(dan), pq = await rate(join(dir, 'prune-pq-joint')), i4 = await rate(join(dir, 'prune-int4-retrain'));
  speed.push({ set, dense_texts_per_s: Math.round(dense), pq_texts_per_s: Math.round(pq), int4_texts_per_s: Math.round(i4), pq_slowdown: dense / pq, int4_slowdown: dense / i4 });
  // fastText on the same train split.
  const ft = (split: string) => {
    const file = join(dir, `${split}.ft`);
    return readSplit(path, split, split).then((r) => {
      writeFileSync(file, r.examples.map((e) => `__label__${e.label!.replace(/\s/g, '_')} ${e.text.replace(/\s+/g, ' ')}`).join('\n') + '\n');
      return file;
    });
  };
  const trainFt = await ft('train'), testFt = await ft('test');
  const model = join(dir, 'ft');
  const run = (a: string[]) => spawnSync('fasttext', a, { encoding: 'utf8' });
  run(['supervised', '-input', trainFt, '-output', model, '-wordNgrams', '2', '-epoch', '10', '-thread', '1', '-verbose', '0']);
  run(['quantize', '-input', trainFt, '-output', model, '-qnorm', '-retrain', '-cutoff', String(keep), '-epoch', '10', '-thread', '1', '-verbose', '0']);
  const p1 = (m: string) => Number(/P@1\s+([\d.]+)/.exec(run(['test', m, testFt]).stdout)?.[1]);
  points.push({ set, method: 'fasttext', mode: 'supervised', bytes: statSync(`${model}.bin`).size, accuracy: p1(`${model}.bin`) });
  points.push({ set, method: 'fasttext', mode: `quantize -qnorm -retrain -cutoff ${keep}`, bytes: statSync(`${model}.ftz`).size, accuracy: p1(`${model}.ftz`) });
  console.error(`${set} done`);
}
console.log(JSON.stringify({ machine: '2-core AMD EPYC, shared', threads: 1, keep, points, speed }, null, 1));
