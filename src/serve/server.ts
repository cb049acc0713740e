/**
 * A running server: worker pool, model registry, batcher, and the public and admin HTTP listeners,
 * with the life cycle around them: listen first (readyz says 'loading'), load every model into every
 * worker, serve; reload without dropping requests; close = drain: stop accepting, answer
 * everything already accepted (queued texts go to the workers at once), then stop the workers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { SlimtextError } from '../errors.js';
import { adminApp, publicApp, type ServerContext, type ServerState } from './app.js';
import { Batcher } from './batcher.js';
import { ServerMetrics } from './metrics.js';
import { defaultServeOptions, type ModelSpec, type ServeOptions } from './options.js';
import { ModelRegistry, type ServedEntry } from './registry.js';
import { WorkerPool } from './workerPool.js';

export interface RunningServer {
  /** http://HOST:PORT of the public API. */
  url: string;
  port: number;
  /** http://HOST:PORT of the admin API, when it listens. */
  adminUrl: string | undefined;
  registry: ModelRegistry;
  metrics: ServerMetrics;
  /** Reloads one model (from `dir` when given) or every model; resolves with the new entries. */
  reload(name?: string, dir?: string): Promise<ServedEntry[]>;
  /** Graceful stop; `drained` is false when the drain timeout cut it short. Safe to call twice. */
  close(): Promise<{ drained: boolean }>;
}

export type StartOptions = Partial<Omit<ServeOptions, 'limits'>> & { models: ModelSpec[]; limits?: Partial<ServeOptions['limits']> };

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const d = defaultServeOptions();
  const o: ServeOptions = { ...d, ...definedOnly(options), models: options.models, limits: { ...d.limits, ...definedOnly(options.limits ?? {}) } };
  checkOptions(o);
  const metrics = new ServerMetrics();
  let state: ServerState = 'loading';
  let batcher: Batcher | undefined;
  const pool = WorkerPool.start(o.workers, {
    onIdle: () => batcher?.pump(),
    onWorkerLost: (i, why) => process.stderr.write(`slimtext serve: ${why}; starting a new worker ${i}\n`),
  }, { shareWeights: o.shareWeights });
  const registry = new ModelRegistry(pool, o.limits.maxTopK);
  batcher = new Batcher(pool, registry, { maxBatch: o.maxBatch, maxWaitMs: o.maxWaitMs, maxQueue: o.maxQueue }, metrics);

  const reload = async (name?: string, dir?: string): Promise<ServedEntry[]> => {
    const names = name ? [name] : registry.list().map((e) => e.name);
    const out: ServedEntry[] = [];
    for (const n of names) {
      try {
        const e = await registry.reload(n, name ? dir : undefined);
        metrics.reloads.inc({ model: n, result: 'ok' });
        metrics.modelVersion.set({ model: n }, e.version);
        out.push(e);
      } catch (e) {
        metrics.reloads.inc({ model: registry.get(n) ? n : 'unknown', result: 'failed' });
        throw e;
      }
    }
    return out;
  };

  const ctx: ServerContext = { registry, batcher, pool, metrics, limits: o.limits, state: () => state, reload, log: o.log, version: packageVersion() };
  const apps: FastifyInstance[] = [];
  const stopAll = async () => {
    await Promise.all(apps.map((a) => a.close()));
    await pool.close();
  };
  let url: string;
  let port: number;
  let adminUrl: string | undefined;
  try {
    const api = await publicApp(ctx);
    apps.push(api);
    await api.listen({ host: o.host, port: o.port });
    port = (api.server.address() as { port: number }).port;
    url = `http://${hostForUrl(o.host)}:${port}`;
    if (o.adminPort !== null) {
      const admin = adminApp(ctx);
      apps.push(admin);
      await admin.listen({ host: o.adminHost, port: o.adminPort });
      adminUrl = `http://${hostForUrl(o.adminHost)}:${(admin.server.address() as { port: number }).port}`;
    }
    await registry.loadAll(o.models);
    for (const e of registry.list()) metrics.modelVersion.set({ model: e.name }, e.version);
  } catch (e) {
    await stopAll();
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new SlimtextError(`cannot listen: ${(e as Error).message}`);
    throw e;
  }
  state = 'ready';

  let closing: Promise<{ drained: boolean }> | undefined;
  const close = () => {
    closing ??= (async () => {
      state = 'draining';
      const drained = batcher.drain();
      // fastify.close() stops accepting, answers 503 on kept-alive connections, and waits for the
      // requests in progress (whose texts the batcher now sends to the workers without waiting).
      const done = Promise.all([Promise.all(apps.map((a) => a.close())), drained]).then(() => true);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((res) => {
        timer = setTimeout(() => res(false), o.drainTimeoutMs);
      });
      const ok = await Promise.race([done, timeout]);
      clearTimeout(timer);
      if (!ok) for (const a of apps) a.server.closeAllConnections();
      await pool.close();
      return { drained: ok };
    })();
    return closing;
  };

  return { url, port, adminUrl, registry, metrics, reload, close };
}

function checkOptions(o: ServeOptions): void {
  const whole = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new SlimtextError(`serve: ${name} must be a whole number >= ${min}, got ${v}`);
  };
  if (o.models.length === 0) throw new SlimtextError('serve: no model to serve');
  const names = new Set<string>();
  for (const m of o.models) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(m.name)) throw new SlimtextError(`serve: model name '${m.name}' must be letters, digits, '.', '_' or '-' (it goes in URLs)`);
    if (names.has(m.name)) throw new SlimtextError(`serve: two models named '${m.name}'`);
    names.add(m.name);
  }
  whole(o.workers, 'workers', 0);
  whole(o.maxBatch, 'max-batch', 1);
  whole(o.maxQueue, 'max-queue', 1);
  whole(o.port, 'port', 0);
  if (o.adminPort !== null) whole(o.adminPort, 'admin-port', 0);
  if (!(o.maxWaitMs >= 0)) throw new SlimtextError(`serve: max-wait-ms must be >= 0, got ${o.maxWaitMs}`);
  whole(o.limits.maxTexts, 'max-texts', 1);
  whole(o.limits.maxChars, 'max-chars', 1);
  whole(o.limits.maxBodyBytes, 'max-body-bytes', 64);
  whole(o.limits.maxTopK, 'max-top-k', 1);
  if (o.maxQueue < o.limits.maxTexts) throw new SlimtextError(`serve: max-queue (${o.maxQueue}) must be at least max-texts (${o.limits.maxTexts}), or a full-size request could never be accepted`);
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function packageVersion(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(d, 'package.json');
    if (existsSync(p)) return String((JSON.parse(readFileSync(p, 'utf8')) as { version?: string }).version ?? '0');
    const up = dirname(d);
    if (up === d) return '0';
    d = up;
  }
}
