/**
 * What the server costs around a model at batch 1, and what its workers cost in memory. JSON on
 * stdout, progress on stderr; 127.0.0.1 only; run `npx tsc -p .` first (the servers run the
 * compiled CLI, bin/slimtext.js, as a user does).
 *
 * Overhead (per shape: `small` = ../shared/models/bert-l4-h128-mlm (4 x 128) with a new head,
 * `base` = random weights of BERT-base's shape (12 x 768); both 2-label classifiers):
 *   - model p50: the model alone in this process (loadServedModel + predict, one kernel thread),
 *     one text per call, back to back, the same texts as the requests;
 *   - server p50: `slimtext serve` (--workers, default 2; a list such as `0,1` runs one server per
 *     value, interleaved with the rest, and suffixes each server's figures `_wN`), one connection, one text per request, sent one
 *     after another; from each answer's Server-Timing header: `total` (fastify's time from the
 *     request arriving to the response serialised), `worker` (batch handed to a worker -> answer
 *     back: model + two thread hops), `model` (the worker's time in the model), `queue`;
 *   - **server overhead = server total p50 - model p50** (and its ratio to model p50; target < 0.10);
 *   - floor: a bare fastify route (no schema, no worker, no model; it answers a canned predict-shaped
 *     body) on the same machine, same client: what loopback HTTP and fastify alone cost;
 *   - minimal: the least any Node server adds to this model here: raw node:http, one process, the
 *     same model loaded the same way, JSON.parse, predict, JSON.stringify, write; no framework,
 *     validation, queue, metrics or worker. Its `total` (request head parsed -> answer written) minus
 *     its own `model` per request is what a server cannot avoid on this machine (the caches and
 *     branch predictors the model run leaves cold, the timer and socket calls).
 * The client is a raw keep-alive socket (no HTTP library on the client side), one request in flight.
 * The three are interleaved text by text (model, server, floor; order rotated each round), so they
 * share the machine's load; figures are medians over rounds. Also `in_request_overhead_p50`: p50 of
 * each answer's own total - model (the server's cost without the model's run-to-run noise).
 *
 * Memory (--memory): RSS of `slimtext serve` after loading and answering a few requests, with 1 and 2
 * workers, --share-weights off and on, for the BERT-base-shaped classifier and a DAN with a large
 * hashed table (--dan-buckets rows x --dan-dim); every configuration must give the same answers.
 *
 * Usage: npx tsx bench/serveOverhead.ts [--shapes small,base] [--requests 1000] [--base-requests 100]
 *   [--rounds 3] [--workers 2 | --workers 0,1] [--memory] [--memory-only] [--dan-buckets 1000000] [--dan-dim 128]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { collect, openDataset } from '../src/data/index.js';
import { getBackend } from '../src/engine/index.js';
import { loadServedModel } from '../src/serve/servedModel.js';
import { median } from '../src/bench/stats.js';
import { writeBigDan, writeClassifier } from './randomModels.js';
import { repoRoot } from './root.js';

const { values: a } = parseArgs({
  options: {
    shapes: { type: 'string', default: 'small,base' },
    requests: { type: 'string', default: '1000' },
    'base-requests': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    memory: { type: 'boolean' },
    'memory-only': { type: 'boolean' },
    'dan-buckets': { type: 'string', default: '1000000' },
    'dan-dim': { type: 'string', default: '128' },
    data: { type: 'string', default: join(repoRoot, '..', 'shared', 'data', 'sst2') },
  },
});
const log = (m: string) => process.stderr.write(`[serve overhead] ${m}\n`);
const tmp = mkdtempSync(join(tmpdir(), 'slimtext-serve-overhead-'));
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const p50 = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1]!;
};

// ---- a minimal keep-alive HTTP/1.1 client: one socket, one request in flight
interface Reply {
  status: number;
  head: string;
  body: string;
}
function connect(url: string) {
  const u = new URL(url);
  const sock = net.connect({ host: u.hostname, port: Number(u.port) });
  sock.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  let pending: ((r: Reply) => void) | undefined;
  sock.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    if (!pending) return;
    const he = buf.indexOf('\r\n\r\n');
    if (he < 0) return;
    const head = buf.subarray(0, he).toString('latin1');
    const len = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (buf.length < he + 4 + len) return;
    const body = buf.subarray(he + 4, he + 4 + len).toString();
    buf = buf.subarray(he + 4 + len);
    const p = pending;
    pending = undefined;
    p({ status: Number(head.slice(9, 12)), head, body });
  });
  const ready = new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  return {
    ready,
    post(path: string, body: string): Promise<Reply> {
      return new Promise((res) => {
        pending = res;
        sock.write(`POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      });
    },
    close: () => sock.destroy(),
  };
}

function serverTiming(head: string): Record<string, number> {
  const line = /\r\nserver-timing: *([^\r]*)/i.exec(head)?.[1] ?? '';
  return Object.fromEntries(line.split(',').map((x) => x.trim().split(';dur=')).map(([k, v]) => [k!, Number(v)]));
}

// ---- servers as child processes
interface Child {
  proc: ChildProcess;
  url: string;
}
async function startChild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Child> {
  const proc = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: proc.stdout! }).once('line', res);
    proc.once('exit', (c) => rej(new Error(`server exited (${c}) before listening: ${args.join(' ')}`)));
  });
  const url = (JSON.parse(line) as { url: string }).url;
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`refusing ${url}: loopback only`);
  return { proc, url };
}
async function stopChild(c: Child): Promise<void> {
  const done = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  await done;
}
const serveArgs = (models: Record<string, string>, extra: string[] = []) => [
  join(repoRoot, 'bin', 'slimtext.js'), 'serve', ...Object.entries(models).flatMap(([n, d]) => ['--model', `${n}=${d}`]),
  '--port', '0', '--admin-port', 'off', '--json', '--max-chars', '100000', ...extra,
];

/**
 * The floor: fastify with one POST route answering a canned predict-shaped body, Server-Timing total
 * as ours (fastify's reply.elapsedTime: from its route handler starting, after the request head is
 * parsed, to the response serialised; the socket write is after it).
 */
