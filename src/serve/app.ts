/**
 * The HTTP side (fastify): the public API (predict, models, probes, metrics, OpenAPI) and the
 * admin API (reload), each its own fastify instance so the admin one can listen on loopback only.
 * Handlers validate and queue; no model work happens on this thread.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { QueueFull, type Batcher } from './batcher.js';
import { ApiError, errorBody, fromFastify } from './httpErrors.js';
import type { ServerMetrics } from './metrics.js';
import type { Limits } from './options.js';
import type { ModelRegistry, ServedEntry } from './registry.js';
import { errorSchema, modelSchema, modelsSchema, predictBodySchema, predictResponseSchema, reloadBodySchema, type PredictBody } from './schemas.js';
import { topK, type Input } from './servedModel.js';
import type { WorkerPool } from './workerPool.js';

export type ServerState = 'loading' | 'ready' | 'draining';

export interface ServerContext {
  registry: ModelRegistry;
  batcher: Batcher;
  pool: WorkerPool;
  metrics: ServerMetrics;
  limits: Limits;
  state(): ServerState;
  /** Reloads one model (or all); the admin API and SIGHUP both come here. */
  reload(name?: string, dir?: string): Promise<ServedEntry[]>;
  log: boolean;
  version: string;
}

const errors = { 400: errorSchema, 404: errorSchema, 413: errorSchema, 415: errorSchema, 429: errorSchema, 503: errorSchema };

export async function publicApp(ctx: ServerContext): Promise<FastifyInstance> {
  const app = base(ctx);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'slimtext serve',
        version: ctx.version,
        description: 'Text classification, pair classification and reply ranking over slimtext models, batched on worker threads.',
      },
    },
  });

  app.get('/healthz', { schema: { summary: 'Liveness: the process answers', tags: ['probes'] } }, async () => ({
    status: 'ok',
    workers: ctx.pool.size,
    workers_ready: ctx.pool.workers.filter((w) => w.ready).length,
  }));

  app.get('/readyz', { schema: { summary: 'Readiness: every model loaded and not shutting down (503 otherwise)', tags: ['probes'] } }, async (_req, reply) => {
    const s = ctx.state();
    if (s !== 'ready') return reply.code(503).send({ status: s });
    return { status: 'ready', models: ctx.registry.list().map((e) => e.name) };
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['probes'] } }, async (_req, reply) => {
    ctx.metrics.busyWorkers.set(ctx.pool.busyCount());
    ctx.metrics.workers.set(ctx.pool.size);
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/v1/models', { schema: { summary: 'The served models: names, kinds, tasks and labels, sizes, versions', tags: ['models'], response: { 200: modelsSchema } } }, async () => ({
    models: ctx.registry.list().map(describe),
  }));

  app.get<{ Params: { name: string } }>(
    '/v1/models/:name',
    { schema: { summary: 'One served model', tags: ['models'], params: nameParams, response: { 200: modelSchema, 404: errorSchema } } },
    async (req) => describe(entryOf(ctx, req.params.name)),
  );

  app.post<{ Params: { name: string }; Body: PredictBody }>(
    '/v1/models/:name/predict',
    {
      schema: {
        summary: 'Predict: labels with probabilities (classify, pair) or the best replies (reply), per text and task',
        tags: ['predict'],
        params: nameParams,
        body: predictBodySchema(ctx.limits),
        response: { 200: predictResponseSchema, ...errors },
      },
    },
    (req, reply) => predict(ctx, req, reply),
  );
  return app;
}

export function adminApp(ctx: ServerContext): FastifyInstance {
  const app = base(ctx);
  app.post<{ Body: { dir?: string } | null }>('/admin/reload', { schema: { body: reloadBodySchema } }, async (req) => {
    if (req.body?.dir) throw new ApiError(400, 'invalid_request', '"dir" needs one model: POST /admin/models/NAME/reload');
    return { models: (await reload(ctx)).map(describe) };
  });
  app.post<{ Params: { name: string }; Body: { dir?: string } | null }>('/admin/models/:name/reload', { schema: { params: nameParams, body: reloadBodySchema } }, async (req) => {
    entryOf(ctx, req.params.name);
    return { models: (await reload(ctx, req.params.name, req.body?.dir)).map(describe) };
  });
  app.get('/admin/models', async () => ({ models: ctx.registry.list().map((e) => ({ ...describe(e), dir: e.dir })) }));
  return app;
}

const nameParams = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;

