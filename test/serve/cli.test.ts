/**
 * `slimtext serve` and `slimtext bench model` as a user runs them: predictions equal `slimtext
 * predict` on the same model for every model kind; SIGTERM drains and exits 0; SIGHUP reloads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../helpers.js';
import { slimtext, slimtextArgv } from '../cli/distillRun.js';
import { classRows, pairRows, replyRows, tempDir } from '../train/fixtures.js';
import { startServer } from '../../src/serve/index.js';
import { classifyModel, danModel, pairModel, replyModel } from './fixtures.js';
import { get, post } from './http.js';

interface Spawned {
  child: ChildProcess;
  url: string;
  adminUrl: string | null;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `slimtext serve ... --port 0 --json` and waits for its JSON line. */
async function serve(args: string[]): Promise<Spawned> {
  const child = spawn(process.execPath, slimtextArgv(['serve', '--port', '0', '--admin-port', '0', '--json', ...args]), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    new Promise<string>((res) => lines.once('line', res)),
    exit.then((code) => {
      throw new Error(`serve exited ${code} before listening: ${err}`);
    }),
  ]);
  const j = JSON.parse(first) as { url: string; admin_url: string | null };
  return { child, url: j.url, adminUrl: j.admin_url, stderr: () => err, exit };
}

test('the server answers as `slimtext predict` does, for every kind of model', async () => {
  const texts = classRows(30, 21).map(([t]) => t);
  const pairs = pairRows(20, 22);
  const messages = replyRows(10, 23).map(([m]) => m);
  const models = { classify: await classifyModel(), dan: await danModel(), pair: await pairModel(), reply: await replyModel() };
  const s = await startServer({ models: Object.entries(models).map(([name, dir]) => ({ name, dir })), port: 0, adminPort: null, workers: 2, maxBatch: 8 });
  try {
    for (const [name, dir] of Object.entries(models)) {
      const k = 2;
      const lines = name === 'pair' ? pairs.map(([a, b]) => `${a}\t${b}`) : name === 'reply' ? messages : texts;
      const r = spawnSync(process.execPath, slimtextArgv(['predict', '--model', dir, '--json', '--top-k', String(k)]), { input: lines.join('\n') + '\n', encoding: 'utf8', cwd: repoRoot });
      assert.equal(r.status, 0, r.stderr);
      const want = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      // Several requests at once, so the server batches them its own way.
      const chunks = [lines.slice(0, 1), lines.slice(1, 4), lines.slice(4, 13), lines.slice(13)].filter((c) => c.length > 0);
      const bodies = chunks.map((c) =>
        name === 'pair' ? { texts: c.map((l) => l.split('\t')[0]), pairs: c.map((l) => l.split('\t')[1]), top_k: k } : { texts: c, top_k: k },
      );
      const got = (await Promise.all(bodies.map((b) => post(`${s.url}/v1/models/${name}/predict`, b)))).flatMap((a) => {
        assert.equal(a.status, 200, a.text);
        return a.body.results;
      });
      assert.equal(got.length, want.length);
      got.forEach((g: any, i: number) => {
        if (name === 'reply') {
          const replies = g.reply.replies;
          assert.deepEqual(replies.map((x: any) => x.text), want[i].replies.map((x: any) => x.text), `${name} ${i}`);
          replies.forEach((x: any, j: number) => assert.ok(Math.abs(x.score - want[i].replies[j].score) <= 6e-5, `${name} ${i}`));
        } else {
          const task = g[name === 'pair' ? 'pair' : 'classify'];
          assert.equal(task.label, want[i].label, `${name} ${i}`);
          assert.deepEqual(task.top.map((x: any) => x.label), want[i].top.map((x: any) => x.label), `${name} ${i}`);
          task.top.forEach((x: any, j: number) => assert.ok(Math.abs(x.score - want[i].top[j].score) <= 6e-5, `${name} ${i}: ${x.score} vs ${want[i].top[j].score}`));
        }
      });
    }
  } finally {
    await s.close();
  }
});

