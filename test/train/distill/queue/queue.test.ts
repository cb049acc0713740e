import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { readLogitsFile } from '../../../../src/io/logitsFile.js';
import { labelCorpus } from '../../../../src/train/distill/teacherLabels.js';
import { queueRunner } from '../../../../src/train/distill/queue/coordinator.js';
import { startWorker, type WorkerHandle } from '../../../../src/train/distill/queue/worker.js';
import { withTempDir } from '../../../io/tempDir.js';
import { syntheticTeacher, writeCorpus } from '../fixtures.js';
import { freePort, REDIS_MISSING, startRedis, type RedisServer } from './redisServer.js';
import { OTHER_ID, SYNTH_ID, slowTeacher } from './synth.js';

const child = fileURLToPath(import.meta.url).replace(/queue\.test\.(ts|js)$/, 'queueChild.$1');
let queueNo = 0;
const nextQueue = () => `q${process.pid}-${++queueNo}`;

/** In-process labelling of the same corpus with the same batch size: the reference. */
async function reference(dir: string, corpus: string, batchSize: number) {
  const out = join(dir, `ref-${batchSize}.bin`);
  await labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out, batchSize, chunkRows: 16 });
  return readLogitsFile(out);
}

function assertSameRows(got: ReturnType<typeof readLogitsFile>, want: ReturnType<typeof readLogitsFile>) {
  assert.equal(got.commit.finished, true);
  assert.equal(got.commit.rows, want.commit.rows);
  assert.deepEqual(got.positions, want.positions);
  assert.deepEqual(got.fingerprints, want.fingerprints);
  assert.deepEqual(got.logits, want.logits);
}

function spawnChild(args: string[]): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, child, '--slimtext-queue-child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Resolves with the first stdout line matching `re`. */
function waitLine(p: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: p.stdout! });
    rl.on('line', (l) => {
      if (re.test(l)) {
        rl.close();
        resolve(l);
      }
    });
    p.once('exit', (code) => reject(new Error(`child exited (${code}) before printing ${re}`)));
  });
}

const exited = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.once('exit', r)));

