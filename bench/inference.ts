/**
 * Inference benchmark, side by side in one run: slimtext's inference path (fp32 and int8), the
 * taped forward it replaced, onnxruntime-node and PyTorch, on a BERT-base-shaped random checkpoint
 * (12 x 768, written to a temp dir) and on ../shared/models/bert-l4-h128-mlm, with 1 and 2 threads:
 * texts/s over length-sorted batches of 128 SST-2 test sentences, and p50 latency of one sentence.
 * Contenders are interleaved, round after round; figures are medians over rounds (and the best).
 * The encoder alone is timed (token ids in, last hidden state out) for every contender.
 *
 *   npx tsx bench/inference.ts [--rounds 3] [--threads 1,2] [--shapes base,small] [--base-texts 128]
 *     [--small-texts 872] [--singles 21] [--taped-shapes small] [--wasm-shapes base,small]
 *     [--composed-shapes small] [--profile]
 *   --profile: adds the per-kernel split of the taped forward on one batch (--rounds 0: that alone)
 *   wasm-fp32 / wasm-int8: the same path on the portable wasm backend (its fused kernels);
 *   wasm-composed: wasm with its fused kernels taken away (each step composed from generic kernels,
 *   what the wasm backend ran before). After the rounds, the time to prepare int8 weights from fp32
 *   (quantise + pack) is set against preparing them from saved int8 codes (pack only; what loading a
 *   `compress --method int8-linear` folder does), and the two are checked to give the same outputs.
 *
 * PyTorch (Debian python3-torch) runs in bench/torch_inference.py, which also exports the encoder
 * to ONNX with torch.onnx.export for onnxruntime-node.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadBackend, noGrad, setBackend, type Backend } from '../src/engine/index.js';
import { quantizeEncoder } from '../src/models/bert/int8.js';
import { BertModel, loadBert } from '../src/models/bert/model.js';
import { FastBert } from '../src/models/bert/fastForward.js';
import { lengthSortedBatches, padRows, tokenizeAll, type PaddedBatch, type TokenizedSet } from '../src/models/textBatch.js';
import { loadTokenizer } from '../src/text/tokenizer.js';
import { median } from '../src/bench/stats.js';
import { profileRun } from '../src/bench/profile.js';
import { repoRoot } from './root.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1,2' },
    shapes: { type: 'string', default: 'base,small' },
    'base-texts': { type: 'string', default: '128' },
    'small-texts': { type: 'string', default: '872' },
    singles: { type: 'string', default: '21' },
    profile: { type: 'boolean', default: false },
    // the taped forward (the path this one replaced) is slow at BERT-base size: by default timed on the small model only
    'taped-shapes': { type: 'string', default: 'small' },
    'wasm-shapes': { type: 'string', default: 'base,small' },
    'composed-shapes': { type: 'string', default: 'small' },
  },
});
const rounds = Number(values.rounds);
const threadCounts = values.threads!.split(',').map(Number);
const SHARED = join(repoRoot, '..', 'shared');
const SMALL_DIR = join(SHARED, 'models', 'bert-l4-h128-mlm');
const PYTHON = process.env.SLIMTEXT_REF_PYTHON ?? '/usr/bin/python3';
const BATCH = 128;

const native = loadBackend('native');
const wasm = loadBackend('wasm');
setBackend(native);
const tok = loadTokenizer(SMALL_DIR);
const sentences = readFileSync(join(SHARED, 'data', 'sst2', 'test.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim())
  .map((l) => l.slice(0, l.lastIndexOf('\t')));
const tmp = mkdtempSync(join(tmpdir(), 'slimtext-infer-bench-'));

interface Contender {
  name: string;
  throughput(threads: number): Promise<number>;
  latency(threads: number): Promise<number>;
}

interface Workload {
  set: TokenizedSet;
  batches: PaddedBatch[];
  singles: PaddedBatch[];
  tokensPerText: number;
}

function workload(nTexts: number, nSingles: number): Workload {
  const set = tokenizeAll(tok, sentences.slice(0, nTexts), undefined, 128);
  const pad = tok.padId >= 0 ? tok.padId : 0;
  const batches = lengthSortedBatches(set.lengths, BATCH).map((rows) => padRows(set, rows, pad));
  // single-text latency over sentences spread through the file (not only the first ones)
  const step = Math.max(1, Math.floor(set.lengths.length / nSingles));
  const singles = Array.from({ length: nSingles }, (_, i) => padRows(set, [Math.min(i * step, set.lengths.length - 1)], pad));
  const tokensPerText = set.lengths.reduce((a, b) => a + b, 0) / set.lengths.length;
  return { set, batches, singles, tokensPerText };
}

/** texts/s over all batches after a one-text warm-up. */
function timeBatches(w: Workload, run: (b: PaddedBatch) => void): number {
  run(w.singles[0]!);
  const n = w.batches.reduce((s, b) => s + b.lengths.length, 0);
  const t0 = performance.now();
  for (const b of w.batches) run(b);
  return n / ((performance.now() - t0) / 1000);
}

