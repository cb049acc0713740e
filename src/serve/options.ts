/** Everything `slimtext serve` can be told, with all its defaults in one place. */
import { availableParallelism } from 'node:os';

export interface ModelSpec {
  /** The name in URLs (/v1/models/NAME/predict). */
  name: string;
  dir: string;
}

export interface Limits {
  /** Texts per request. */
  maxTexts: number;
  /** Characters (code points) per text. */
  maxChars: number;
  /** Bytes of a request body. */
  maxBodyBytes: number;
  /** Largest top_k a request may ask for (per task, at most the labels or replies there are). */
  maxTopK: number;
}

export interface ServeOptions {
  models: ModelSpec[];
  host: string;
  /** 0: any free port (the server says which). */
  port: number;
  /** The admin listener (reload); loopback unless told otherwise. null port: no admin listener. */
  adminHost: string;
  adminPort: number | null;
  /** Model worker threads (each runs one batch at a time on one core); 0: answer on the main thread. */
  workers: number;
  /** The workers hold one copy of each model's weights between them (false: one copy each). */
  shareWeights: boolean;
  maxBatch: number;
  maxWaitMs: number;
  /** Most texts waiting for a worker before requests are refused with 429. */
  maxQueue: number;
  limits: Limits;
  /** Longest a SIGTERM drain may take before the server stops anyway. */
  drainTimeoutMs: number;
  /** fastify's request log (pino, JSON lines on stdout). */
  log: boolean;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({ maxTexts: 64, maxChars: 10_000, maxBodyBytes: 1 << 20, maxTopK: 10 });

export function defaultServeOptions(): Omit<ServeOptions, 'models'> {
  return {
    host: '127.0.0.1',
    port: 8080,
    adminHost: '127.0.0.1',
    adminPort: 8081,
    workers: Math.max(1, availableParallelism()),
    shareWeights: true,
    maxBatch: 32,
    maxWaitMs: 0,
    maxQueue: 1024,
    limits: { ...DEFAULT_LIMITS },
    drainTimeoutMs: 30_000,
    log: false,
  };
}
