/**
 * Serving load test, one command, JSON on stdout (progress on stderr). Against 127.0.0.1 only,
 * every run bounded in requests and in seconds.
 *
 *   1. Models (kept in --work and reused): a transformer classifier fine-tuned on SST-2 from
 *      ../shared/models/bert-l4-h128-mlm, and a DAN student distilled from it (the teacher labels
 *      SST-2 training sentences). --transformer DIR / --dan DIR use models of your own instead.
 *   2. Expected answers: `slimtext predict --json` on the request texts (SST-2 dev sentences).
 *   3. Model time per single text, in this process on one kernel thread (before the server starts).
 *   4. `slimtext serve` as a child process; autocannon at 1, 8 and 64 connections per model, one
 *      text per request: throughput and latency p50/p99; then the same with --bad-share (5%) of
 *      malformed, oversized and wrong-type requests mixed in. Every answer is checked: a good
 *      request must be 200 with predict's label and score (within 1.5e-4; predict prints 4
 *      decimals); a bad one a 4xx whose JSON body says why; 5xx and transport errors are counted.
 *   5. Server overhead at batch 1 (transformer, 1 connection): end to end, the client's p50 against
 *      the model's p50 in step 3; inside the server, the request time (fastify, from request to
 *      response) against the workers' model time, from /metrics deltas over that run.
 *
 * Usage: npx tsx bench/serve.ts [--work DIR] [--transformer DIR] [--dan DIR] [--checkpoint DIR]
 *   [--max-train N] [--transfer N] [--connections 1,8,64] [--requests N] [--max-seconds S]
 *   [--workers W] [--max-batch B] [--max-wait-ms MS] [--bad-share F] [--texts N] [--prepare-only]
 * --prepare-only trains the models and stops (run it first, then the measurement under the bench lock).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { getBackend } from '../src/engine/index.js';
import { collect, openDataset } from '../src/data/index.js';
import { loadServedModel } from '../src/serve/servedModel.js';
import { finetune } from '../src/train/finetune/finetune.js';
import { distillStudent } from '../src/train/distill/student.js';
import { loadTeacher } from '../src/train/distill/teacher.js';
import { inProcessRunner, labelCorpus } from '../src/train/distill/teacherLabels.js';
import { repoRoot } from './root.js';

const { values: a } = parseArgs({
  options: {
    work: { type: 'string', default: '/tmp/slimtext-bench-serve' },
    transformer: { type: 'string' },
    dan: { type: 'string' },
    checkpoint: { type: 'string', default: join(repoRoot, '..', 'shared', 'models', 'bert-l4-h128-mlm') },
    data: { type: 'string', default: join(repoRoot, '..', 'shared', 'data', 'sst2') },
    'max-train': { type: 'string', default: '20000' },
    transfer: { type: 'string', default: '30000' },
    connections: { type: 'string', default: '1,8,64' },
    requests: { type: 'string', default: '3000' },
    'max-seconds': { type: 'string', default: '30' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'max-batch': { type: 'string', default: '32' },
    'max-wait-ms': { type: 'string', default: '0' },
    'bad-share': { type: 'string', default: '0.05' },
    texts: { type: 'string', default: '2000' },
    'prepare-only': { type: 'boolean' },
  },
});
const W = a.work!;
const log = (m: string) => process.stderr.write(`[serve bench] ${m}\n`);
const MAX_CHARS = 2000;
const MAX_BODY = 65536;
const MAX_TEXTS = 64;

function cliArgv(args: string[]): string[] {
  return import.meta.url.endsWith('.ts') ? ['--import', 'tsx', join(repoRoot, 'scripts', 'dev-cli.ts'), ...args] : [join(repoRoot, 'bin', 'slimtext.js'), ...args];
}

// ---- 1. models
async function models(): Promise<{ bert: string; dan: string; training: Record<string, number> }> {
  mkdirSync(W, { recursive: true });
  const training: Record<string, number> = {};
  const bert = a.transformer ?? join(W, 'bert-sst2');
  if (!existsSync(join(bert, 'slimtext.json'))) {
    log(`fine-tuning the transformer into ${bert}`);
    const t0 = performance.now();
    await finetune({
      model: a.checkpoint!,
      train: join(a.data!, 'train.tsv'),
      dev: join(a.data!, 'dev.tsv'),
      out: bert,
      recipe: { task: 'classify', pooling: 'mean', epochs: 1, lr: 5e-4, batchSize: 32, maxLength: 64, maxTrain: Number(a['max-train']), maxDev: 1000, seed: 0 },
      warn: (l) => log(`  ${l}`),
    });
    training.transformer_seconds = Math.round((performance.now() - t0) / 1000);
  }
  const dan = a.dan ?? join(W, 'dan-sst2');
  if (!existsSync(join(dan, 'slimtext.json'))) {
    log(`labelling ${a.transfer} SST-2 training sentences with the transformer, then distilling ${dan}`);
    const t0 = performance.now();
    const logits = join(W, 'sst2.logits');
    await labelCorpus({ teacher: inProcessRunner(await loadTeacher(bert)), corpus: [join(a.data!, 'train.tsv')], out: logits, overwrite: true, maxTexts: Number(a.transfer) });
    await distillStudent({
      teacherLogits: logits,
      train: join(a.data!, 'train.tsv'),
      dev: join(a.data!, 'dev.tsv'),
      out: dan,
      shape: { dim: 64, hidden: 64, maxN: 2, maxVocab: 300_000 },
      recipe: { epochs: 4, workers: 1 },
      warn: (l) => log(`  ${l}`),
    });
    training.dan_seconds = Math.round((performance.now() - t0) / 1000);
  }
  return { bert, dan, training };
}

// ---- 2. expected answers, from the CLI as a user runs it
interface Expected {
  label: string;
  score: number;
}
function predictCli(dir: string, texts: readonly string[]): Expected[] {
  const r = spawnSync(process.execPath, cliArgv(['predict', '--model', dir, '--json']), { input: texts.join('\n') + '\n', encoding: 'utf8', cwd: repoRoot, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`slimtext predict failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Expected);
}

// ---- 3. model time per single text, one kernel thread
async function singleTextMs(dir: string, texts: readonly string[]): Promise<{ p50_ms: number; mean_ms: number }> {
  const be = getBackend();
  const threads = be.threads();
  be.setThreads(1);
  try {
    const m = await loadServedModel(dir);
    const tasks = m.info.tasks.map((t) => t.name);
    for (const t of texts.slice(0, 50)) m.predict([t], tasks);
    const times = texts.slice(0, 1000).map((t) => {
      const s = performance.now();
      m.predict([t], tasks);
      return performance.now() - s;
    });
    times.sort((x, y) => x - y);
    return { p50_ms: r3(times[times.length >> 1]!), mean_ms: r3(times.reduce((x, y) => x + y, 0) / times.length) };
  } finally {
    be.setThreads(threads);
  }
}

// ---- 4. the load test
type BadKind = 'malformed_json' | 'wrong_type_text' | 'wrong_type_texts' | 'unknown_field' | 'text_too_long' | 'too_many_texts' | 'body_too_large' | 'not_json';
const BAD: BadKind[] = ['malformed_json', 'wrong_type_text', 'wrong_type_texts', 'unknown_field', 'text_too_long', 'too_many_texts', 'body_too_large', 'not_json'];

function badRequest(kind: BadKind, text: string): { body: string; type: string } {
  const json = (o: unknown) => ({ body: JSON.stringify(o), type: 'application/json' });
  switch (kind) {
    case 'malformed_json':
      return { body: `{"text": ${JSON.stringify(text).slice(0, -3)}`, type: 'application/json' };
    case 'wrong_type_text':
      return json({ text: 42 });
    case 'wrong_type_texts':
      return json({ texts: text });
    case 'unknown_field':
      return json({ text, label: 'positive' });
    case 'text_too_long':
      return json({ text: 'x'.repeat(MAX_CHARS + 1) });
    case 'too_many_texts':
      return json({ texts: Array.from({ length: MAX_TEXTS + 1 }, () => text) });
    case 'body_too_large':
      return json({ texts: Array.from({ length: 40 }, () => 'y'.repeat(MAX_CHARS - 10)) });
    case 'not_json':
      return { body: text, type: 'text/plain' };
  }
}

interface RunStats {
  connections: number;
  requests: number;
  sent: number;
  seconds: number;
  requests_per_s: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number };
  good: number;
  good_correct: number;
  good_wrong: number;
  bad: number;
  bad_4xx_with_reason: number;
  bad_other: number;
  status_5xx: number;
  other_non2xx_on_good: number;
  errors: number;
  timeouts: number;
  resets: number;
  bad_status?: Record<string, number>;
  /** Texts per batch the workers ran during this run (from /metrics). */
  mean_batch?: number;
}

