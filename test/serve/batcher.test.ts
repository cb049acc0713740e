/** Dynamic micro-batching against a fake pool: when batches go, how big they are, the bound, the drain. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher, QueueFull } from '../../src/serve/batcher.js';
import type { WorkerPool } from '../../src/serve/workerPool.js';
import type { Input } from '../../src/serve/servedModel.js';

/** A pool of `n` fake workers; each batch is answered when the test calls finish(). */
function fakePool(n: number) {
  const workers = Array.from({ length: n }, (_, index) => ({ index, busy: 0, ready: true }));
  const batches: { w: number; key: string; inputs: Input[]; tasks: string[]; finish: () => void }[] = [];
  let batcher: Batcher | undefined;
  const pool = {
    size: n,
    workers,
    idle: () => workers.find((w) => w.busy === 0),
    run: (w: (typeof workers)[number], key: string, inputs: Input[], tasks: string[]) => {
      w.busy++;
      return new Promise((resolve) => {
        batches.push({
          w: w.index, key, inputs, tasks,
          finish: () => {
            w.busy--;
            resolve({ results: inputs.map((x) => Object.fromEntries(tasks.map((t) => [t, { label: `${t}:${String(x)}`, score: 1, top: [] }]))), ms: 1 });
            setImmediate(() => batcher!.pump());
          },
        });
      });
    },
  };
  return { pool: pool as unknown as WorkerPool, batches, set: (b: Batcher) => (batcher = b) };
}

const versions = { currentKey: (m: string) => `${m}@1` };
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

test('an idle worker takes what is queued at once when max-wait is 0; batches form while workers are busy', async () => {
  const f = fakePool(1);
  const b = new Batcher(f.pool, versions, { maxBatch: 4, maxWaitMs: 0, maxQueue: 100 });
  f.set(b);
  const first = b.submit('m', ['a'], ['t']);
  assert.equal(f.batches.length, 1, 'dispatched without waiting');
  const rest = [b.submit('m', ['b', 'c'], ['t']), b.submit('m', ['d', 'e', 'f'], ['t'])];
  assert.equal(b.depth, 5);
  f.batches[0]!.finish();
  const a1 = await first;
  assert.deepEqual({ results: a1.results, key: a1.key }, { results: [{ t: { label: 't:a', score: 1, top: [] } }], key: 'm@1' });
  assert.equal(a1.timing.model, 1, "the worker's model time");
  assert.ok(a1.timing.worker >= 0 && a1.timing.queue >= 0);
  await tick();
  assert.deepEqual(f.batches[1]!.inputs, ['b', 'c', 'd', 'e'], 'up to max-batch, across requests, in order');
  f.batches[1]!.finish();
  await tick();
  assert.deepEqual(f.batches[2]!.inputs, ['f'], 'a request split across batches');
  f.batches[2]!.finish();
  const [r1, r2] = (await Promise.all(rest)).map((a) => a.results);
  assert.deepEqual(r1.map((r) => (r.t as { label: string }).label), ['t:b', 't:c']);
  assert.deepEqual(r2.map((r) => (r.t as { label: string }).label), ['t:d', 't:e', 't:f']);
  assert.equal(b.depth, 0);
});

test('with max-wait, a partial batch waits for more texts, a full one goes at once', async () => {
  const f = fakePool(2);
  const b = new Batcher(f.pool, versions, { maxBatch: 3, maxWaitMs: 80, maxQueue: 100 });
  f.set(b);
  const t0 = performance.now();
  const p = b.submit('m', ['a'], ['t']);
  const q = b.submit('m', ['b'], ['t']);
  await tick(20);
  assert.equal(f.batches.length, 0, 'still waiting for a fuller batch');
  const full = b.submit('m', ['c', 'd', 'e'], ['t']);
  assert.equal(f.batches.length, 1, 'max-batch reached: dispatched at once');
  assert.deepEqual(f.batches[0]!.inputs, ['a', 'b', 'c']);
  await tick(100);
  assert.equal(f.batches.length, 2);
  assert.deepEqual(f.batches[1]!.inputs, ['d', 'e'], 'the rest went after max-wait');
  assert.ok(performance.now() - t0 >= 80);
  for (const x of f.batches) x.finish();
  await Promise.all([p, q, full]);
});

