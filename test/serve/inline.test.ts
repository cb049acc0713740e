/**
 * `--workers 0` (inline): the one worker runs on the main thread through the same pool, batcher
 * and handler; its answers equal the threaded server's, reload and the queue-full answer still work,
 * and a stopped inline worker is replaced like a thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, WorkerPool, type RunningServer, type StartOptions } from '../../src/serve/index.js';
import { classRows, pairRows, tempDir } from '../train/fixtures.js';
import { classifyModel, danModel, pairModel } from './fixtures.js';
import { get, post, reloadUnderTraffic } from './http.js';

const TEXTS = classRows(40, 31).map(([t]) => t);

async function withServer(models: Record<string, string>, over: Partial<StartOptions>, fn: (s: RunningServer) => Promise<void>): Promise<void> {
  const s = await startServer({ models: Object.entries(models).map(([name, dir]) => ({ name, dir })), port: 0, adminPort: 0, ...over });
  try {
    await fn(s);
  } finally {
    assert.deepEqual(await s.close(), { drained: true });
  }
}

test('inline (workers 0) answers exactly as the threaded server, one text and batched', async () => {
  const models = { bert: await classifyModel(), dan: await danModel(), pair: await pairModel() };
  const pairs = pairRows(12, 32);
  // Sequential requests run as the same batches in both servers: their answers must be identical.
  // Concurrent ones batch by timing, and a different batch (padding) moves scores in the last bits.
  const ask = async (s: RunningServer) => {
    const same: unknown[] = [];
    const close: { label: string; score: number }[] = [];
    for (const name of ['bert', 'dan']) {
      for (const t of TEXTS.slice(0, 6)) same.push((await post(`${s.url}/v1/models/${name}/predict`, { text: t, top_k: 2 })).body.results);
      same.push((await post(`${s.url}/v1/models/${name}/predict`, { texts: TEXTS, top_k: 2 })).body.results);
      const many = await Promise.all(TEXTS.slice(0, 16).map((t) => post(`${s.url}/v1/models/${name}/predict`, { text: t })));
      for (const r of many) close.push(r.body.results[0].classify);
    }
    const p = await post(`${s.url}/v1/models/pair/predict`, { texts: pairs.map(([a]) => a), pairs: pairs.map(([, b]) => b) });
    assert.equal(p.status, 200, p.text);
    same.push(p.body.results);
    return { same, close };
  };
  let threaded: Awaited<ReturnType<typeof ask>> | undefined;
  await withServer(models, { workers: 2, maxBatch: 8 }, async (s) => {
    threaded = await ask(s);
  });
  await withServer(models, { workers: 0, maxBatch: 8 }, async (s) => {
    const h = await get(`${s.url}/healthz`);
    assert.deepEqual(h.body, { status: 'ok', workers: 1, workers_ready: 1 });
    const inline = await ask(s);
    assert.deepEqual(inline.same, threaded!.same);
    inline.close.forEach((x, i) => {
      assert.equal(x.label, threaded!.close[i]!.label);
      assert.ok(Math.abs(x.score - threaded!.close[i]!.score) < 1e-5, `${x.score} vs ${threaded!.close[i]!.score}`);
    });
    const one = await post(`${s.url}/v1/models/bert/predict`, { text: 'the big cat' });
    const timing = Object.fromEntries((one.headers.get('server-timing') ?? '').split(', ').map((x) => [x.split(';dur=')[0], Number(x.split(';dur=')[1])]));
    assert.ok(timing.model! > 0 && timing.model! <= timing.worker! && timing.worker! <= timing.total!, JSON.stringify(timing));
    const met = (await get(`${s.url}/metrics`)).text;
    assert.match(met, /^slimtext_workers 1$/m);
    const sum = Number(/^slimtext_batch_size_sum\{model="dan"\} (\d+)$/m.exec(met)![1]);
    const count = Number(/^slimtext_batch_size_count\{model="dan"\} (\d+)$/m.exec(met)![1]);
    assert.ok(count < 6 + 1 + 16, `concurrent requests were batched (${sum} texts in ${count} batches)`);
    // Nothing to share with: the inline worker holds its own weights.
    assert.deepEqual(s.registry.get('bert')!.weights, { sharedBytes: 0, ownBytes: 0 });
  });
});

test('inline: reload swaps the model under traffic without dropping requests; a bad folder keeps the old one', async () => {
  const dir = join(tempDir('slimtext-serve-inline-reload-'), 'm');
  cpSync(await classifyModel(), dir, { recursive: true });
  const danDir = await danModel();
  await withServer({ m: dir }, { workers: 0, maxBatch: 4 }, async (s) => {
    const u = `${s.url}/v1/models/m/predict`;
    const { reload: rl, seen, statuses } = await reloadUnderTraffic(s, 'm', danDir, TEXTS, 4);
    assert.equal(rl.status, 200, rl.text);
    assert.equal(rl.body.models[0].version, 2);
    assert.equal(rl.body.models[0].kind, 'dan');
    assert.deepEqual([...new Set(statuses)], [200], 'no request failed during the reload');
    assert.ok(seen.includes(1) && seen.includes(2), 'answers from both versions');
    const bad = await post(`${s.adminUrl}/admin/models/m/reload`, { dir: join(dir, 'missing') });
    assert.equal(bad.status, 422);
    assert.match(bad.body.error.message, /still serving version 2/);
    const r = await post(u, { text: 'hello there' });
    assert.equal(r.body.version, 2);
    assert.equal(r.body.results[0].classify.label, 'greeting');
  });
});

test('inline: a full queue still answers 429, and the queued request is still answered', async () => {
  await withServer({ dan: await danModel() }, { workers: 0, maxWaitMs: 1500, maxBatch: 64, maxQueue: 4, limits: { maxTexts: 4 } }, async (s) => {
    const u = `${s.url}/v1/models/dan/predict`;
    const first = post(u, { texts: TEXTS.slice(0, 3) });
    await new Promise((r) => setTimeout(r, 200));
    const full = await post(u, { texts: TEXTS.slice(3, 5) });
    assert.equal(full.status, 429, full.text);
    assert.equal(full.body.error.code, 'queue_full');
    assert.ok(Number(full.headers.get('retry-after')) >= 1);
    const a = await first;
    assert.equal(a.status, 200);
    assert.equal(a.body.results.length, 3);
    assert.match((await get(`${s.url}/metrics`)).text, /^slimtext_predict_rejected_total\{model="dan",reason="queue_full"\} 1$/m);
  });
});

test('inline: a stopped inline worker fails its jobs and is replaced by one that loads the held models', async () => {
  const dir = await danModel();
  const lost: string[] = [];
  const pool = WorkerPool.start(0, { onIdle: () => undefined, onWorkerLost: (_i, why) => lost.push(why) });
  try {
    assert.equal(pool.size, 1);
    assert.equal(pool.shareWeights, false);
    const { info, weights } = await pool.load(pool.workers[0]!, 'm@1', dir, 5);
    assert.equal(info.kind, 'dan');
    assert.equal(weights, undefined);
    pool.hold('m@1', dir, 5);
    const old = pool.workers[0]!;
    const stopped = old.thread.terminate();
    const inFlight = pool.run(old, 'm@1', ['a dog'], ['classify']);
    await stopped;
    await assert.rejects(inFlight, /model worker 0 stopped/);
    assert.equal(lost.length, 1);
    for (let i = 0; i < 200 && !pool.idle(); i++) await new Promise((r) => setTimeout(r, 25));
    const w = pool.idle();
    assert.ok(w && w !== old, 'a new inline worker took the slot');
    assert.equal(((await pool.run(w, 'm@1', ['hello there'], ['classify'])).results[0]!.classify as { label: string }).label, 'greeting');
    await assert.rejects(pool.run(w, 'gone@1', ['x'], ['classify']), /not loaded in this worker/);
  } finally {
    await pool.close();
  }
});
