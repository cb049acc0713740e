/**
 * Distillation at scale, labelling part (JSON on stdout, progress on stderr), all through the CLI as
 * a user runs it: a private redis-server on 127.0.0.1 (a free port), then
 *   - in-process labelling (`slimtext label --workers 1 --threads 1`) of a corpus;
 *   - the same corpus through the queue with 1, 2 and 3 `slimtext worker --threads 1` processes
 *     (workers started and ready first, so teacher loading is not timed); each merged file is
 *     compared row for row (positions, fingerprints, logits) with the in-process one;
 *   - the coordinator's overhead per shard: 1 worker, one shard in flight, one teacher batch per
 *     shard: (wall time per shard) - (the worker's teacher time per shard);
 *   - kill -9 of one of two workers as it starts a shard: the other redoes it after the lock
 *     expires (--lock-ms), and the final file must again equal the in-process one.
 *
 * Usage: npx tsx bench/scaleQueue.ts --teacher DIR [--texts N] [--corpus SPEC] [--workers 1,2,3]
 *   [--shard-size 256] [--lock-ms 10000] [--work DIR] [--parts queue,overhead,kill9] (default all three)
 * Each run records the 1-minute load average before it starts (the machine may be shared).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';
import { readLogitsFile } from '../src/io/logitsFile.js';
import { repoRoot } from './root.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const SHARED = process.env.SLIMTEXT_SHARED ?? join(repoRoot, '..', 'shared');
const teacher = opt('teacher', '');
if (!teacher) throw new Error('--teacher DIR is required (a classifier folder from slimtext finetune)');
const texts = Number(opt('texts', '3000'));
const corpus = opt('corpus', `head:${texts}:words:3-60:sentences:${join(SHARED, 'corpora', 'imdb-unsup.txt.gz')}`);
const workerCounts = opt('workers', '1,2,3').split(',').map(Number);
const shardSize = opt('shard-size', '256');
const lockMs = opt('lock-ms', '10000');
const parts = new Set(opt('parts', 'queue,overhead,kill9').split(','));
const load1 = () => Math.round(loadavg()[0]! * 100) / 100;
const work = opt('work', '') || mkdtempSync(join(tmpdir(), 'slimtext-bench-queue-'));
const CLI = join(repoRoot, 'bin', 'slimtext.js');
const log = (l: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`);
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

/** Runs a slimtext command (asynchronously, so the workers' output keeps draining); its --json line. */
async function cli(argv: string[]): Promise<{ json: Record<string, unknown>; seconds: number }> {
  const t0 = performance.now();
  const p = spawn(process.execPath, [CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const [code, signal] = await new Promise<[number | null, string | null]>((r) => p.once('exit', (c, s) => r([c, s])));
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`slimtext ${argv.join(' ')} failed (exit ${code}, signal ${signal}): ${err.slice(-2000)}`);
  return { json: JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>, seconds };
}

/** Starts a worker process; resolves once it waits for shards. */
async function worker(url: string, queue: string, onLine?: (l: string, p: ChildProcess) => void): Promise<ChildProcess> {
  const p = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--queue-name', queue, '--teacher', teacher, '--threads', '1', '--lock-ms', lockMs], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: p.stderr! });
    rl.on('line', (l) => {
      if (/waiting for shards/.test(l)) resolve();
      else if (!/^slimtext worker: shard /.test(l)) log(`  worker: ${l}`);
      onLine?.(l, p);
    });
    p.once('exit', (c) => reject(new Error(`worker exited (${c}) before it was ready`)));
  });
  return p;
}

const stop = async (ps: ChildProcess[]) => {
  await Promise.all(ps.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => (p.once('exit', r), p.kill('SIGTERM'))))));
};