function load(url: string, model: string, task: string, texts: readonly string[], expected: readonly Expected[], connections: number, badShare: number): Promise<RunStats> {
  const amount = Number(a.requests);
  const every = badShare > 0 ? Math.round(1 / badShare) : 0;
  let n = 0;
  const s = { good: 0, good_correct: 0, good_wrong: 0, bad: 0, bad_4xx_with_reason: 0, bad_other: 0, status_5xx: 0, other_non2xx_on_good: 0 };
  const badStatus: Record<string, number> = {};
  const wrong: string[] = [];
  // Our own clock (autocannon's latencies are whole milliseconds, its duration whole seconds).
  const lat: number[] = [];
  let firstAt = Infinity;
  let lastAt = 0;
  return new Promise((resolve, reject) => {
    const inst = autocannon(
      {
        url,
        connections,
        amount,
        timeout: 20,
        pipelining: 1,
        requests: [
          {
            method: 'POST',
            path: `/v1/models/${model}/predict`,
            setupRequest: (req: any, ctx: any) => {
              const k = n++;
              const i = k % texts.length;
              const isBad = every > 0 && k % every === every - 1;
              ctx.i = i;
              ctx.t0 = performance.now();
              firstAt = Math.min(firstAt, ctx.t0);
              ctx.bad = isBad ? BAD[Math.floor(k / every) % BAD.length] : undefined;
              const b = isBad ? badRequest(ctx.bad, texts[i]!) : { body: JSON.stringify({ text: texts[i] }), type: 'application/json' };
              return { ...req, headers: { 'content-type': b.type }, body: b.body };
            },
            onResponse: (status: number, body: string, ctx: any) => {
              lastAt = performance.now();
              lat.push(lastAt - ctx.t0);
              if (status >= 500) s.status_5xx++;
              if (ctx.bad) {
                s.bad++;
                badStatus[`${ctx.bad}:${status}`] = (badStatus[`${ctx.bad}:${status}`] ?? 0) + 1;
                let reason = '';
                try {
                  reason = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? '';
                } catch {
                  reason = '';
                }
                if (status >= 400 && status < 500 && reason.length > 0) s.bad_4xx_with_reason++;
                else s.bad_other++;
                return;
              }
              s.good++;
              if (status !== 200) {
                if (status < 500) s.other_non2xx_on_good++;
                return;
              }
              const want = expected[ctx.i]!;
              const got = (JSON.parse(body) as { results: Record<string, { label: string; score: number }>[] }).results[0]![task]!;
              if (got.label === want.label && Math.abs(got.score - want.score) <= 1.5e-4) s.good_correct++;
              else {
                s.good_wrong++;
                if (wrong.length < 3) wrong.push(`${texts[ctx.i]} -> ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
              }
            },
          },
        ],
      } as any,
      (err: Error | null, res: any) => {
        clearTimeout(cap);
        if (err) return reject(err);
        if (wrong.length) log(`  wrong answers, e.g. ${wrong.join(' | ')}`);
        lat.sort((x, y) => x - y);
        const q = (p: number) => r3(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN);
        const seconds = (lastAt - firstAt) / 1000;
        resolve({
          connections,
          requests: s.good + s.bad,
          sent: n,
          seconds: r3(seconds),
          requests_per_s: Math.round((s.good + s.bad) / seconds),
          latency_ms: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) },
          ...s,
          errors: res.errors,
          timeouts: res.timeouts,
          resets: res.resets,
          ...(badShare > 0 ? { bad_status: badStatus } : {}),
        });
      },
    );
    const cap = setTimeout(() => inst.stop(), Number(a['max-seconds']) * 1000);
  });
}

// ---- 5. server-side overhead from /metrics
async function scrape(url: string, model: string): Promise<{ reqSum: number; reqCount: number; modelSum: number; modelCount: number; batchSum: number }> {
  const t = await (await fetch(`${url}/metrics`)).text();
  const v = (re: RegExp) => Number(re.exec(t)?.[1] ?? 0);
  return {
    reqSum: v(/^slimtext_http_request_duration_seconds_sum\{route="\/v1\/models\/:name\/predict"\} (\S+)$/m),
    reqCount: v(/^slimtext_http_request_duration_seconds_count\{route="\/v1\/models\/:name\/predict"\} (\S+)$/m),
    modelSum: v(new RegExp(`^slimtext_batch_model_seconds_sum\\{model="${model}"\\} (\\S+)$`, 'm')),
    modelCount: v(new RegExp(`^slimtext_batch_model_seconds_count\\{model="${model}"\\} (\\S+)$`, 'm')),
    batchSum: v(new RegExp(`^slimtext_batch_size_sum\\{model="${model}"\\} (\\S+)$`, 'm')),
  };
}

async function main() {
  const t0 = performance.now();
  const { bert, dan, training } = await models();
  if (a['prepare-only']) {
    console.log(JSON.stringify({ models: { transformer: bert, dan, training } }));
    return;
  }
  const ds = await openDataset(join(a.data!, 'dev.tsv'));
  const texts = (await collect(ds.read(ds.splits[0]!))).map((e) => e.text.trim()).filter((t) => t.length > 0).slice(0, Number(a.texts));
  log(`${texts.length} request texts; expected answers from slimtext predict`);
  const expected = { bert: predictCli(bert, texts), dan: predictCli(dan, texts) };
  log('model time per single text (one thread, in process)');
  const modelTime = { bert: await singleTextMs(bert, texts), dan: await singleTextMs(dan, texts) };
  log(`  transformer p50 ${modelTime.bert.p50_ms} ms, DAN p50 ${modelTime.dan.p50_ms} ms`);

  const serveArgs = [
    'serve', '--model', `bert=${bert}`, '--model', `dan=${dan}`, '--port', '0', '--admin-port', 'off', '--json',
    '--workers', a.workers!, '--max-batch', a['max-batch']!, '--max-wait-ms', a['max-wait-ms']!,
    '--max-chars', String(MAX_CHARS), '--max-body-bytes', String(MAX_BODY), '--max-texts', String(MAX_TEXTS),
  ];
  const child = spawn(process.execPath, cliArgv(serveArgs), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const first = await new Promise<string>((res) => createInterface({ input: child.stdout! }).once('line', res));
  const url = (JSON.parse(first) as { url: string }).url;
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`refusing to load-test ${url}: loopback only`);
  log(`server at ${url}`);

  const conns = a.connections!.split(',').map(Number);
  const results: Record<string, { clean: RunStats[]; mixed: RunStats[] }> = {};
  let overhead: Record<string, number> | undefined;
  try {
    for (const [name, dir] of [['dan', dan], ['bert', bert]] as const) {
      void dir;
      results[name] = { clean: [], mixed: [] };
      // Warm-up: every worker runs the model a few times.
      await load(url, name, 'classify', texts.slice(0, 64), expected[name], 2, 0);
      for (const c of conns) {
        const before = await scrape(url, name);
        const r = await load(url, name, 'classify', texts, expected[name], c, 0);
        const after = await scrape(url, name);
        r.mean_batch = r3((after.batchSum - before.batchSum) / Math.max(1, after.modelCount - before.modelCount));
        results[name].clean.push(r);
        log(`${name} clean, ${c} connection(s): mean batch ${r.mean_batch}, ${r.requests_per_s} req/s, p50 ${r.latency_ms.p50} ms, p99 ${r.latency_ms.p99} ms, ${r.good_correct}/${r.good} correct`);
        if (name === 'bert' && c === 1) {
          const reqMs = ((after.reqSum - before.reqSum) / (after.reqCount - before.reqCount)) * 1000;
          const batchMs = ((after.modelSum - before.modelSum) / (after.modelCount - before.modelCount)) * 1000;
          const meanBatch = (after.batchSum - before.batchSum) / (after.modelCount - before.modelCount);
          overhead = {
            mean_batch_size: r3(meanBatch),
            server_request_ms: r3(reqMs),
            worker_model_ms: r3(batchMs),
            server_overhead_ratio: r3((reqMs - batchMs) / batchMs),
            client_p50_ms: r.latency_ms.p50,
            in_process_model_p50_ms: modelTime.bert.p50_ms,
            end_to_end_overhead_ratio: r3((r.latency_ms.p50 - modelTime.bert.p50_ms) / modelTime.bert.p50_ms),
          };
          log(`  overhead at batch 1: ${JSON.stringify(overhead)}`);
        }
      }
      for (const c of conns) {
        const before = await scrape(url, name);
        const r = await load(url, name, 'classify', texts, expected[name], c, Number(a['bad-share']));
        const after = await scrape(url, name);
        r.mean_batch = r3((after.batchSum - before.batchSum) / Math.max(1, after.modelCount - before.modelCount));
        results[name].mixed.push(r);
        log(`${name} mixed, ${c} connection(s): ${r.requests_per_s} req/s, p50 ${r.latency_ms.p50} ms, p99 ${r.latency_ms.p99} ms, good ${r.good_correct}/${r.good} correct, bad ${r.bad_4xx_with_reason}/${r.bad} 4xx with a reason, 5xx ${r.status_5xx}`);
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
  const code = await exited;
  console.log(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model, node: process.version, loadavg_at_end: loadavg().map(r3), backend: getBackend().name },
        settings: { workers: Number(a.workers), max_batch: Number(a['max-batch']), max_wait_ms: Number(a['max-wait-ms']), requests_per_run: Number(a.requests), max_seconds_per_run: Number(a['max-seconds']), bad_share: Number(a['bad-share']), texts: texts.length, one_text_per_request: true },
        models: { transformer: bert, dan, training },
        model_single_text_ms: modelTime,
        overhead_batch1_transformer: overhead,
        runs: results,
        server_exit_code: code,
        seconds: Math.round((performance.now() - t0) / 1000),
      },
      null,
      1,
    ),
  );
}

function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

await main();
