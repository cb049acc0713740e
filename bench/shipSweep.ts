/**
 * The CLINC150 (or any set's) intent bundle under 1 MB: a sweep of prune keep, PQ sub-vector
 * width and training mode (retrain: the table frozen; joint: PQ centroids learn with the task)
 * on the DAN student bench/ship.ts trains, each exported as an f16 bundle and scored through the
 * runtime on the same test examples as bench/ship.ts. One JSON object on stdout:
 *
 *   nice -n 19 npx tsx bench/shipSweep.ts [--set clinc150] [--configs 20000:10:joint,30000:20:joint]
 *        [--epochs 5] [--max-test 1000] [--out /tmp/slimtext-bench-ship]
 *
 * A config is keep:dsub:mode[:by] (by: norm, the default, or frequency). Needs the uncompressed
 * student from `npx tsx bench/ship.ts --prepare-only` (trained here when missing).
 * Accuracy only (no timing): run it under `nice -n 19`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../src/engine/index.js';
import { loadAnyModel } from '../src/models/anyModel.js';
import { compressModel, type CompressMode } from '../src/train/compress/compress.js';
import { encodeSlimBundle } from '../src/io/slimBundle.js';
import { runtimeAccuracy, SHIP_SETS, testSample } from './shipData.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const set = arg('set', 'clinc150');
const configs = arg('configs', '20000:10:joint,25000:10:joint,20000:8:joint,40000:20:joint').split(',');
const epochs = Number(arg('epochs', '5'));
const maxTest = Number(arg('max-test', '1000'));
const root = arg('out', '/tmp/slimtext-bench-ship');
getBackend().setThreads(1);
const log = (s: string) => console.error(`[shipSweep] ${s}`);
const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

const path = SHIP_SETS[set]!;
const dir = join(root, set);
mkdirSync(dir, { recursive: true });
const test = await testSample(path, maxTest);
const accuracy = (bytes: Uint8Array) => runtimeAccuracy(bytes, test);

const dan = join(dir, 'dan');
if (!existsSync(join(dan, 'slimtext.json'))) {
  log(`${set}: distill`);
  const r = spawnSync('node', ['bin/slimtext.js', 'distill', '--train', path, '--out', dan, '--epochs', '5', '--workers', '1', '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}
const base = await accuracy(encodeSlimBundle(await loadAnyModel(dan)));
log(`uncompressed: ${base}`);
const rows: Record<string, unknown>[] = [];
for (const c of configs) {
  const [keepS, dsubS, modeS, by = 'norm'] = c.split(':');
  const keep = Number(keepS), dsub = Number(dsubS), mode = modeS as CompressMode;
  const out = join(dir, `dan-prune${keep}${by === 'norm' ? '' : `-${by}`}-pq${dsub}-${mode}${epochs === 3 ? '' : `-e${epochs}`}`);
  const t0 = performance.now();
  let devAccuracy: number | undefined;
  if (!existsSync(join(out, 'slimtext.json'))) {
    log(`${c}: compress into ${out}`);
    const r = await compressModel({
      model: dan, methods: 'prune,pq', mode, train: path, out, overwrite: true, epochs,
      settings: { pruneKeep: keep, pqDsub: dsub, pruneBy: by as 'norm' | 'frequency', kmeansIters: 8, kmeansSample: 16384 },
      log: (l) => log(`${c}: ${l}`),
    });
    devAccuracy = r.after.dev_accuracy;
  }
  const tm = await loadAnyModel(out);
  for (const dtype of ['f16', 'f32'] as const) {
    const bytes = encodeSlimBundle(tm, { dtype });
    const a = await accuracy(bytes);
    rows.push({ config: c, keep, dsub, mode, by, epochs, dtype, bytes: bytes.length, under_1mb: bytes.length < 1_000_000, accuracy: round(a), drop_points: round(100 * (base - a), 2), dev_accuracy: devAccuracy, seconds: Math.round((performance.now() - t0) / 1000) });
    log(JSON.stringify(rows.at(-1)));
  }
}
console.log(JSON.stringify({ date: new Date().toISOString(), set, test_examples: test.length, uncompressed_accuracy: round(base), machine: '2-core AMD EPYC, shared with other work; nice -n 19', rows }, null, 1));
