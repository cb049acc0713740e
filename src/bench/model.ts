/**
 * `slimtext bench model`: how fast is this model, as a user asks it. Load time; single-text latency
 * (one text per call on one kernel thread, p50 / p99); batched throughput on 1..N threads through
 * the server's own worker pool (src/serve/workerPool.ts: one worker per thread, each running whole
 * batches with single-threaded kernels, as `slimtext serve` runs them). Works for every model kind,
 * through the serving layer's model interface. The JSON shape is a contract for scripts:
 *   {"model", "kind", "tasks", "bytes", "backend", "texts": {"source", "n", "mean_chars"},
 *    "load_ms", "single": {"p50_ms", "p99_ms", "mean_ms", "calls"},
 *    "batched": [{"threads", "batch", "texts_per_s", "texts", "seconds"}], "machine"}
 */
import { availableParallelism, cpus } from 'node:os';
import { corpusSentences } from '../data/corpus.js';
import { getBackend } from '../engine/index.js';
import { SlimtextError } from '../errors.js';
import { readSplit } from '../train/tasks/taskData.js';
import { loadServedModel, type Input } from '../serve/servedModel.js';
import { WorkerPool } from '../serve/workerPool.js';

export interface ModelBenchOptions {
  model: string;
  /** A data set (its texts; pairs for pair models) or an npm corpus (default npm:nlp-corpus). */
  data?: string;
  split?: string;
  /** Most texts to use (default 2000). */
  maxTexts?: number;
  /** Thread counts for the batched figure (default: 1 and every core). */
  threads?: number[];
  batch?: number;
  /** Seconds per measurement (default 3). */
  seconds?: number;
  onLine?: (msg: string) => void;
}

export interface ModelBench {
  model: string;
  kind: string;
  tasks: string[];
  bytes: number;
  backend: string;
  texts: { source: string; n: number; mean_chars: number };
  load_ms: number;
  single: { p50_ms: number; p99_ms: number; mean_ms: number; calls: number };
  batched: { threads: number; batch: number; texts_per_s: number; texts: number; seconds: number }[];
  machine: { cpus: number; cpu: string; node: string };
}

export async function benchModel(o: ModelBenchOptions): Promise<ModelBench> {
  const say = o.onLine ?? (() => {});
  const seconds = o.seconds ?? 3;
  const batch = o.batch ?? 64;
  const be = getBackend();
  const kernelThreads = be.threads();
  be.setThreads(1);
  try {
    const t0 = performance.now();
    const model = await loadServedModel(o.model);
    const loadMs = performance.now() - t0;
    const tasks = model.info.tasks.map((t) => t.name);
    const source = o.data ?? 'npm:nlp-corpus';
    const inputs = await benchTexts(source, o.split, o.maxTexts ?? 2000, model.info.tasks.some((t) => t.kind === 'pair'));
    const chars = inputs.reduce((n, x) => n + (typeof x === 'string' ? x.length : x[0].length + x[1].length), 0) / inputs.length;
    say(`bench model: loaded in ${loadMs.toFixed(0)} ms; ${inputs.length} texts from ${source}`);

    // Single texts, one at a time, on this thread (after a warm-up pass over a few).
    for (const x of inputs.slice(0, 16)) model.predict([x], tasks);
    const times: number[] = [];
    const until = performance.now() + seconds * 1000;
    for (let i = 0; performance.now() < until || times.length < 20; i = (i + 1) % inputs.length) {
      const s = performance.now();
      model.predict([inputs[i]!], tasks);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const q = (p: number) => round(times[Math.min(times.length - 1, Math.floor(p * times.length))]!);
    const single = { p50_ms: q(0.5), p99_ms: q(0.99), mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length), calls: times.length };
    say(`bench model: single text p50 ${single.p50_ms} ms, p99 ${single.p99_ms} ms`);

    const batched: ModelBench['batched'] = [];
    for (const threads of o.threads ?? [...new Set([1, availableParallelism()])]) {
      const r = await poolThroughput(o.model, inputs, tasks, threads, batch, seconds);
      batched.push({ threads, batch, ...r });
      say(`bench model: ${threads} thread(s), batches of ${batch}: ${r.texts_per_s} texts/s`);
    }
    return {
      model: o.model,
      kind: model.info.kind,
      tasks,
      bytes: model.info.bytes,
      backend: be.name,
      texts: { source, n: inputs.length, mean_chars: round(chars) },
      load_ms: round(loadMs),
      single,
      batched,
      machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    };
  } finally {
    be.setThreads(kernelThreads);
  }
}

/** texts/s of `threads` pool workers kept busy with batches for `seconds` (after one warm-up batch each). */
async function poolThroughput(dir: string, inputs: readonly Input[], tasks: string[], threads: number, batch: number, seconds: number) {
  const pool = WorkerPool.start(threads, { onIdle: () => {} });
  try {
    await Promise.all(pool.workers.map((w) => pool.load(w, 'bench', dir, 1)));
    const slice = (i: number) => Array.from({ length: batch }, (_, k) => inputs[(i + k) % inputs.length]!);
    await Promise.all(pool.workers.map((w) => pool.run(w, 'bench', slice(0), tasks)));
    let texts = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    await Promise.all(
      pool.workers.map(async (w, j) => {
        for (let i = j * batch; performance.now() < end; i += threads * batch) {
          await pool.run(w, 'bench', slice(i), tasks);
          texts += batch;
        }
      }),
    );
    const s = (performance.now() - t0) / 1000;
    return { texts_per_s: Math.round(texts / s), texts, seconds: round(s) };
  } finally {
    await pool.close();
  }
}

/** Texts (or [text, pair] for pair models) from a data set's split or an npm corpus. */
async function benchTexts(source: string, split: string | undefined, max: number, pairs: boolean): Promise<Input[]> {
  const out: Input[] = [];
  if (source.startsWith('npm:')) {
    for await (const s of corpusSentences(source)) {
      if (s.trim() === '') continue;
      out.push(pairs ? [s, s] : s);
      if (out.length >= max) break;
    }
  } else {
    const rows = (await readSplit(source, split, 'test')).examples;
    for (const ex of rows.slice(0, max)) out.push(pairs ? [ex.text, ex.pair ?? ''] : ex.text);
  }
  if (out.length === 0) throw new SlimtextError(`bench model: no texts in ${source}`);
  return out;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
