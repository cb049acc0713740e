/** The model worker pool: a worker that dies fails its jobs and is replaced by one that loads every held model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../src/serve/index.js';
import { loadServedModel } from '../../src/serve/servedModel.js';
import { classifyModel, danModel } from './fixtures.js';
import { classRows } from '../train/fixtures.js';

test('a dead worker is replaced, loads the held models, and serves again', async () => {
  const dir = await danModel();
  let idle = 0;
  const lost: string[] = [];
  const pool = WorkerPool.start(1, { onIdle: () => idle++, onWorkerLost: (_i, why) => lost.push(why) });
  try {
    const { info, weights } = await pool.load(pool.workers[0]!, 'm@1', dir, 5);
    assert.equal(info.kind, 'dan');
    assert.deepEqual(info.tasks.map((t) => t.name), ['classify']);
    pool.hold('m@1', dir, 5, weights);
    const ok = await pool.run(pool.workers[0]!, 'm@1', ['the cat'], ['classify']);
    assert.equal(ok.results.length, 1);
    assert.ok(ok.ms >= 0);

    const old = pool.workers[0]!;
    // A job sent as the thread stops fails (it is never left hanging).
    const stopped = old.thread.terminate();
    const inFlight = pool.run(old, 'm@1', ['a dog'], ['classify']);
    await stopped;
    await assert.rejects(inFlight, /model worker 0 stopped/);
    assert.equal(lost.length, 1);
    for (let i = 0; i < 200 && !pool.idle(); i++) await new Promise((r) => setTimeout(r, 25));
    const w = pool.idle();
    assert.ok(w && w !== old, 'a new worker took the slot');
    const again = await pool.run(w, 'm@1', ['hello there'], ['classify']);
    assert.equal((again.results[0]!.classify as { label: string }).label, 'greeting');
    await assert.rejects(pool.run(w, 'gone@1', ['x'], ['classify']), /not loaded in this worker/);
  } finally {
    await pool.close();
  }
});

test('shared weights: the second worker takes the first one\'s weights (no copy) and answers exactly as a model of its own', async () => {
  const texts = classRows(24, 5).map(([t]) => t);
  for (const dir of [await classifyModel(), await danModel()]) {
    const pool = WorkerPool.start(2, { onIdle: () => undefined });
    try {
      const [w0, w1] = pool.workers;
      const a = await pool.load(w0!, 'm@1', dir, 5);
      assert.ok(a.weights && a.weights.size > 0, 'the first load shares its weights');
      for (const arr of a.weights.values()) assert.ok(arr.buffer instanceof SharedArrayBuffer, 'in SharedArrayBuffers');
      assert.ok(a.stats!.madeBytes > 0);
      if (dir.includes('classify')) assert.ok([...a.weights.keys()].some((k) => k.startsWith('fast.packed(')), 'the packed inference weights are shared too');
      const b = await pool.load(w1!, 'm@1', dir, 5, a.weights);
      assert.equal(b.stats!.madeBytes, 0, `${dir}: the second load made no weights of its own`);
      assert.equal(b.stats!.adoptedBytes, a.stats!.madeBytes, 'it took every one');
      assert.equal(b.weights, undefined, 'only the first load sends weights back');
      // Predictions: both workers, one text at a time and batched, against a model loaded alone.
      const alone = await loadServedModel(dir, { maxTopK: 5 });
      const want = alone.predict(texts, ['classify']);
      for (const w of [w0!, w1!]) {
        const batched = await pool.run(w, 'm@1', texts, ['classify']);
        assert.deepEqual(batched.results, want, `${dir}: batched, worker ${w.index}`);
        for (let i = 0; i < 4; i++) assert.deepEqual((await pool.run(w, 'm@1', [texts[i]!], ['classify'])).results, alone.predict([texts[i]!], ['classify']));
      }
    } finally {
      await pool.close();
    }
  }
});

test('weight sharing off: every worker loads its own copy', async () => {
  const pool = WorkerPool.start(2, { onIdle: () => undefined }, { shareWeights: false });
  try {
    const a = await pool.load(pool.workers[0]!, 'm@1', await danModel(), 5);
    assert.equal(a.weights, undefined);
    assert.equal(a.stats, undefined);
  } finally {
    await pool.close();
  }
});
