/**
 * The server in this process on ephemeral loopback ports: every endpoint, the request limits, bad
 * requests, the queue-full answer, draining on close, and reload without dropped requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer, type StartOptions } from '../../src/serve/index.js';
import { classRows, tempDir } from '../train/fixtures.js';
import { classifyModel, danModel } from './fixtures.js';
import { get, post, reloadUnderTraffic, send } from './http.js';

const TEXTS = classRows(40, 11).map(([t]) => t);

async function serving(models: Record<string, string>, over: Partial<StartOptions> = {}): Promise<RunningServer> {
  return startServer({ models: Object.entries(models).map(([name, dir]) => ({ name, dir })), port: 0, adminPort: 0, workers: 2, ...over });
}

async function withServer(models: Record<string, string>, over: Partial<StartOptions>, fn: (s: RunningServer) => Promise<void>): Promise<void> {
  const s = await serving(models, over);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

test('every endpoint: probes, models, OpenAPI, metrics, predict, unknown routes', async () => {
  await withServer({ bert: await classifyModel(), dan: await danModel() }, {}, async (s) => {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const h = await get(`${s.url}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(h.body, { status: 'ok', workers: 2, workers_ready: 2 });
    const r = await get(`${s.url}/readyz`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.models, ['bert', 'dan']);

    const m = await get(`${s.url}/v1/models`);
    assert.equal(m.status, 200);
    const byName = Object.fromEntries(m.body.models.map((x: { name: string }) => [x.name, x]));
    assert.equal(byName.bert.kind, 'sequence-classifier');
    assert.equal(byName.dan.kind, 'dan');
    for (const x of m.body.models) {
      assert.equal(x.version, 1);
      assert.ok(x.bytes > 1000, `size of ${x.name}`);
      assert.deepEqual(x.tasks, [{ name: 'classify', kind: 'classify', labels: ['animal', 'greeting'], default_top_k: 1, max_top_k: 2 }]);
    }
    const one = await get(`${s.url}/v1/models/dan`);
    assert.deepEqual(one.body, byName.dan);
    const missing = await get(`${s.url}/v1/models/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'unknown_model');
    assert.match(missing.body.error.message, /no model named 'nope' \(serving: bert, dan\)/);

    for (const name of ['bert', 'dan']) {
      const p = await post(`${s.url}/v1/models/${name}/predict`, { text: 'the big cat' });
      assert.equal(p.status, 200, p.text);
      assert.equal(p.body.model, name);
      assert.equal(p.body.version, 1);
      assert.equal(p.body.results.length, 1);
      const c = p.body.results[0].classify;
      assert.equal(c.label, 'animal');
      assert.ok(c.score > 0.5 && c.score <= 1);
      assert.deepEqual(c.top, [{ label: c.label, score: c.score }]);
      // Where the time went: queue, worker (model + thread hops), model, total (fastify's), in ms.
      const timing = Object.fromEntries((p.headers.get('server-timing') ?? '').split(', ').map((x) => [x.split(';dur=')[0], Number(x.split(';dur=')[1])]));
      assert.deepEqual(Object.keys(timing), ['queue', 'worker', 'model', 'total'], p.headers.get('server-timing') ?? 'no server-timing');
      assert.ok(timing.model! > 0 && timing.model! <= timing.worker! && timing.worker! <= timing.total!, JSON.stringify(timing));
      const many = await post(`${s.url}/v1/models/${name}/predict`, { texts: ['hello', 'a red dog'], top_k: 2, tasks: ['classify'] });
      assert.equal(many.status, 200, many.text);
      assert.deepEqual(many.body.results.map((x: any) => x.classify.label), ['greeting', 'animal']);
      for (const x of many.body.results) {
        assert.equal(x.classify.top.length, 2);
        assert.ok(Math.abs(x.classify.top[0].score + x.classify.top[1].score - 1) < 1e-5);
      }
    }

    const doc = await get(`${s.url}/openapi.json`);
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.0.3');
    const op = doc.body.paths['/v1/models/{name}/predict'].post;
    const body = op.requestBody.content['application/json'].schema;
    assert.equal(body.properties.texts.maxItems, 64);
    assert.equal(body.properties.text.maxLength, 10_000);
    for (const code of ['200', '400', '413', '429']) assert.ok(op.responses[code], `documents ${code}`);
    for (const p of ['/v1/models', '/v1/models/{name}', '/healthz', '/readyz', '/metrics']) assert.ok(doc.body.paths[p], `documents ${p}`);

    const nf = await get(`${s.url}/nothing/here`);
    assert.equal(nf.status, 404);
    assert.match(nf.body.error.message, /no route GET \/nothing\/here/);

    const met = await get(`${s.url}/metrics`);
    assert.equal(met.status, 200);
    assert.match(met.headers.get('content-type') ?? '', /^text\/plain/);
    const t = met.text;
    assert.match(t, /^slimtext_batch_size_count\{model="dan"\} [1-9]/m);
    assert.match(t, /^slimtext_batch_model_seconds_count\{model="bert"\} [1-9]/m);
    assert.match(t, /^slimtext_predict_texts_total\{model="bert"\} 3$/m);
    assert.match(t, /^slimtext_queue_depth 0$/m);
    assert.match(t, /^slimtext_http_requests_total\{route="\/v1\/models\/:name\/predict",method="POST",status="200"\} 4$/m);
    assert.match(t, /^slimtext_http_request_duration_seconds_bucket\{le="0.005",route="\/v1\/models\/:name\/predict"\} \d+$/m);
    assert.match(t, /^slimtext_model_version\{model="dan"\} 1$/m);
    assert.match(t, /^slimtext_workers 2$/m);
    assert.match(t, /^slimtext_process_cpu_seconds_total /m);
  });
});

test('bad requests get a 4xx with a reason that names the field', async () => {
  await withServer({ dan: await danModel() }, { workers: 1 }, async (s) => {
    const u = `${s.url}/v1/models/dan/predict`;
    const cases: [string, unknown, number, string, RegExp][] = [
      ['wrong type', { text: 5 }, 400, 'wrong_type', /^text must be a string$/],
      ['wrong item type', { texts: ['a', null] }, 400, 'wrong_type', /^texts\[1\] must be a string$/],
      ['texts not a list', { texts: 'a' }, 400, 'wrong_type', /^texts must be an array$/],
      ['body not an object', [1, 2], 400, 'wrong_type', /the body must be a JSON object/],
      ['unknown field', { text: 'a', label: 'x' }, 400, 'unknown_field', /unknown field "label"/],
      ['neither text nor texts', { top_k: 1 }, 400, 'missing_text', /exactly one of "text"/],
      ['both text and texts', { text: 'a', texts: ['b'] }, 400, 'missing_text', /exactly one of/],
      ['empty texts', { texts: [] }, 400, 'empty_list', /"texts" must not be empty/],
      ['unknown task', { text: 'a', tasks: ['sentiment'] }, 400, 'unknown_task', /has no task 'sentiment' \(its tasks: classify\)/],
      ['top_k over the limit', { text: 'a', top_k: 11 }, 400, 'top_k_too_large', /at most 10/],
      ['top_k over the labels', { text: 'a', top_k: 3 }, 400, 'top_k_too_large', /offers \(2\)/],
      ['top_k not whole', { text: 'a', top_k: 1.5 }, 400, 'wrong_type', /top_k must be a whole number/],
      ['pair for a single-text model', { text: 'a', pair: 'b' }, 400, 'invalid_request', /for pair tasks/],
      ['pairs with text', { text: 'a', pairs: ['b'] }, 400, 'invalid_request', /"pairs" goes with "texts"/],
    ];
    for (const [what, body, status, code, message] of cases) {
      const r = await post(u, body);
      assert.equal(r.status, status, `${what}: ${r.text}`);
      assert.equal(r.body.error.code, code, what);
      assert.equal(r.body.error.status, status, what);
      assert.match(r.body.error.message, message, what);
    }
    const bad = await post(u, '{"text": "a"');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_json');
    const empty = await send(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
    assert.equal(empty.status, 400);
    assert.match(empty.body.error.message, /empty/);
    const form = await send(u, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'the cat' });
    assert.equal(form.status, 415);
    assert.match(form.body.error.message, /application\/json/);
    const unknown = await post(`${s.url}/v1/models/other/predict`, { text: 'a' });
    assert.equal(unknown.status, 404);
    // The server still answers after all that.
    assert.equal((await post(u, { text: 'a cat' })).status, 200);
    const met = (await get(`${s.url}/metrics`)).text;
    assert.match(met, /^slimtext_predict_rejected_total\{model="dan",reason="invalid"\} 1[0-9]$/m);
    assert.match(met, /^slimtext_predict_rejected_total\{model="unknown",reason="invalid"\} 1$/m);
  });
});

test('limits: texts per request, characters per text and body bytes answer 413 naming the limit', async () => {
  await withServer({ dan: await danModel() }, { workers: 1, limits: { maxTexts: 3, maxChars: 20, maxBodyBytes: 300 }, maxQueue: 8 }, async (s) => {
    const u = `${s.url}/v1/models/dan/predict`;
    assert.equal((await post(u, { texts: ['a', 'b', 'c'] })).status, 200);
    assert.equal((await post(u, { text: 'x'.repeat(20) })).status, 200);
    const many = await post(u, { texts: ['a', 'b', 'c', 'd'] });
    assert.equal(many.status, 413);
    assert.equal(many.body.error.code, 'too_many_texts');
    assert.match(many.body.error.message, /more than 3 entries .*--max-texts/);
    const long = await post(u, { texts: ['ok', 'y'.repeat(21)] });
    assert.equal(long.status, 413);
    assert.equal(long.body.error.code, 'text_too_long');
    assert.match(long.body.error.message, /^texts\[1\] is longer than 20 characters .*--max-chars/);
    const huge = await post(u, { text: 'z'.repeat(400) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'body_too_large');
    assert.match(huge.body.error.message, /larger than 300 bytes .*--max-body-bytes/);
    const met = (await get(`${s.url}/metrics`)).text;
    assert.match(met, /^slimtext_predict_rejected_total\{model="dan",reason="limit"\} 3$/m);
  });
});

test('a full queue answers 429 with Retry-After, and the queued requests are still answered', async () => {
  // Texts wait up to 1.5 s for a fuller batch, so the first request is still queued when the second comes.
  await withServer({ dan: await danModel() }, { workers: 1, maxWaitMs: 1500, maxBatch: 64, maxQueue: 4, limits: { maxTexts: 4 } }, async (s) => {
    const u = `${s.url}/v1/models/dan/predict`;
    const first = post(u, { texts: TEXTS.slice(0, 3) });
    await new Promise((r) => setTimeout(r, 200));
    const full = await post(u, { texts: TEXTS.slice(3, 5) });
    assert.equal(full.status, 429, full.text);
    assert.equal(full.body.error.code, 'queue_full');
    assert.match(full.body.error.message, /3 texts are queued/);
    const retry = Number(full.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= 1, `Retry-After ${full.headers.get('retry-after')}`);
    const fits = post(u, { text: TEXTS[5] });
    const [a, b] = await Promise.all([first, fits]);
    assert.equal(a.status, 200);
    assert.equal(a.body.results.length, 3);
    assert.equal(b.status, 200);
    const met = (await get(`${s.url}/metrics`)).text;
    assert.match(met, /^slimtext_predict_rejected_total\{model="dan",reason="queue_full"\} 1$/m);
    // Both waited for the batch and went together: one batch of 4.
    assert.match(met, /^slimtext_batch_size_sum\{model="dan"\} 4$/m);
    assert.match(met, /^slimtext_batch_size_count\{model="dan"\} 1$/m);
  });
});

test('close drains: requests already accepted are answered, new connections are refused', async () => {
  const s = await serving({ bert: await classifyModel() }, { maxWaitMs: 2000, maxBatch: 64 });
  const u = `${s.url}/v1/models/bert/predict`;
  const pending = [post(u, { text: TEXTS[0] }), post(u, { texts: TEXTS.slice(1, 4) }), post(u, { text: TEXTS[4] })];
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  const closed = s.close();
  const answers = await Promise.all(pending);
  for (const a of answers) assert.equal(a.status, 200, a.text);
  assert.deepEqual(answers.map((a) => a.body.results.length), [1, 3, 1]);
  assert.deepEqual(await closed, { drained: true });
  // The queued texts went to the workers at once instead of waiting out max-wait-ms.
  assert.ok(performance.now() - t0 < 1500, `drain took ${performance.now() - t0} ms`);
  await assert.rejects(fetch(`${s.url}/healthz`));
  assert.deepEqual(await s.close(), { drained: true }, 'closing twice is harmless');
});

test('reload swaps the model (even its kind) between batches without dropping requests', async () => {
  const dir = join(tempDir('slimtext-serve-reload-'), 'm');
  cpSync(await classifyModel(), dir, { recursive: true });
  const danDir = await danModel();
  await withServer({ m: dir }, { workers: 2, maxBatch: 4 }, async (s) => {
    assert.ok(s.adminUrl);
    assert.match(s.adminUrl!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(s.adminUrl, s.url);
    const u = `${s.url}/v1/models/m/predict`;
    const { reload: rl, seen, statuses } = await reloadUnderTraffic(s, 'm', danDir, TEXTS, 6);
    assert.equal(rl.status, 200, rl.text);
    assert.equal(rl.body.models[0].version, 2);
    assert.equal(rl.body.models[0].kind, 'dan');
    assert.deepEqual([...new Set(statuses)], [200], 'no request failed during the reload');
    assert.ok(seen.includes(1) && seen.includes(2), 'answers from both versions');
    // Responses say which version answered: once version 2 answers, no later batch runs version 1
    // (responses of concurrent loops can finish out of order, so allow the loops' few in flight).
    assert.ok(seen.slice(seen.indexOf(2)).filter((v) => v !== 2).length <= 6, 'after the switch no request is answered by the old version');

    const m = await get(`${s.url}/v1/models/m`);
    assert.equal(m.body.version, 2);
    assert.equal(m.body.kind, 'dan');
    // Both versions' weights were shared by the two workers (one copy each), the reload's too.
    const w = s.registry.get('m')!.weights;
    assert.ok(w.sharedBytes > 0 && w.ownBytes === 0, JSON.stringify(w));

    // A bad folder: refused with the reason, the current version keeps serving.
    const bad = await post(`${s.adminUrl}/admin/models/m/reload`, { dir: join(dir, 'missing') });
    assert.equal(bad.status, 422);
    assert.match(bad.body.error.message, /reload of 'm' from .*missing failed, still serving version 2/);
    assert.equal((await post(u, { text: 'a cat' })).body.version, 2);
    // Reload of everything from where each model was loaded.
    const all = await post(`${s.adminUrl}/admin/reload`, {});
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.models[0].version, 3);
    assert.equal(s.registry.get('m')!.weights.ownBytes, 0);
    const r3 = await post(u, { texts: TEXTS.slice(0, 5) });
    assert.equal(r3.body.version, 3);
    assert.equal((await post(`${s.adminUrl}/admin/models/zz/reload`, {})).status, 404);
    // The admin API is not on the public port.
    assert.equal((await post(`${s.url}/admin/reload`, {})).status, 404);
    assert.match((await get(`${s.url}/metrics`)).text, /^slimtext_model_reloads_total\{model="m",result="failed"\} 1$/m);
  });
});

test('many concurrent requests batch together and each gets its own answers', async () => {
  const dir = await classifyModel();
  await withServer({ bert: dir }, { workers: 2, maxBatch: 8, maxWaitMs: 5 }, async (s) => {
    const u = `${s.url}/v1/models/bert/predict`;
    const alone = await Promise.all(TEXTS.slice(0, 12).map(async (t) => (await post(u, { text: t, top_k: 2 })).body.results[0].classify));
    const reqs = Array.from({ length: 40 }, (_, i) => TEXTS.slice(i % 12, (i % 12) + 1 + (i % 3)));
    const answers = await Promise.all(reqs.map((texts) => post(u, { texts, top_k: 2 })));
    answers.forEach((a, i) => {
      assert.equal(a.status, 200, a.text);
      a.body.results.forEach((r: any, j: number) => {
        const want = alone[(i % 12) + j];
        if (!want) return;
        assert.equal(r.classify.label, want.label);
        assert.ok(Math.abs(r.classify.score - want.score) < 1e-5, `${r.classify.score} vs ${want.score}`);
      });
    });
    const met = (await get(`${s.url}/metrics`)).text;
    const sum = Number(/^slimtext_batch_size_sum\{model="bert"\} (\d+)$/m.exec(met)![1]);
    const count = Number(/^slimtext_batch_size_count\{model="bert"\} (\d+)$/m.exec(met)![1]);
    assert.ok(sum / count > 1.5, `mean batch ${sum / count}: concurrent requests were batched`);
  });
});

test('start-up errors: a missing model folder names the model and folder; bad options are refused', async () => {
  await assert.rejects(serving({ x: '/nonexistent/model' }, { workers: 1 }), /model 'x' \(\/nonexistent\/model\)/);
  await assert.rejects(serving({ 'a/b': await danModel() }), /model name 'a\/b'/);
  await assert.rejects(serving({ a: await danModel() }, { maxQueue: 10, limits: { maxTexts: 64 } }), /max-queue \(10\) must be at least max-texts/);
});
