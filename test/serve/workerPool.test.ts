/** The model worker pool: a worker that dies fails its jobs and is replaced by one that loads every held model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../src/serve/index.js';
import { danModel } from './fixtures.js';

test('a dead worker is replaced, loads the held models, and serves again', async () => {
  const dir = await danModel();
  let idle = 0;
  const lost: string[] = [];
  const pool = WorkerPool.start(1, { onIdle: () => idle++, onWorkerLost: (_i, why) => lost.push(why) });
  try {
    const info = await pool.load(pool.workers[0]!, 'm@1', dir, 5);
    assert.equal(info.kind, 'dan');
    assert.deepEqual(info.tasks.map((t) => t.name), ['classify']);
    pool.hold('m@1', dir, 5);
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