test('serve: SIGTERM drains the requests in progress and exits 0 (worker threads, and inline: --workers 0)', async () => {
  for (const workers of ['1', '0']) {
    const s = await serve(['--model', `m=${await danModel()}`, '--workers', workers, '--max-wait-ms', '1500']);
    assert.match(s.stderr(), /listening on http:\/\/127\.0\.0\.1:\d+, admin on http:\/\/127\.0\.0\.1:\d+; models: m \(dan, classify\)/);
    const inFlight = post(`${s.url}/v1/models/m/predict`, { texts: ['the cat', 'hello'] });
    await new Promise((r) => setTimeout(r, 300));
    s.child.kill('SIGTERM');
    const a = await inFlight;
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.body.results.map((r: any) => r.classify.label), ['animal', 'greeting']);
    assert.equal(await s.exit, 0, s.stderr());
    assert.match(s.stderr(), /SIGTERM: draining/);
    assert.match(s.stderr(), /drained, stopped/);
  }
});

test('serve: SIGHUP reloads every model from its folder', async () => {
  const dir = join(tempDir('slimtext-serve-hup-'), 'm');
  cpSync(await classifyModel(), dir, { recursive: true });
  const s = await serve(['--model', dir, '--workers', '2']);
  try {
    const before = await get(`${s.url}/v1/models/m`);
    assert.equal(before.body.kind, 'sequence-classifier');
    rmSync(dir, { recursive: true });
    cpSync(await danModel(), dir, { recursive: true });
    s.child.kill('SIGHUP');
    let after = before;
    for (let i = 0; i < 100 && after.body.version === 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await get(`${s.url}/v1/models/m`);
    }
    assert.equal(after.body.version, 2, s.stderr());
    assert.equal(after.body.kind, 'dan');
    assert.match(s.stderr(), /reloaded m \(version 2\)/);
    const p = await post(`${s.url}/v1/models/m/predict`, { text: 'a big dog' });
    assert.equal(p.status, 200);
    assert.equal(p.body.version, 2);
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exit, 0);
  }
});

test('serve: usage and load errors are one line, no stack', async () => {
  const none = slimtext(['serve']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--model NAME=DIR is required/);
  const bad = slimtext(['serve', '--model', 'x=/nonexistent/folder', '--port', '0', '--admin-port', 'off']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /model 'x' \(\/nonexistent\/folder\)/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
  const port = slimtext(['serve', '--model', await danModel(), '--port', 'abc']);
  assert.equal(port.status, 2);
});

test('bench model: load time, single-text latency and batched throughput as JSON', async () => {
  const r = slimtext(['bench', 'model', '--model', await danModel(), '--threads', '1,2', '--seconds', '0.3', '--max-texts', '200', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.kind, 'dan');
  assert.deepEqual(j.tasks, ['classify']);
  assert.equal(j.texts.n, 200);
  assert.ok(j.load_ms > 0);
  assert.ok(j.single.p50_ms > 0 && j.single.p99_ms >= j.single.p50_ms);
  assert.deepEqual(j.batched.map((b: any) => b.threads), [1, 2]);
  for (const b of j.batched) assert.ok(b.texts_per_s > 0 && b.texts > 0);
  const data = join(tempDir(), 'd.tsv');
  writeFileSync(data, 'sentence1\tsentence2\tlabel\n' + pairRows(20, 3).map((x) => x.join('\t')).join('\n') + '\n');
  const p = slimtext(['bench', 'model', '--model', await pairModel(), '--data', data, '--threads', '1', '--seconds', '0.2', '--json']);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(JSON.parse(p.stdout).texts.n, 20);
  const bad = slimtext(['bench', 'model', '--model', await danModel(), '--threads', '0']);
  assert.equal(bad.status, 2);
});
