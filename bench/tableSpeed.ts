/**
 * Lookup speed of compressed DAN tables against the dense one, side by side in one run, printed as
 * one JSON object (run it under `flock /tmp/slimtext-bench.lock`, at normal priority):
 *
 *   npx tsx bench/tableSpeed.ts --dir /tmp/slimtext-bench-compress/clinc150 --data ../shared/data/clinc150 [--texts 2000] [--rounds 5]
 *
 * DIR holds the models bench/compress.ts --part dan writes: dan (dense), prune-pq-joint,
 * prune-pq-joint-qnorm (if present), prune-int4-retrain. `pq (expanded path)` is the PQ model with
 * its codes widened to 32 bits, which sends its lookups down the path the fused kernel replaced
 * (codeword ids expanded in JS, then the plain embedding bag): the before/after of the kernel;
 * `int4 (expanded path)` likewise is the int4 model on the path the fused quantBagMean replaced
 * (every looked-up row dequantised, then a second bag pass).
 * Each round times every model once on the same test texts, one text at a time through
 * DanPredictor, one thread (texts_per_s: inference as a caller sees it, featurising included),
 * then the table alone: all the texts' bags averaged in one bagMeanInto call, five times
 * (lookup_ids_per_s). Figures are the median round (rounds interleave the models, so a busy
 * moment on the shared machine hits them alike).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../src/engine/index.js';
import { loadAnyModel, isDan } from '../src/models/anyModel.js';
import { CodesTable } from '../src/models/tables/codes.js';
import { QuantTable } from '../src/models/tables/quantized.js';
import { readSplit } from '../src/train/tasks/taskData.js';
import type { Dan } from '../src/models/dan.js';

const arg = (name: string, def?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1]!;
  if (def === undefined) throw new Error(`--${name} is required`);
  return def;
};
const dir = arg('dir');
const nTexts = Number(arg('texts', '2000'));
const rounds = Number(arg('rounds', '5'));
getBackend().setThreads(1);

const texts = (await readSplit(arg('data'), 'test', 'test')).examples.map((e) => e.text).slice(0, nTexts);
const load = async (name: string): Promise<Dan> => {
  const tm = await loadAnyModel(join(dir, name));
  if (!isDan(tm)) throw new Error(`${name}: not a DAN`);
  return tm.dan;
};
const models: [string, Dan][] = [['dense', await load('dan')], ['pq', await load('prune-pq-joint')]];
if (existsSync(join(dir, 'prune-pq-joint-qnorm'))) models.push(['pq qnorm', await load('prune-pq-joint-qnorm')]);
models.push(['int4', await load('prune-int4-retrain')]);
{
  const slow = await load('prune-pq-joint');
  const t = slow.model.embeddings as unknown as CodesTable;
  const wide = new CodesTable(t.kind, t.rows, t.dim, t.books, t.words, Int32Array.from(t.codes), t.codebooks.data);
  (slow.model as unknown as { embeddings: unknown }).embeddings = wide;
  models.push(['pq (expanded path)', slow]);
}
{
  // int4 down the path the fused quantBagMean replaced (dequantise every row, then a bag pass).
  const slow = await load('prune-int4-retrain');
  const t = slow.model.embeddings as unknown as QuantTable;
  (slow.model as unknown as { embeddings: unknown }).embeddings = new QuantTable(t.rows, t.dim, t.bits, t.q, t.scaleBias, { expanded: true });
  models.push(['int4 (expanded path)', slow]);
}
const preds = models.map(([name, dan]) => [name, dan.predictor()] as const);
const sink = new Float32Array(1);
for (const [, p] of preds) for (const t of texts) sink[0]! += p.logitsOne(t)[0]!;
const times = new Map<string, number[]>(preds.map(([n]) => [n, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, p] of preds) {
    const t0 = performance.now();
    for (const t of texts) sink[0]! += p.logitsOne(t)[0]!;
    times.get(name)!.push(texts.length / ((performance.now() - t0) / 1000));
  }
}
// The table alone: every test text's bag averaged in one call (ids featurized once, outside the clock).
// (Each model featurises with its own vocabulary: the pruned ones map fewer n-grams to rows.)
const bagsOf = new Map(models.map(([n, dan]) => [n, dan.featurize(texts)] as const));
const lookups = new Map<string, number[]>(models.map(([n]) => [n, []]));
const buf = new Float32Array(texts.length * models[0]![1].model.embeddings.dim);
for (let r = 0; r < rounds; r++) {
  for (const [name, dan] of models) {
    const bags = bagsOf.get(name)!;
    const t0 = performance.now();
    for (let k = 0; k < 5; k++) dan.model.embeddings.bagMeanInto(texts.length, bags.ids, bags.offsets, buf);
    lookups.get(name)!.push((5 * bags.ids.length) / ((performance.now() - t0) / 1000));
    sink[0]! += buf[0]!;
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const idRate = Object.fromEntries([...lookups].map(([n, xs]) => [n, Math.round(median(xs))]));
const rate = Object.fromEntries([...times].map(([n, xs]) => [n, Math.round(median(xs))]));
const dense = rate['dense']!;
console.log(JSON.stringify({
  machine: '2-core AMD EPYC, shared', backend: getBackend().name, threads: 1, texts: texts.length, rounds, dir,
  texts_per_s: rate, slowdown_vs_dense: Object.fromEntries(Object.entries(rate).map(([n, v]) => [n, +(dense / v).toFixed(3)])),
  lookup_ids_per_s: idRate, lookup_slowdown_vs_dense: Object.fromEntries(Object.entries(idRate).map(([n, v]) => [n, +(idRate['dense']! / v).toFixed(3)])), ids: Object.fromEntries([...bagsOf].map(([n, b]) => [n, b.ids.length])), checksum: sink[0],
}, null, 1));