test('immediate dispatch still batches under load: what queues while the workers are busy goes as one batch', async () => {
  const f = fakePool(2);
  const b = new Batcher(f.pool, versions, { maxBatch: 8, maxWaitMs: 0, maxQueue: 100 });
  f.set(b);
  const first = [b.submit('m', ['a'], ['t']), b.submit('m', ['b'], ['t'])];
  assert.deepEqual(f.batches.map((x) => x.inputs), [['a'], ['b']], 'two idle workers: one text each, at once');
  const queued = ['c', 'd', 'e', 'f', 'g'].map((t) => b.submit('m', [t], ['t']));
  assert.equal(b.depth, 5);
  f.batches[0]!.finish();
  await tick();
  assert.deepEqual(f.batches[2]!.inputs, ['c', 'd', 'e', 'f', 'g'], 'the freed worker takes everything that queued');
  f.batches[1]!.finish();
  f.batches[2]!.finish();
  await Promise.all([...first, ...queued]);
});

test('the queue is bounded: a request that does not fit is refused whole, with a retry estimate', async () => {
  const f = fakePool(1);
  const b = new Batcher(f.pool, versions, { maxBatch: 2, maxWaitMs: 10_000, maxQueue: 3 });
  f.set(b);
  const p = b.submit('m', ['a', 'b'], ['t']);
  assert.equal(f.batches.length, 1, 'max-batch texts go at once');
  const q = b.submit('m', ['c'], ['t']);
  assert.throws(() => b.submit('m', ['d', 'e', 'f'], ['t']), (e: unknown) => e instanceof QueueFull && e.retryAfterSeconds >= 1 && e.queued === 1);
  const r = b.submit('m', ['d', 'e'], ['t']);
  assert.equal(b.depth, 3);
  // Drain: every queued text goes to the next idle worker without waiting out max-wait.
  const drained = b.drain();
  f.batches[0]!.finish();
  await tick();
  f.batches[1]!.finish();
  await tick();
  f.batches[2]!.finish();
  await drained;
  assert.deepEqual(f.batches.map((x) => x.inputs.length), [2, 2, 1]);
  await Promise.all([p, q, r]);
});

test('a request asks for its tasks; batches ask the worker for the union', async () => {
  const f = fakePool(1);
  const b = new Batcher(f.pool, versions, { maxBatch: 8, maxWaitMs: 30, maxQueue: 100 });
  f.set(b);
  const x = b.submit('m', ['a'], ['t1']);
  const y = b.submit('m', ['b'], ['t2', 't1']);
  const other = b.submit('n', ['c'], ['t1']);
  await tick(60);
  assert.deepEqual(f.batches[0]!.tasks.sort(), ['t1', 't2']);
  assert.equal(f.batches[0]!.key, 'm@1');
  f.batches[0]!.finish();
  assert.deepEqual(Object.keys((await x).results[0]!), ['t1']);
  assert.deepEqual(Object.keys((await y).results[0]!).sort(), ['t1', 't2']);
  await tick();
  assert.equal(f.batches[1]!.key, 'n@1', 'one model per batch');
  f.batches[1]!.finish();
  await other;
});

test('texts of a request whose client went away are not run', async () => {
  const f = fakePool(1);
  const b = new Batcher(f.pool, versions, { maxBatch: 8, maxWaitMs: 30, maxQueue: 100 });
  f.set(b);
  let cancel: () => void = () => {};
  void b.submit('m', ['gone1', 'gone2'], ['t'], { onCancel: (fn) => (cancel = fn) });
  const kept = b.submit('m', ['kept'], ['t']);
  cancel();
  assert.equal(b.depth, 1);
  await tick(60);
  assert.deepEqual(f.batches[0]!.inputs, ['kept']);
  f.batches[0]!.finish();
  await kept;
});