function sameAs(file: string, ref: ReturnType<typeof readLogitsFile>): boolean {
  const d = readLogitsFile(file);
  const eq = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (x: number, i: number) => Object.is(x, b[i]));
  return d.commit.finished && eq(d.positions, ref.positions) && eq(d.fingerprints, ref.fingerprints) && eq(d.logits, ref.logits);
}

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const url = `redis://127.0.0.1:${port}`;
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 500));
const results: Record<string, unknown> = {};
try {
  log(`in-process labelling of ${corpus}`);
  const inproc = join(work, 'inproc.bin');
  const ipLoad = load1();
  const ip = await cli(['label', '--teacher', teacher, '--corpus', corpus, '--out', inproc, '--workers', '1', '--threads', '1', '--overwrite', '--json']);
  const ref = readLogitsFile(inproc);
  results.in_process = { load_average_1m_before: ipLoad, rows: ip.json.rows, seconds: ip.json.seconds, texts_per_s: ip.json.texts_per_s };
  log(`  ${ip.json.texts_per_s} texts/s`);
  const queued: Record<string, unknown>[] = [];
  for (const k of parts.has('queue') ? workerCounts : []) {
    const queue = `bench-${k}`;
    const ws = await Promise.all(Array.from({ length: k }, () => worker(url, queue)));
    const out = join(work, `queue-${k}.bin`);
    const before = load1();
    const r = await cli(['label', '--teacher', teacher, '--corpus', corpus, '--out', out, '--queue', url, '--queue-name', queue, '--shard-size', shardSize, '--overwrite', '--json']);
    await stop(ws);
    const q = r.json.queue as { shards: number; overhead_ms_per_shard: number; by_worker: Record<string, unknown> };
    queued.push({ workers: k, load_average_1m_before: before, seconds: r.json.seconds, texts_per_s: r.json.texts_per_s, speedup_vs_in_process: round(Number(r.json.texts_per_s) / Number(ip.json.texts_per_s), 2), shards: q.shards, identical_to_in_process: sameAs(out, ref), by_worker: q.by_worker });
    log(`  ${k} worker(s): ${r.json.texts_per_s} texts/s, identical: ${String(queued.at(-1)!.identical_to_in_process)}`);
  }
  results.queue = queued;

  if (parts.has('overhead')) {
    log('coordinator overhead per shard (1 worker, window 1, shard = one 64-text batch)');
    const ws = [await worker(url, 'bench-overhead')];
    const out = join(work, 'overhead.bin');
    const r = await cli(['label', '--teacher', teacher, '--corpus', corpus, '--out', out, '--queue', url, '--queue-name', 'bench-overhead', '--shard-size', '64', '--window', '1', '--overwrite', '--json']);
    await stop(ws);
    const q = r.json.queue as { shards: number; overhead_ms_per_shard: number; by_worker: Record<string, { ms: number }> };
    const teacherMs = Object.values(q.by_worker).reduce((n, w) => n + w.ms, 0);
    // One worker, busy one shard after another: whatever of the run is not teacher time is the
    // queue's and the coordinator's (corpus passes included).
    const overhead = round((Number(r.json.seconds) * 1000 - teacherMs) / q.shards, 1);
    results.overhead = { shards: q.shards, seconds: r.json.seconds, teacher_ms_per_shard: round(teacherMs / q.shards, 1), overhead_ms_per_shard: overhead, identical_to_in_process: sameAs(out, ref) };
    log(`  ${overhead} ms per shard over ${round(teacherMs / q.shards, 1)} ms of teacher time`);
  }

  if (parts.has('kill9')) {
    log(`kill -9 of one of two workers mid-shard (lock ${lockMs} ms)`);
    let killedAt: string | undefined;
    let shardsSeen = 0;
    const victim = await worker(url, 'bench-kill', (l, p) => {
      // The victim dies as it finishes its second shard's log line, i.e. while holding its third.
      if (/^slimtext worker: shard /.test(l) && ++shardsSeen === 2 && !killedAt) {
        killedAt = new Date().toISOString();
        p.kill('SIGKILL');
      }
    });
    const other = await worker(url, 'bench-kill');
    const out = join(work, 'killed.bin');
    const r = await cli(['label', '--teacher', teacher, '--corpus', corpus, '--out', out, '--queue', url, '--queue-name', 'bench-kill', '--shard-size', shardSize, '--overwrite', '--json']);
    await stop([victim, other]);
    const q = r.json.queue as { shards: number; by_worker: Record<string, { shards: number; texts: number }> };
    results.kill9 = { killed: killedAt !== undefined, victim_signal: victim.signalCode, seconds: r.json.seconds, shards: q.shards, by_worker: q.by_worker, identical_to_in_process: sameAs(out, ref) };
    log(`  identical after kill -9: ${String(sameAs(out, ref))}`);
  }
} finally {
  redis.kill('SIGTERM');
}
console.log(JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model }, corpus, teacher, shard_size: Number(shardSize), lock_ms: Number(lockMs), load_average_1m_after: load1(), results }, null, 2));