/** What both instances share: body limit, strict validation, one error shape, request metrics. */
function base(ctx: ServerContext): FastifyInstance {
  const app = Fastify({
    bodyLimit: ctx.limits.maxBodyBytes,
    logger: ctx.log,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });
  // JSON only: a text/plain body is 415, not a string that then fails the schema.
  app.removeContentTypeParser('text/plain');
  // Plain JSON.stringify: response schemas are documentation (OpenAPI), results keep every field.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler((e, req, reply) => {
    const err = fromFastify(e as Parameters<typeof fromFastify>[0], ctx.limits);
    if (err.status >= 500) req.log.error(e);
    countRejected(ctx, req, err);
    void reply.code(err.status).headers(err.headers).send(errorBody(err));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody(new ApiError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]} (see /openapi.json)`)));
  });
  // While draining, answered keep-alive connections close, so the listener can finish closing.
  // Hooks take callbacks, not promises: one promise less per request on the hot path.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (ctx.state() === 'draining') void reply.header('connection', 'close');
    // A predict answer carries its queue/worker/model split; `total` is fastify's time so far
    // (request received -> response serialised).
    const timing = reply.getHeader('server-timing');
    if (timing !== undefined) void reply.header('server-timing', `${String(timing)}, total;dur=${ms3(reply.elapsedTime)}`);
    done(null, payload);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    ctx.metrics.latency.observe({ route }, reply.elapsedTime / 1000);
    done();
  });
  return app;
}

async function predict(ctx: ServerContext, req: FastifyRequest<{ Params: { name: string }; Body: PredictBody }>, reply: FastifyReply) {
  if (ctx.state() === 'loading') throw new ApiError(503, 'loading', 'the models are still loading; retry shortly', { 'retry-after': '1' });
  const entry = entryOf(ctx, req.params.name);
  const b = req.body;
  if ((b.text === undefined) === (b.texts === undefined)) throw new ApiError(400, 'missing_text', 'give exactly one of "text" (a string) or "texts" (an array of strings)');
  if (b.pair !== undefined && b.text === undefined) throw new ApiError(400, 'invalid_request', '"pair" goes with "text"; with "texts" give "pairs"');
  if (b.pairs !== undefined && b.texts === undefined) throw new ApiError(400, 'invalid_request', '"pairs" goes with "texts"; with "text" give "pair"');
  const texts = b.texts ?? [b.text!];
  const seconds = b.pairs ?? (b.pair !== undefined ? [b.pair] : undefined);
  if (seconds && seconds.length !== texts.length) throw new ApiError(400, 'invalid_request', `"pairs" has ${seconds.length} entries but "texts" has ${texts.length}`);
  const all = entry.info.tasks;
  const names = b.tasks ?? all.map((t) => t.name);
  const tasks = names.map((n) => all.find((t) => t.name === n) ?? unknownTask(entry, n));
  if (seconds && !tasks.some((t) => t.kind === 'pair')) throw new ApiError(400, 'invalid_request', `"pair"/"pairs" are for pair tasks; model '${entry.name}' task${tasks.length > 1 ? 's' : ''} ${names.join(', ')} take${tasks.length > 1 ? '' : 's'} single texts`);
  const ks = tasks.map((t) => {
    const k = b.top_k ?? t.defaultTopK;
    if (k > t.maxTopK) throw new ApiError(400, 'top_k_too_large', `top_k ${k} is more than task '${t.name}' offers (${t.maxTopK})`);
    return k;
  });
  const inputs: Input[] = seconds ? texts.map((t, i) => [t, seconds[i]!] as const) : texts;
  let answer;
  try {
    answer = await ctx.batcher.submit(entry.name, inputs, names, {
      onCancel: (f) => reply.raw.once('close', () => !reply.raw.writableFinished && f()),
    });
  } catch (e) {
    if (e instanceof QueueFull) throw new ApiError(429, 'queue_full', e.message, { 'retry-after': String(e.retryAfterSeconds) });
    throw e;
  }
  const t = answer.timing;
  void reply.header('server-timing', `queue;dur=${ms3(t.queue)}, worker;dur=${ms3(t.worker)}, model;dur=${ms3(t.model)}`);
  return {
    model: entry.name,
    version: Number(answer.key.slice(answer.key.lastIndexOf('@') + 1)),
    results: answer.results.map((r) => Object.fromEntries(names.map((n, j) => [n, topK(r[n]!, ks[j]!)]))),
  };
}

/** Milliseconds with three decimals, as Server-Timing durations. */
function ms3(x: number): string {
  return (Math.round(x * 1000) / 1000).toString();
}

function unknownTask(entry: ServedEntry, name: string): never {
  throw new ApiError(400, 'unknown_task', `model '${entry.name}' has no task '${name}' (its tasks: ${entry.info.tasks.map((t) => t.name).join(', ')})`);
}

function entryOf(ctx: ServerContext, name: string): ServedEntry {
  const e = ctx.registry.get(name);
  if (!e) {
    const known = ctx.registry.list().map((x) => x.name);
    throw new ApiError(404, 'unknown_model', `no model named '${name}' (serving: ${known.join(', ') || 'none yet'})`);
  }
  return e;
}

async function reload(ctx: ServerContext, name?: string, dir?: string): Promise<ServedEntry[]> {
  try {
    return await ctx.reload(name, dir);
  } catch (e) {
    if ((e as { userFacing?: boolean }).userFacing) throw new ApiError(422, 'reload_failed', (e as Error).message);
    throw e;
  }
}

function countRejected(ctx: ServerContext, req: FastifyRequest, e: ApiError): void {
  if (!req.routeOptions.url?.endsWith('/predict')) return;
  const name = (req.params as { name?: string }).name ?? '';
  const model = ctx.registry.get(name) ? name : 'unknown';
  const reason = e.status === 429 ? 'queue_full' : e.status === 413 ? 'limit' : e.status < 500 ? 'invalid' : 'error';
  ctx.metrics.rejected.inc({ model, reason });
}

function describe(e: ServedEntry) {
  return {
    name: e.name,
    kind: e.info.kind,
    version: e.version,
    loaded_at: e.loadedAt,
    created: e.info.created,
    bytes: e.info.bytes,
    tasks: e.info.tasks.map((t) => ({
      name: t.name,
      kind: t.kind,
      ...(t.labels ? { labels: t.labels } : {}),
      ...(t.replies !== undefined ? { replies: t.replies } : {}),
      default_top_k: t.defaultTopK,
      max_top_k: t.maxTopK,
    })),
  };
}