/** p50 milliseconds of one text. */
function timeSingles(w: Workload, run: (b: PaddedBatch) => void): number {
  run(w.singles[0]!);
  const ms = w.singles.map((b) => {
    const t0 = performance.now();
    run(b);
    return performance.now() - t0;
  });
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)]!;
}

function slimtext(name: string, w: Workload, run: (b: PaddedBatch) => void, be: Backend = native): Contender {
  return {
    name,
    throughput: async (t) => (be.setThreads(t), timeBatches(w, run)),
    latency: async (t) => (be.setThreads(t), timeSingles(w, run)),
  };
}

function ortFeeds(b: PaddedBatch): Record<string, ort.Tensor> {
  const shape = [...b.ids.shape];
  return {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(b.ids.data, (x) => BigInt(x)), shape),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(b.attentionMask.data, (x) => BigInt(x)), shape),
  };
}

async function onnxRuntime(w: Workload, path: string): Promise<Contender & { outputs(b: PaddedBatch): Promise<Float32Array> }> {
  const sessions = new Map<number, ort.InferenceSession>();
  const session = async (t: number) => {
    let s = sessions.get(t);
    if (!s) {
      s = await ort.InferenceSession.create(path, { intraOpNumThreads: t, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
      sessions.set(t, s);
    }
    return s;
  };
  const feeds = new Map<PaddedBatch, Record<string, ort.Tensor>>();
  for (const b of [...w.batches, ...w.singles]) feeds.set(b, ortFeeds(b));
  const time = async (list: PaddedBatch[], s: ort.InferenceSession) => {
    const ms: number[] = [];
    for (const b of list) {
      const t0 = performance.now();
      await s.run(feeds.get(b)!);
      ms.push(performance.now() - t0);
    }
    return ms;
  };
  return {
    name: 'onnxruntime',
    async throughput(t) {
      const s = await session(t);
      await time([w.singles[0]!], s);
      const ms = await time(w.batches, s);
      return w.set.lengths.length / (ms.reduce((a, b) => a + b, 0) / 1000);
    },
    async latency(t) {
      const s = await session(t);
      await time([w.singles[0]!], s);
      const ms = (await time(w.singles, s)).sort((a, b) => a - b);
      return ms[Math.floor(ms.length / 2)]!;
    },
    async outputs(b) {
      const s = await session(1);
      const r = await s.run(feeds.get(b)!);
      return r.last_hidden_state!.data as Float32Array;
    },
  };
}

/** bench/torch_inference.py as a long-lived child answering one request per line. */
async function pytorch(modelDir: string, w: Workload, onnxPath: string): Promise<Contender & { version: string; close(): void }> {
  const dataPath = join(tmp, `data-${Math.random().toString(36).slice(2)}.json`);
  const rows = (b: PaddedBatch, key: 'ids' | 'attentionMask') => {
    const [B, T] = b.ids.shape as [number, number];
    return Array.from({ length: B }, (_, r) => Array.from(b[key].data.subarray(r * T, (r + 1) * T)));
  };
  writeFileSync(dataPath, JSON.stringify({
    batches: w.batches.map((b) => ({ ids: rows(b, 'ids'), mask: rows(b, 'attentionMask') })),
    singles: w.singles.map((b) => rows(b, 'ids')[0]),
  }));
  const child = spawn(PYTHON, [join(repoRoot, 'bench', 'torch_inference.py'), modelDir, dataPath, onnxPath], {
    stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done) throw new Error('torch_inference.py exited early (see its stderr above)');
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const ready = await next();
  const ask = async (threads: number, what: string) => {
    child.stdin!.write(`${JSON.stringify({ threads, what })}\n`);
    return next();
  };
  return {
    name: 'pytorch',
    version: String(ready.torch),
    throughput: async (t) => (await ask(t, 'throughput')).texts_per_s as number,
    latency: async (t) => (await ask(t, 'latency')).p50_ms as number,
    close: () => child.stdin!.end(),
  };
}

interface Figures {
  texts_per_s: number[];
  p50_ms: number[];
}

async function benchShape(label: string, model: BertModel, modelDir: string, nTexts: number) {
  const w = workload(nTexts, Number(values.singles));
  const taped = values['taped-shapes']!.split(',').includes(label);
  const onnxPath = join(tmp, `${label}.onnx`);
  const torch = await pytorch(modelDir, w, onnxPath);
  const ortC = await onnxRuntime(w, onnxPath);
  const fp32 = FastBert.prepare(model, { backend: native });
  const int8 = FastBert.prepare(model, { backend: native, quantize: 'int8' });
  const onWasm = values['wasm-shapes']!.split(',').includes(label);
  const composed = values['composed-shapes']!.split(',').includes(label);
  const wFp32 = onWasm ? FastBert.prepare(model, { backend: wasm }) : undefined;
  const wInt8 = onWasm ? FastBert.prepare(model, { backend: wasm, quantize: 'int8' }) : undefined;
  const wComposed = composed ? FastBert.prepare(model, { backend: Object.create(wasm, { infer: { value: undefined } }) as Backend }) : undefined;
  model.train(false);
  const contenders: Contender[] = [
    slimtext('slimtext-fp32', w, (b) => fp32.lastHidden(b)),
    slimtext('slimtext-int8', w, (b) => int8.lastHidden(b)),
    ...(!taped ? [] : [slimtext('slimtext-taped', w, (b) => noGrad(() => model.encode(model.embed(b), model.maskFor(b))))]),
    ...(wFp32 ? [slimtext('wasm-fp32', w, (b) => wFp32.lastHidden(b), wasm), slimtext('wasm-int8', w, (b) => wInt8!.lastHidden(b), wasm)] : []),
    ...(wComposed ? [slimtext('wasm-composed', w, (b) => wComposed.lastHidden(b), wasm)] : []),
    ortC,
    torch,
  ];
  // the same function? fp32 against onnxruntime, int8 against fp32, on the first batch's real tokens
  const b0 = w.batches[0]!;
  const H = model.config.hiddenSize;
  const check = {
    fp32_vs_onnxruntime_max_abs: maxAbsDiffRows(fp32.lastHidden(b0).data, await ortC.outputs(b0), b0.lengths, b0.ids.shape[1]!, H),
    int8_vs_fp32_max_abs: maxAbsDiffRows(int8.lastHidden(b0).data, fp32.lastHidden(b0).data, b0.lengths, b0.ids.shape[1]!, H),
    ...(wFp32 ? {
      wasm_fp32_vs_native_fp32_max_abs: maxAbsDiffRows(wFp32.lastHidden(b0).data, fp32.lastHidden(b0).data, b0.lengths, b0.ids.shape[1]!, H),
      wasm_int8_vs_native_int8_max_abs: maxAbsDiffRows(wInt8!.lastHidden(b0).data, int8.lastHidden(b0).data, b0.lengths, b0.ids.shape[1]!, H),
    } : {}),
  };
  const figures = new Map<string, Figures>();
  for (let r = 0; r < rounds; r++) {
    for (const t of threadCounts) {
      // rotate the order each round so no contender always runs first (or right after another)
      const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
      for (const c of order) {
        const key = `${c.name}@${t}`;
        const f = figures.get(key) ?? { texts_per_s: [], p50_ms: [] };
        f.texts_per_s.push(await c.throughput(t));
        f.p50_ms.push(await c.latency(t));
        figures.set(key, f);
        process.stderr.write(`${label} round ${r + 1}/${rounds} ${key}: ${f.texts_per_s.at(-1)!.toFixed(1)} texts/s, p50 ${f.p50_ms.at(-1)!.toFixed(2)} ms\n`);
      }
    }
  }
  torch.close();
  const results: Record<string, Record<string, unknown>> = {};
  for (const t of rounds > 0 ? threadCounts : []) {
    const row: Record<string, unknown> = {};
    for (const c of contenders) {
      const f = figures.get(`${c.name}@${t}`)!;
      row[c.name] = {
        texts_per_s: round(median(f.texts_per_s)), texts_per_s_best: round(Math.max(...f.texts_per_s)),
        p50_ms: round(median(f.p50_ms), 3), p50_ms_best: round(Math.min(...f.p50_ms), 3),
      };
    }
    const g = (name: string, k: 'texts_per_s' | 'p50_ms') => median(figures.get(`${name}@${t}`)![k]);
    row.ratios = {
      fp32_vs_onnxruntime_throughput: round(g('slimtext-fp32', 'texts_per_s') / g('onnxruntime', 'texts_per_s'), 3),
      fp32_vs_pytorch_throughput: round(g('slimtext-fp32', 'texts_per_s') / g('pytorch', 'texts_per_s'), 3),
      int8_vs_fp32_throughput: round(g('slimtext-int8', 'texts_per_s') / g('slimtext-fp32', 'texts_per_s'), 3),
      int8_vs_onnxruntime_throughput: round(g('slimtext-int8', 'texts_per_s') / g('onnxruntime', 'texts_per_s'), 3),
      ...(!taped ? {} : { fp32_vs_taped_throughput: round(g('slimtext-fp32', 'texts_per_s') / g('slimtext-taped', 'texts_per_s'), 3) }),
      ...(!wFp32 ? {} : {
        wasm_int8_vs_wasm_fp32_throughput: round(g('wasm-int8', 'texts_per_s') / g('wasm-fp32', 'texts_per_s'), 3),
        wasm_int8_vs_wasm_fp32_latency: round(g('wasm-fp32', 'p50_ms') / g('wasm-int8', 'p50_ms'), 3),
        native_fp32_vs_wasm_fp32_throughput: round(g('slimtext-fp32', 'texts_per_s') / g('wasm-fp32', 'texts_per_s'), 3),
      }),
      ...(!wComposed ? {} : { wasm_fp32_vs_composed_throughput: round(g('wasm-fp32', 'texts_per_s') / g('wasm-composed', 'texts_per_s'), 3) }),
      onnxruntime_vs_fp32_latency: round(g('onnxruntime', 'p50_ms') / g('slimtext-fp32', 'p50_ms'), 3),
      pytorch_vs_fp32_latency: round(g('pytorch', 'p50_ms') / g('slimtext-fp32', 'p50_ms'), 3),
    };
    results[`threads_${t}`] = row;
  }
  native.setThreads(1);
  // int8 weights prepared from fp32 (quantise + pack) vs from saved codes (pack only), same outputs
  const t0 = performance.now();
  const atLoad = FastBert.prepare(model, { backend: native, quantize: 'int8' });
  const prepareAtLoad = performance.now() - t0;
  quantizeEncoder(model, native); // what compress --method int8-linear saves (weights become their dequantised values)
  const t1 = performance.now();
  const saved = FastBert.prepare(model, { backend: native });
  const prepareSaved = performance.now() - t1;
  const savedInt8 = {
    source: saved.int8Source(),
    prepare_ms_from_fp32: round(prepareAtLoad, 1), prepare_ms_from_saved_codes: round(prepareSaved, 1),
    saved_vs_at_load_max_abs: maxAbsDiffRows(saved.lastHidden(b0).data, atLoad.lastHidden(b0).data, b0.lengths, b0.ids.shape[1]!, H),
  };
  const profile = values.profile
    ? { taped_forward_batch128_1thread: profileRun(() => void noGrad(() => model.encode(model.embed(b0), model.maskFor(b0))), 3) }
    : {};
  return {
    model: label === 'base' ? 'random BERT-base shape (12 x 768, 12 heads, 3072)' : 'bert-l4-h128-mlm',
    texts: w.set.lengths.length, tokens_per_text: round(w.tokensPerText, 1), batch: BATCH, singles: w.singles.length,
    int8_kernel: int8.int8Kernel(), torch: torch.version, onnxruntime: ort.env.versions?.node ?? 'unknown',
    check, results, saved_int8: savedInt8, ...profile,
  };
}

/** max |a - b| over the real tokens of two padded (B, T, H) outputs. */
function maxAbsDiffRows(a: Float32Array, b: Float32Array, lengths: Int32Array, T: number, H: number): number {
  let m = 0;
  lengths.forEach((len, r) => {
    for (let i = r * T * H; i < (r * T + len) * H; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  });
  return m;
}

function round(x: number, digits = 1): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

async function main() {
  const out: Record<string, unknown> = {
    bench: 'inference', date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, rounds,
    note: 'encoder only (token ids -> last hidden state); texts/s: length-sorted batches of 128 SST-2 test sentences; p50_ms: one sentence; medians over rounds, contenders interleaved',
  };
  const shapes = values.shapes!.split(',');
  if (shapes.includes('base')) {
    const { model: small } = await loadBert(SMALL_DIR, { pooler: false });
    const config = { ...small.config, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072 };
    const model = new BertModel(config, { seed: 1, pooler: false });
    const dir = join(tmp, 'bert-base-random');
    const { writeHfCheckpoint } = await import('../src/io/hfCheckpoint.js');
    await writeHfCheckpoint(dir, { config, weights: model.toWeights(), vocab: readFileSync(join(SMALL_DIR, 'vocab.txt'), 'utf8').split('\n').filter((l, i, a) => l !== '' || i < a.length - 1) });
    out.base = await benchShape('base', model, dir, Number(values['base-texts']));
  }
  if (shapes.includes('small')) {
    const { model } = await loadBert(SMALL_DIR, { pooler: false });
    out.small = await benchShape('small', model, SMALL_DIR, Number(values['small-texts']));
  }
  console.log(JSON.stringify(out, null, 2));
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
