/**
 * Shipping: bundle bytes, load time and single-text latency (Node and headless Chromium) and
 * accuracy of compressed one-file models, side by side with fastText's .ftz and with the same
 * transformer exported to ONNX and run by onnxruntime-node. One JSON object on stdout:
 *
 *   nice -n 19 npx tsx bench/ship.ts --prepare-only   (trains the models into --out; no timing)
 *   nice -n 19 npx tsx bench/ship.ts --part accuracy  (bytes and accuracy; cached in --out)
 *   flock /tmp/slimtext-bench.lock npx tsx bench/ship.ts --part speed   (timings; merges the cache)
 *   common: [--sets clinc150,sst2] [--max-train 8000] [--epochs 3] [--keep 20000] [--pq-dsub 8]
 *        [--compress-mode joint] [--compress-epochs 5] [--latency-texts 200] [--max-test 1000] [--out DIR]
 * (`--part all`, the default, does both in one process.)
 *
 * Per set: a supervised DAN student (slimtext distill on the train split, no teacher) compressed
 * with prune + PQ (joint: the PQ centroids trained with the task; or retrain), and a classifier fine-tuned from the shared bert-l4-h128 (training
 * capped by --max-train / --epochs for the CPU budget) with its word table PQ-compressed
 * post-hoc (slimtext compress) and exported at f16. Accuracy on
 * the test split: the uncompressed model through slimtext, each bundle through the runtime.
 * Everything on one thread.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadavg } from 'node:os';
import { getBackend } from '../src/engine/index.js';
import { loadAnyModel } from '../src/models/anyModel.js';
import { compressModel } from '../src/train/compress/compress.js';
import { readSplit } from '../src/train/tasks/taskData.js';
import { encodeSlimBundle } from '../src/io/slimBundle.js';
import { writeOnnx } from '../src/io/onnx/export.js';
import { loadBundle, singleTask } from '../src/runtime/index.js';
import { runtimeAccuracy, SHIP_SETS, testSample } from './shipData.js';
import { chromiumMissing, launchChromium, serve } from '../test/runtime/browser.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};

const sets = arg('sets', 'clinc150,sst2').split(',');
const maxTrain = arg('max-train', '8000');
const epochs = arg('epochs', '3');
const keep = Number(arg('keep', '20000'));
const dsub = Number(arg('pq-dsub', '8'));
const cmode = arg('compress-mode', 'joint') as 'joint' | 'retrain';
const cepochs = Number(arg('compress-epochs', '5'));
/** Which half to run: accuracy (slow, nice it), speed (short, under the bench lock) or both. */
const part = arg('part', 'all');
const doAccuracy = part !== 'speed', doSpeed = part !== 'accuracy';
const cacheFile = join(arg('out', '/tmp/slimtext-bench-ship'), `ship-accuracy-keep${Number(arg('keep', '20000'))}-pq${dsub}-${cmode}-e${cepochs}.json`);
const cached: Record<string, Record<string, unknown>> = !doAccuracy && existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {};
const nLatency = Number(arg('latency-texts', '200'));
/** Test examples scored through the runtime (the plain-JS transformer takes ~10-30 ms a text here). */
const maxTest = Number(arg('max-test', '1000'));
const root = arg('out', '/tmp/slimtext-bench-ship');
const BERT = '../shared/models/bert-l4-h128-mlm';
/** Train the models (no timing: no need for the bench lock) and stop; a later run reuses them. */
const prepareOnly = process.argv.includes('--prepare-only');
getBackend().setThreads(1);
const log = (s: string) => console.error(`[ship] ${s}`);