const HELLO = `
import Fastify from 'fastify';
const app = Fastify();
app.addHook('onSend', (req, reply, payload, done) => { reply.header('server-timing', 'total;dur=' + reply.elapsedTime.toFixed(3)); done(null, payload); });
app.addHook('onResponse', (req, reply, done) => done()); // fastify keeps request times only when some hook reads them
const canned = { model: 'm', version: 1, results: [{ classify: { label: 'positive', score: 0.9, top: [{ label: 'positive', score: 0.9 }] } }] };
app.post('/v1/models/m/predict', async () => canned);
await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ url: 'http://127.0.0.1:' + app.server.address().port }));
`;

/** The minimal server around the model (see the header); args: compiled repo root, model dir. */
const MINIMAL = `
import http from 'node:http';
const [root, dir] = process.argv.slice(1);
const { loadServedModel, warmUp, topK } = await import(root + '/dist/src/serve/servedModel.js');
const { getBackend } = await import(root + '/dist/src/engine/index.js');
getBackend().setThreads(1);
const model = await loadServedModel(dir);
warmUp(model);
const server = http.createServer((req, res) => {
  const t0 = performance.now();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const { text } = JSON.parse(Buffer.concat(chunks).toString());
    const t1 = performance.now();
    const r = model.predict([text], ['classify']);
    const m = performance.now() - t1;
    const body = JSON.stringify({ model: 'm', version: 1, results: r.map((x) => ({ classify: topK(x.classify, 1) })) });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'server-timing': 'model;dur=' + m.toFixed(3) + ', total;dur=' + (performance.now() - t0).toFixed(3) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port })));
`;