describe('distributed labelling on a BullMQ queue', { skip: REDIS_MISSING }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  test('two workers: the merged file has the rows, order and logits of in-process labelling', withTempDir(async (dir) => {
    const corpus = join(dir, 'c.txt');
    writeCorpus(corpus, 300);
    const want = await reference(dir, corpus, 8);
    const queueName = nextQueue();
    const workers = await Promise.all([0, 1].map(() => startWorker({ url: redis.url, queueName, teacher: syntheticTeacher, fingerprint: SYNTH_ID.fingerprint })));
    const out = join(dir, 'q.bin');
    const runner = await queueRunner({ url: redis.url, queueName, teacher: SYNTH_ID, teacherBatch: 4, window: 4 });
    const progress: number[] = [];
    const stats = await labelCorpus({ teacher: runner, corpus: [corpus], out, batchSize: 8, chunkRows: 16, onProgress: (p) => progress.push(p.rows) });
    await Promise.all(workers.map((w) => w.close()));
    assertSameRows(readLogitsFile(out), want);
    assert.equal(stats.rows, want.commit.rows);
    assert.equal(runner.stats.shards, Math.ceil(want.commit.rows / 8));
    assert.equal(Object.values(runner.stats.workers).reduce((n, w) => n + w.texts, 0), want.commit.rows, 'each row labelled once');
    assert.ok(progress.length > 5 && progress.at(-1) === want.commit.rows);
  }));

  test('a corrupt shard result is rejected and re-queued; the file is still exact', withTempDir(async (dir) => {
    const corpus = join(dir, 'c.txt');
    writeCorpus(corpus, 120);
    const want = await reference(dir, corpus, 8);
    const queueName = nextQueue();
    let tampered = 0;
    const w = await startWorker({
      url: redis.url,
      queueName,
      teacher: syntheticTeacher,
      fingerprint: SYNTH_ID.fingerprint,
      tamper: (r) => {
        if (tampered++ !== 2) return r;
        const b = Buffer.from(r.logits, 'base64');
        b[5]! ^= 0x40;
        return { ...r, logits: b.toString('base64') };
      },
    });
    const rejects: string[] = [];
    const runner = await queueRunner({ url: redis.url, queueName, teacher: SYNTH_ID, teacherBatch: 4, window: 2, onReject: (r) => rejects.push(r) });
    const out = join(dir, 'q.bin');
    await labelCorpus({ teacher: runner, corpus: [corpus], out, batchSize: 8, chunkRows: 16 });
    await w.close();
    assert.equal(runner.stats.rejected, 1, rejects.join('; '));
    assert.match(rejects[0]!, /checksum/);
    assertSameRows(readLogitsFile(out), want);
  }));

  test('a worker killed with SIGKILL mid-shard: another worker redoes the shard, nothing lost or duplicated', withTempDir(async (dir) => {
    const corpus = join(dir, 'c.txt');
    writeCorpus(corpus, 100);
    const want = await reference(dir, corpus, 8);
    const queueName = nextQueue();
    const victim = spawnChild(['worker', redis.url, queueName]);
    const runnerP = queueRunner({ url: redis.url, queueName, teacher: SYNTH_ID, teacherBatch: 4, window: 2 });
    const out = join(dir, 'q.bin');
    let survivor: WorkerHandle | undefined;
    const killed = waitLine(victim, /^start /).then(async (line) => {
      victim.kill('SIGKILL');
      await exited(victim);
      survivor = await startWorker({ url: redis.url, queueName, teacher: syntheticTeacher, fingerprint: SYNTH_ID.fingerprint, lockMs: 1000 });
      return line.slice(6);
    });
    const runner = await runnerP;
    await labelCorpus({ teacher: runner, corpus: [corpus], out, batchSize: 8, chunkRows: 16 });
    const killedShard = await killed;
    await survivor!.close();
    assert.ok(killedShard.startsWith('shard-'));
    assertSameRows(readLogitsFile(out), want);
    assert.equal(Object.keys(runner.stats.workers).length, 1, 'the killed worker handed back nothing');
  }));

  test('a shard delivered twice (its lock expired while a busy worker held it) is merged once', withTempDir(async (dir) => {
    const corpus = join(dir, 'c.txt');
    writeCorpus(corpus, 40);
    const want = await reference(dir, corpus, 8);
    const queueName = nextQueue();
    // Blocks 1.5 s per teacher call with a 0.6 s lock: the other worker's stall check takes the shard over.
    const slowDone: string[] = [];
    const fastDone: string[] = [];
    // It stops after its first shard: every shard it took would be redone.
    const slow: WorkerHandle = await startWorker({ url: redis.url, queueName, teacher: slowTeacher(1500), fingerprint: SYNTH_ID.fingerprint, lockMs: 600, onShard: (s) => void (slowDone.push(s.id), slow.close()) });
    const runner = await queueRunner({ url: redis.url, queueName, teacher: SYNTH_ID, teacherBatch: 8, window: 1 });
    const out = join(dir, 'q.bin');
    let fast: WorkerHandle | undefined;
    const p = labelCorpus({ teacher: runner, corpus: [corpus], out, batchSize: 8, chunkRows: 8 });
    await new Promise((r) => setTimeout(r, 300));
    fast = await startWorker({ url: redis.url, queueName, teacher: syntheticTeacher, fingerprint: SYNTH_ID.fingerprint, lockMs: 600, onShard: (s) => fastDone.push(s.id) });
    await p;
    await Promise.all([slow.close(), fast.close()]);
    assert.ok(slowDone.some((id) => fastDone.includes(id)), `some shard was labelled by both workers (slow: ${slowDone.join(',')}; fast: ${fastDone.join(',')})`);
    assertSameRows(readLogitsFile(out), want);
    assert.equal(Object.values(runner.stats.workers).reduce((n, w) => n + w.texts, 0), want.commit.rows);
  }));

  test('a coordinator killed mid-run resumes: shards finished meanwhile are reused, the file is exact', withTempDir(async (dir) => {
    const corpus = join(dir, 'c.txt');
    writeCorpus(corpus, 200);
    const want = await reference(dir, corpus, 8);
    const queueName = nextQueue();
    const w = await startWorker({ url: redis.url, queueName, teacher: slowTeacher(20), fingerprint: SYNTH_ID.fingerprint });
    const out = join(dir, 'q.bin');
    const coord = spawnChild(['coordinator', redis.url, queueName, corpus, out]);
    await waitLine(coord, /^rows (2[4-9]|[3-9]\d)/);
    coord.kill('SIGKILL');
    await exited(coord);
    const before = readLogitsFile(out);
    assert.equal(before.commit.finished, false);
    const runner = await queueRunner({ url: redis.url, queueName, teacher: SYNTH_ID, teacherBatch: 4, window: 2 });
    const s = await labelCorpus({ teacher: runner, corpus: [corpus], out, resume: true, batchSize: 8, chunkRows: 8 });
    await w.close();
    assert.equal(s.resumedRows, before.commit.rows);
    assert.ok(runner.stats.reused >= 1, 'the shards in flight when the coordinator died were found finished');
    assertSameRows(readLogitsFile(out), want);
  }));

  test('a worker with another teacher is refused by fingerprint, at start and per job', withTempDir(async (dir) => {
    const corpus = join(dir, 'c.txt');
    writeCorpus(corpus, 30);
    const want = await reference(dir, corpus, 8);
    const queueName = nextQueue();
    // Per job: a wrong worker up before any coordinator published its teacher.
    const wrong = await startWorker({ url: redis.url, queueName, teacher: syntheticTeacher, fingerprint: OTHER_ID.fingerprint });
    const refused = wrong.done.then(() => undefined, (e: Error) => e);
    const runner = await queueRunner({ url: redis.url, queueName, teacher: SYNTH_ID, teacherBatch: 4, window: 1, backoffMs: 100 });
    const out = join(dir, 'q.bin');
    const p = labelCorpus({ teacher: runner, corpus: [corpus], out, batchSize: 8, chunkRows: 8 });
    const e = await refused;
    assert.match(String(e?.message), /not the coordinator's/);
    // At start: the coordinator's teacher is published now.
    await assert.rejects(startWorker({ url: redis.url, queueName, teacher: syntheticTeacher, fingerprint: OTHER_ID.fingerprint }), /teacher \(fingerprint bbbb.*is not the coordinator's \(aaaa/);
    const good = await startWorker({ url: redis.url, queueName, teacher: syntheticTeacher, fingerprint: SYNTH_ID.fingerprint });
    await p;
    await good.close();
    assertSameRows(readLogitsFile(out), want);
  }));

  test('a corpus file that changes during a run, or before a resume, is detected', withTempDir(async (dir) => {
    const corpus = join(dir, 'c.txt');
    writeCorpus(corpus, 80);
    const queueName = nextQueue();
    const w = await startWorker({ url: redis.url, queueName, teacher: syntheticTeacher, fingerprint: SYNTH_ID.fingerprint });
    const runner = await queueRunner({ url: redis.url, queueName, teacher: SYNTH_ID, teacherBatch: 4, window: 1 });
    const out = join(dir, 'q.bin');
    let calls = 0;
    const changing = { ...runner, run: (t: readonly string[]) => (++calls === 3 && appendFileSync(corpus, 'w1 w2 w3 new text\n'), runner.run(t)) };
    await assert.rejects(labelCorpus({ teacher: changing, corpus: [corpus], out, batchSize: 8, chunkRows: 8 }), /changed .*during this labelling run/);
    // Resume after rewriting a text the file already holds: caught by the text fingerprints.
    writeCorpus(corpus, 80, 2);
    const again = await queueRunner({ url: redis.url, queueName, teacher: SYNTH_ID, teacherBatch: 4, window: 1 });
    await assert.rejects(labelCorpus({ teacher: again, corpus: [corpus], out, resume: true, batchSize: 8, chunkRows: 8 }), /corpus changed|differs/);
    await w.close();
  }));
});

test('an unreachable Redis fails fast with its URL (no hang)', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const t0 = Date.now();
  await assert.rejects(queueRunner({ url, teacher: SYNTH_ID }), (e: Error) => e.message.includes(url) && /cannot reach Redis/.test(e.message));
  await assert.rejects(startWorker({ url, teacher: syntheticTeacher, fingerprint: SYNTH_ID.fingerprint }), /cannot reach Redis at redis:\/\/127\.0\.0\.1/);
  await assert.rejects(queueRunner({ url: 'http://x', teacher: SYNTH_ID }), /not a redis:\/\/ URL/);
  assert.ok(Date.now() - t0 < 10_000);
});