const cli = (args: string[]) => {
  const r = spawnSync('node', ['bin/slimtext.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`slimtext ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (xs: number[]) => pct(xs, 50);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

interface Row {
  set: string;
  model: string;
  format: string;
  bytes: number;
  accuracy: number;
  [k: string]: unknown;
}
const rows: Row[] = [];
const bundles: Record<string, Uint8Array> = {};
const latencyTexts: Record<string, string[]> = {};

async function nodeTimings(bytes: Uint8Array, texts: string[]): Promise<Record<string, number>> {
  const loads: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await loadBundle(bytes);
    loads.push(performance.now() - t0);
  }
  const m = singleTask(await loadBundle(bytes));
  for (const t of texts.slice(0, 50)) m.predict(t);
  const us: number[] = [];
  for (const t of texts) {
    const t0 = performance.now();
    m.predict(t);
    us.push((performance.now() - t0) * 1000);
  }
  const top1: Record<string, number> = {};
  if (m.kind === 'dan') {
    // The DAN again asking for the best label only (no ranking of all labels), three passes.
    const us1: number[] = [];
    for (let r = 0; r < 3; r++) {
      for (const t of texts) {
        const t0 = performance.now();
        m.predict(t, { topK: 1 });
        us1.push((performance.now() - t0) * 1000);
      }
    }
    Object.assign(top1, { node_top1_p50_us: round(median(us1), 1), node_top1_p99_us: round(pct(us1, 99), 1) });
  }
  return { node_load_ms_median: round(median(loads)), node_load_ms_first: round(loads[0]!), node_p50_us: round(median(us), 1), node_p99_us: round(pct(us, 99), 1), ...top1 };
}

for (const set of sets) {
  const path = SHIP_SETS[set]!;
  const dir = join(root, set);
  mkdirSync(dir, { recursive: true });
  const test = await testSample(path, maxTest);
  const texts = test.map((e) => e.text).slice(0, nLatency);
  latencyTexts[set] = texts;

  // DAN student, then prune + PQ retrained.
  const dan = join(dir, 'dan');
  if (!existsSync(join(dan, 'slimtext.json'))) {
    log(`${set}: distill`);
    cli(['distill', '--train', path, '--out', dan, '--epochs', '5', '--workers', '1', '--quiet']);
  }
  // The same folder name bench/shipSweep.ts uses, so a sweep's model is reused.
  const danPq = join(dir, `dan-prune${keep}-pq${dsub}-${cmode}${cepochs === 3 ? '' : `-e${cepochs}`}`);
  if (!existsSync(join(danPq, 'slimtext.json'))) {
    log(`${set}: compress`);
    await compressModel({ model: dan, methods: 'prune,pq', mode: cmode, train: path, out: danPq, overwrite: true, epochs: cepochs, settings: { pruneKeep: keep, pqDsub: dsub, kmeansIters: 8, kmeansSample: 16384 } });
  }
  // Transformer classifier.
  const bert = join(dir, 'bert');
  if (!existsSync(join(bert, 'slimtext.json'))) {
    log(`${set}: finetune`);
    cli(['finetune', '--model', BERT, '--train', path, '--out', bert, '--epochs', epochs, '--max-train', maxTrain, '--max-dev', '1000', '--lr', '5e-4', '--pooling', 'mean', '--max-length', '64', '--threads', '1']);
  }
  const bertPq = join(dir, 'bert-pq8');
  if (!existsSync(join(bertPq, 'slimtext.json'))) {
    log(`${set}: compress the transformer's word table`);
    await compressModel({ model: bert, methods: 'pq', mode: 'posthoc', out: bertPq, overwrite: true, settings: { pqDsub: 8, kmeansIters: 8, kmeansSample: 16384 } });
  }
  if (prepareOnly) continue;
  log(`${set}: evaluate and time`);
  // The uncompressed models' accuracy on the same examples: their f32 bundles through the runtime,
  // which predicts as slimtext does (test/runtime).
  const acc = async (m: string) => runtimeAccuracy(encodeSlimBundle(await loadAnyModel(m)), test);
  const danAcc = doAccuracy ? await acc(dan) : 0, bertAcc = doAccuracy ? await acc(bert) : 0;
  const pqName = `DAN student, prune ${keep} + PQ (dsub ${dsub}), ${cmode === 'joint' ? 'joint (centroids trained with the task)' : 'retrained'}`;
  const variants: [string, string, string, 'f32' | 'f16', number][] = [
    ['dan', 'DAN student (uncompressed)', dan, 'f32', danAcc],
    ['dan-pq', pqName, danPq, 'f32', danAcc],
    ['dan-pq-f16', `${pqName}, f16 bundle`, danPq, 'f16', danAcc],
    ['bert', 'bert-l4-h128 classifier (uncompressed, f32)', bert, 'f32', bertAcc],
    ['bert-f16', 'bert-l4-h128 classifier, f16 bundle', bert, 'f16', bertAcc],
    ['bert-pq-f16', 'bert-l4-h128 classifier, PQ word table (dsub 8, post-hoc), f16 bundle', bertPq, 'f16', bertAcc],
  ];
  for (const [key, name, folder, dtype, base] of variants) {
    const bytes = encodeSlimBundle(await loadAnyModel(folder), { dtype });
    bundles[`${set}-${key}.slim`] = bytes;
    const id = `${set}-${key}`;
    if (doAccuracy) {
      const a = await runtimeAccuracy(bytes, test);
      cached[id] = { accuracy: round(a, 4), uncompressed_accuracy: round(base, 4), drop_points: round(100 * (base - a), 2), test_examples: test.length };
    }
    rows.push({ set, model: name, format: 'slimtext bundle', bytes: bytes.length, ...(cached[id] ?? {}), ...(doSpeed ? await nodeTimings(bytes, texts) : {}) } as Row);
  }

  // The transformer as ONNX in onnxruntime-node: bytes, session load, single-text latency.
  const onnx = join(dir, 'onnx', 'model.onnx');
  const tm = await loadAnyModel(bert);
  await writeOnnx(onnx, tm, { overwrite: true, source: bert });
  if (!('tokenizer' in tm)) throw new Error('expected a transformer');
  const onnxRow: Row = { set, model: 'bert-l4-h128 classifier (f32)', format: 'ONNX, onnxruntime-node 1.30 (tokenised by slimtext)', bytes: statSync(onnx).size, accuracy: (cached[`${set}-bert`]?.accuracy as number | undefined) ?? 0 };
  if (doSpeed) {
    const ort = await import('onnxruntime-node');
    const loads: number[] = [];
    let session!: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      loads.push(performance.now() - t0);
    }
    const run = async (text: string) => {
      const e = tm.tokenizer.encode(text, undefined, { maxLength: tm.maxLength });
      const T = e.ids.length;
      const i64 = (a: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(Array.from(a, BigInt)), [1, T]);
      return (await session.run({ input_ids: i64(e.ids), attention_mask: i64(e.attentionMask), token_type_ids: i64(e.typeIds) })).logits!.data as Float32Array;
    };
    for (const t of texts.slice(0, 50)) await run(t);
    const us: number[] = [];
    for (const t of texts) {
      const t0 = performance.now();
      await run(t);
      us.push((performance.now() - t0) * 1000);
    }
    Object.assign(onnxRow, { node_load_ms_median: round(median(loads)), node_p50_us: round(median(us), 1), node_p99_us: round(pct(us, 99), 1) });
  }
  rows.push(onnxRow);

  // fastText supervised + quantize on the same train split (accuracy part only; cached for the speed part).
  if (doAccuracy) {
    const ft = async (split: string) => {
      const file = join(dir, `${split}.ft`);
      const r = split === 'test' ? { examples: test } : await readSplit(path, split, split);
      writeFileSync(file, r.examples.map((e) => `__label__${e.label!.replace(/\s/g, '_')} ${e.text.replace(/\s+/g, ' ')}`).join('\n') + '\n');
      return file;
    };
    const trainFt = await ft('train'), testFt = await ft('test');
    const model = join(dir, 'ft');
    const runFt = (a: string[]) => spawnSync('fasttext', a, { encoding: 'utf8' });
    runFt(['supervised', '-input', trainFt, '-output', model, '-wordNgrams', '2', '-epoch', '10', '-thread', '1', '-verbose', '0']);
    runFt(['quantize', '-input', trainFt, '-output', model, '-qnorm', '-retrain', '-cutoff', String(keep), '-epoch', '10', '-thread', '1', '-verbose', '0']);
    const p1 = (m: string) => Number(/P@1\s+([\d.]+)/.exec(runFt(['test', m, testFt]).stdout)?.[1]);
    cached[`${set}-ft-bin`] = { set, test_examples: test.length, model: 'fastText supervised (wordNgrams 2)', format: 'fastText .bin', bytes: statSync(`${model}.bin`).size, accuracy: p1(`${model}.bin`) };
    cached[`${set}-ft-ftz`] = { set, model: `fastText quantize -qnorm -retrain -cutoff ${keep}`, format: 'fastText .ftz', bytes: statSync(`${model}.ftz`).size, accuracy: p1(`${model}.ftz`) };
  }
  for (const k of ['ft-bin', 'ft-ftz']) if (cached[`${set}-${k}`]) rows.push(cached[`${set}-${k}`] as Row);
}

if (doAccuracy && !prepareOnly) writeFileSync(cacheFile, JSON.stringify(cached, null, 1));
if (prepareOnly) process.exit(0);

// Headless Chromium: the browser example page, cold load of each bundle, then timings in the page.
let chromium: Record<string, unknown> = {};
const missing = chromiumMissing();
if (!doSpeed) chromium = { skipped: '--part accuracy' };
else if (missing) chromium = { skipped: missing };
else {
  log('chromium');
  const server = await serve('.', bundles);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    for (const name of Object.keys(bundles)) {
      await page.goto(`${server.url}/examples/browser/index.html?model=/models/${name}`);
      await page.waitForFunction(() => (window as unknown as { slimtext?: unknown }).slimtext !== undefined, undefined, { timeout: 60_000 });
      const set = name.split('-')[0]!;
      const r = await page.evaluate(async ({ texts, url }) => {
        const w = window as unknown as { slimtext: { model: { predict: (t: string) => unknown }; loadMs: number; loadBundle: (b: Uint8Array) => Promise<unknown> } };
        const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
        const loads: number[] = [];
        for (let i = 0; i < 10; i++) {
          const t0 = performance.now();
          await w.slimtext.loadBundle(bytes);
          loads.push(performance.now() - t0);
        }
        for (const t of texts.slice(0, 50)) w.slimtext.model.predict(t);
        const us: number[] = [];
        for (const t of texts) {
          const t0 = performance.now();
          w.slimtext.model.predict(t);
          us.push((performance.now() - t0) * 1000);
        }
        return { first: w.slimtext.loadMs, loads, us };
      }, { texts: latencyTexts[set]!, url: `/models/${name}` });
      const row = rows.find((x) => x.set === set && x.format === 'slimtext bundle' && x.bytes === bundles[name]!.length)!;
      Object.assign(row, { chromium_load_ms_first: round(r.first), chromium_load_ms_median: round(median(r.loads)), chromium_p50_us: round(median(r.us), 1), chromium_p99_us: round(pct(r.us, 99), 1) });
    }
    chromium = { browser: 'Debian chromium, headless (playwright-core), performance.now() resolution as the page gets it (coarsened to 5-100 us)' };
  } finally {
    await browser.close();
    await server.close();
  }
}

const runtime = readFileSync('dist/runtime/slimtext-runtime.js');
console.log(JSON.stringify({
  date: new Date().toISOString(), machine: '2-core AMD EPYC, shared with other work', threads: 1, part, loadavg_1min_at_end: round(loadavg()[0]!, 2),
  compression: `prune ${keep} + PQ dsub ${dsub}, ${cmode}, ${cepochs} epochs`, accuracy_cache: cacheFile,
  training: { dan: 'slimtext distill --epochs 5 on the full train split (no teacher)', transformer: `slimtext finetune from bert-l4-h128-mlm, --max-train ${maxTrain} --epochs ${epochs} --lr 5e-4 --pooling mean --max-length 64` },
  test_sample: `every k-th example of the test split, k = ceil(n / ${maxTest}); fastText scored on the same examples`,
  runtime: { file: 'dist/runtime/slimtext-runtime.js', minified_bytes: runtime.length, gzipped_bytes: gzipSync(runtime, { level: 9 }).length },
  rows, chromium,
}, null, 1));