// ---- overhead
function timing(r: Reply, path: string): Record<string, number> {
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body}`);
  return serverTiming(r.head);
}

/**
 * One round: for each text, the model in this process, a request to the server and one to the floor,
 * one after another (order rotated per round), so the three see the same machine load.
 */
async function round(model: Awaited<ReturnType<typeof loadServedModel>>, servers: { suffix: string; url: string }[], helloUrl: string, minimalUrl: string, texts: readonly string[], n: number, rotate: number): Promise<Record<string, number>> {
  const path = '/v1/models/m/predict';
  const serves = servers.map((x) => connect(x.url));
  const hello = connect(helloUrl);
  const minimal = connect(minimalUrl);
  await Promise.all([...serves.map((x) => x.ready), hello.ready, minimal.ready]);
  const m: number[] = [];
  const ss: { client: number; t: Record<string, number> }[][] = servers.map(() => []);
  const h: { client: number; t: Record<string, number> }[] = [];
  const mm: { client: number; t: Record<string, number> }[] = [];
  try {
    const steps = [
      async (text: string) => {
        const t0 = performance.now();
        model.predict([text], ['classify']);
        m.push(performance.now() - t0);
      },
      ...serves.map((serve, k) => async (text: string) => {
        const t0 = performance.now();
        const r = await serve.post(path, JSON.stringify({ text }));
        ss[k]!.push({ client: performance.now() - t0, t: timing(r, path) });
      }),
      async (text: string) => {
        const t0 = performance.now();
        const r = await hello.post(path, JSON.stringify({ text }));
        h.push({ client: performance.now() - t0, t: timing(r, path) });
      },
      async (text: string) => {
        const t0 = performance.now();
        const r = await minimal.post(path, JSON.stringify({ text }));
        mm.push({ client: performance.now() - t0, t: timing(r, path) });
      },
    ];
    for (let i = 0; i < 10; i++) for (const f of steps) await f(texts[i]!);
    m.length = h.length = mm.length = 0;
    for (const s of ss) s.length = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < steps.length; k++) await steps[(k + rotate) % steps.length]!(texts[i % texts.length]!);
  } finally {
    for (const x of serves) x.close();
    hello.close();
    minimal.close();
  }
  const row: Record<string, number> = { model_p50: p50(m) };
  servers.forEach(({ suffix: w }, k) => {
    const s = ss[k]!;
    row[`server_total_p50${w}`] = p50(s.map((x) => x.t.total!));
    row[`server_client_p50${w}`] = p50(s.map((x) => x.client));
    row[`worker_model_p50${w}`] = p50(s.map((x) => x.t.model!));
    row[`hop_p50${w}`] = p50(s.map((x) => x.t.worker! - x.t.model!));
    row[`queue_p50${w}`] = p50(s.map((x) => x.t.queue!));
    row[`http_p50${w}`] = p50(s.map((x) => x.t.total! - x.t.worker! - x.t.queue!));
    row[`in_request_overhead_p50${w}`] = p50(s.map((x) => x.t.total! - x.t.model!));
    row[`overhead_ms${w}`] = row[`server_total_p50${w}`]! - row.model_p50!;
    row[`overhead_ratio${w}`] = row[`overhead_ms${w}`]! / row.model_p50!;
    row[`client_overhead_ratio${w}`] = (row[`server_client_p50${w}`]! - row.model_p50!) / row.model_p50!;
  });
  row.floor_total_p50 = p50(h.map((x) => x.t.total!));
  row.floor_client_p50 = p50(h.map((x) => x.client));
  row.minimal_total_p50 = p50(mm.map((x) => x.t.total!));
  row.minimal_model_p50 = p50(mm.map((x) => x.t.model!));
  row.minimal_client_p50 = p50(mm.map((x) => x.client));
  row.minimal_in_request_overhead_p50 = p50(mm.map((x) => x.t.total! - x.t.model!));
  row.minimal_overhead_ratio = (row.minimal_total_p50 - row.model_p50!) / row.model_p50!;
  return row;
}

async function overhead(shape: 'small' | 'base', texts: readonly string[], n: number, rounds: number) {
  const dir = join(tmp, `classifier-${shape}`);
  log(`${shape}: writing the classifier`);
  await writeClassifier(dir, shape);
  getBackend().setThreads(1);
  const model = await loadServedModel(dir);
  const workers = a.workers!.split(',');
  const serves = await Promise.all(workers.map((w) => startChild(serveArgs({ m: dir }, ['--workers', w]))));
  const servers = serves.map((c, k) => ({ suffix: workers.length > 1 ? `_w${workers[k]}` : '', url: c.url }));
  const hello = await startChild(['--input-type=module', '-e', HELLO]);
  const minimal = await startChild(['--input-type=module', '-e', MINIMAL, repoRoot, dir]);
  const rows: Record<string, number>[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const row = await round(model, servers, hello.url, minimal.url, texts, n, r);
      log(`${shape} round ${r + 1}: ${JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, r3(v)])))}`);
      rows.push(row);
    }
  } finally {
    await Promise.all([...serves.map(stopChild), stopChild(hello), stopChild(minimal)]);
  }
  const med = Object.fromEntries(Object.keys(rows[0]!).map((k) => [k, r3(median(rows.map((x) => x[k]!)))]));
  return { requests_per_round: n, rounds: rows.map((x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, r3(v)]))), median: med };
}

// ---- memory
function rssMb(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), hwm: Math.round(kb('VmHWM') / 1024) };
}
async function memory(texts: readonly string[]) {
  const base = join(tmp, 'classifier-base');
  const dan = join(tmp, 'dan-big');
  log('memory: writing the models');
  if (!(a.shapes!.includes('base') && !a['memory-only'])) await writeClassifier(base, 'base');
  await writeBigDan(dan, texts.join(' ').toLowerCase().split(/\s+/).filter(Boolean), Number(a['dan-buckets']), Number(a['dan-dim']));
  const out: Record<string, unknown>[] = [];
  for (const [name, dir] of [['bert-base-shape', base], ['dan-big-table', dan]] as const) {
    const bytes = JSON.parse(readFileSync(join(dir, 'slimtext.json'), 'utf8')) as { files: Record<string, { bytes: number }> };
    const fileMb = Math.round(Object.values(bytes.files).reduce((s, f) => s + f.bytes, 0) / 2 ** 20);
    let want: string | undefined;
    for (const share of ['off', 'on']) {
      for (const workers of [1, 2]) {
        const c = await startChild(serveArgs({ m: dir }, ['--workers', String(workers), '--share-weights', share]));
        try {
          const answers: string[] = [];
          const conn = connect(c.url);
          await conn.ready;
          for (let i = 0; i < 8; i++) answers.push(JSON.parse((await conn.post('/v1/models/m/predict', JSON.stringify({ texts: texts.slice(i * 4, i * 4 + 4) }))).body).results);
          conn.close();
          await new Promise((r) => setTimeout(r, 1500));
          const m = rssMb(c.proc.pid!);
          const same = want === undefined || want === JSON.stringify(answers);
          want ??= JSON.stringify(answers);
          const row = { model: name, model_files_mb: fileMb, share_weights: share, workers, rss_mb: m.rss, peak_rss_mb: m.hwm, same_answers: same };
          log(`memory ${JSON.stringify(row)}`);
          out.push(row);
        } finally {
          await stopChild(c);
        }
      }
    }
  }
  return out;
}

async function main() {
  const t0 = performance.now();
  const ds = await openDataset(join(a.data!, 'dev.tsv'));
  const texts = (await collect(ds.read(ds.splits[0]!))).map((e) => e.text.trim()).filter((t) => t.length > 0);
  const res: Record<string, unknown> = {
    bench: 'serve-overhead',
    command: `npx tsx bench/serveOverhead.ts ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model, node: process.version, backend: getBackend().name, loadavg_at_start: loadavg().map((x) => Math.round(x * 100) / 100) },
    texts: `SST-2 dev sentences (${texts.length}), one per request, in file order`,
  };
  if (!a['memory-only']) {
    for (const shape of a.shapes!.split(',') as ('small' | 'base')[]) {
      res[shape] = await overhead(shape, texts, Number(shape === 'base' ? a['base-requests'] : a.requests), Number(a.rounds));
    }
  }
  if (a.memory || a['memory-only']) res.memory = await memory(texts);
  res.loadavg_at_end = loadavg().map((x) => Math.round(x * 100) / 100);
  res.seconds = Math.round((performance.now() - t0) / 1000);
  console.log(JSON.stringify(res, null, 1));
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
