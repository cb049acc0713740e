/**
 * `slimtext serve --model NAME=DIR [...]`: the HTTP server (src/serve/) over any slimtext model.
 * SIGTERM / SIGINT drain and stop (a second one stops at once); SIGHUP reloads every model.
 * Argument parsing only.
 */
import { basename, resolve } from 'node:path';
import { type Command, UsageError, flag, num, str } from './command.js';
import { defaultServeOptions, startServer, type ModelSpec } from '../serve/index.js';

const NAME = 'serve';
const D = defaultServeOptions();

export const command: Command = {
  name: NAME,
  summary:
    'Serve models over HTTP: POST /v1/models/NAME/predict with {"text": ...} or {"texts": [...]} (and "tasks", "top_k"), GET /v1/models, ' +
    '/healthz, /readyz, /metrics (Prometheus), /openapi.json. Requests are micro-batched onto worker threads; SIGTERM drains, SIGHUP reloads.',
  usage: '--model NAME=DIR [--model NAME=DIR ...] [--host 127.0.0.1] [--port 8080] [options]',
  options: {
    model: { type: 'string', multiple: true, help: 'a model to serve as NAME=DIR (or DIR, named after its folder); repeat for more' },
    host: { type: 'string', default: D.host, help: 'address to listen on (0.0.0.0 for every interface)' },
    port: { type: 'string', default: String(D.port), help: 'port (0: any free port; --json says which)' },
    'admin-host': { type: 'string', default: D.adminHost, help: 'address of the admin API (POST /admin/reload, /admin/models/NAME/reload)' },
    'admin-port': { type: 'string', default: String(D.adminPort), help: "admin API port ('off': no admin API)" },
    workers: { type: 'string', default: String(D.workers), help: 'model worker threads, each running one batch at a time on one core; 0: answer on the main thread (no thread hop, but the event loop blocks for each batch: only for models that answer in about a millisecond or less)' },
    'share-weights': { type: 'string', default: 'on', help: "'on': the workers hold one copy of each model's weights between them; 'off': one copy each" },
    'max-batch': { type: 'string', default: String(D.maxBatch), help: 'most texts a worker runs in one batch' },
    'max-wait-ms': { type: 'string', default: String(D.maxWaitMs), help: 'longest a text waits for a fuller batch when a worker is free (0: none)' },
    'max-queue': { type: 'string', default: String(D.maxQueue), help: 'most texts waiting for a worker; past it requests get 429 with Retry-After' },
    'max-texts': { type: 'string', default: String(D.limits.maxTexts), help: 'texts per request (more: 413)' },
    'max-chars': { type: 'string', default: String(D.limits.maxChars), help: 'characters per text (more: 413)' },
    'max-body-bytes': { type: 'string', default: String(D.limits.maxBodyBytes), help: 'bytes per request body (more: 413)' },
    'max-top-k': { type: 'string', default: String(D.limits.maxTopK), help: 'largest top_k a request may ask for' },
    'drain-timeout': { type: 'string', default: String(D.drainTimeoutMs / 1000), help: 'seconds a SIGTERM drain may take before the server stops anyway' },
    log: { type: 'boolean', help: 'log every request (JSON lines on stdout)' },
    json: { type: 'boolean', help: 'print one JSON line when listening: {"url", "admin_url", "models"}' },
  },
  async run(args) {
    const specs = modelSpecs(args.values.model);
    const int = (name: string) => {
      const v = num(args, NAME, name);
      if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new UsageError(`${NAME}: --${name} must be a whole number, got ${v}`);
      return v;
    };
    const adminPort = str(args, 'admin-port') === 'off' ? null : int('admin-port');
    const waitMs = num(args, NAME, 'max-wait-ms');
    const drain = num(args, NAME, 'drain-timeout');
    const server = await startServer({
      models: specs,
      host: str(args, 'host'),
      port: int('port'),
      adminHost: str(args, 'admin-host'),
      adminPort,
      workers: int('workers'),
      shareWeights: onOff(str(args, 'share-weights')),
      maxBatch: int('max-batch'),
      maxWaitMs: waitMs,
      maxQueue: int('max-queue'),
      limits: { maxTexts: int('max-texts'), maxChars: int('max-chars'), maxBodyBytes: int('max-body-bytes'), maxTopK: int('max-top-k') },
      drainTimeoutMs: drain === undefined ? undefined : drain * 1000,
      log: flag(args, 'log'),
    });
    const names = server.registry.list().map((e) => `${e.name} (${e.info.kind}, ${e.info.tasks.map((t) => t.name).join('+')})`);
    console.error(`slimtext serve: listening on ${server.url}${server.adminUrl ? `, admin on ${server.adminUrl}` : ''}; models: ${names.join(', ')}`);
    if (flag(args, 'json')) console.log(JSON.stringify({ url: server.url, admin_url: server.adminUrl ?? null, models: server.registry.list().map((e) => e.name) }));

    return new Promise<number>((done) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) process.exit(130);
        stopping = true;
        console.error(`slimtext serve: ${signal}: draining (no new requests; answering the ones accepted)`);
        void server.close().then(({ drained }) => {
          process.off('SIGHUP', hup);
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          console.error(drained ? 'slimtext serve: drained, stopped' : 'slimtext serve: drain timed out; stopped with requests unanswered');
          done(drained ? 0 : 1);
        });
      };
      const hup = () => {
        console.error('slimtext serve: SIGHUP: reloading every model');
        server.reload().then(
          (es) => console.error(`slimtext serve: reloaded ${es.map((e) => `${e.name} (version ${e.version})`).join(', ')}`),
          (e: Error) => console.error(`slimtext serve: ${e.message}`),
        );
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
      process.on('SIGHUP', hup);
    });
  },
};

/** NAME=DIR or DIR (named after the folder). */
function modelSpecs(v: unknown): ModelSpec[] {
  const list = Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
  if (list.length === 0) throw new UsageError(`${NAME}: --model NAME=DIR is required (see slimtext ${NAME} --help)`);
  return list.map((s) => {
    const eq = s.indexOf('=');
    if (eq > 0) return { name: s.slice(0, eq), dir: s.slice(eq + 1) };
    return { name: basename(resolve(s)), dir: s };
  });
}

function onOff(v: string | undefined): boolean | undefined {
  if (v === undefined || v === 'on') return v === undefined ? undefined : true;
  if (v === 'off') return false;
  throw new UsageError(`${NAME}: --share-weights must be 'on' or 'off', got '${v}'`);
}
