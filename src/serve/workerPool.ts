/**
 * The server's model workers: N threads, each holding every served model, each running one job
 * (a batch, or loading a model) at a time; N = 0 is one inline worker on the main thread
 * (inlineWorker.ts), driven the same way. The batcher asks for an idle worker and hands it a
 * batch; a worker that is loading a model is busy, so a reload that loads worker by worker leaves
 * the others serving. A worker that dies is replaced (its jobs fail; the new one loads every model
 * the pool holds before it takes work).
 */
import { SlimtextError } from '../errors.js';
import { startModuleWorker } from '../text/workerThreads.js';
import type { SharedWeights, SharingStats } from '../engine/index.js';
import { InlineWorker } from './inlineWorker.js';
import type { FromWorker, ModelKey, ToWorker } from './protocol.js';
import type { Input, ModelInfo, TaskResult } from './servedModel.js';

export interface BatchOutput {
  results: Record<string, TaskResult>[];
  /** Time the worker spent in the model. */
  ms: number;
}

/** A model version loaded into a worker. */
export interface Loaded {
  info: ModelInfo;
  /** The shared weights this load made (the first worker's load of a version, when sharing). */
  weights?: SharedWeights;
  stats?: SharingStats;
}

interface Held {
  dir: string;
  maxTopK: number;
  weights?: SharedWeights;
}

interface Job {
  resolve: (v: never) => void;
  reject: (e: Error) => void;
}

/** What the pool needs of a worker: a worker thread, or the inline stand-in (`--workers 0`). */
export interface WorkerThread {
  postMessage(m: ToWorker): void;
  on(event: 'message', f: (m: FromWorker) => void): unknown;
  on(event: 'error', f: (e: Error) => void): unknown;
  on(event: 'exit', f: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

export class ModelWorker {
  /** Jobs sent and not answered (0 = idle). */
  busy = 0;
  /** False until the worker holds every model the pool serves (a replacement loads first). */
  ready = false;
  readonly jobs = new Map<number, Job>();
  constructor(readonly thread: WorkerThread, readonly index: number) {}
}

export interface PoolEvents {
  /** A worker became idle: the batcher may hand it work. */
  onIdle(): void;
  /** A worker died and was replaced (its running jobs failed). */
  onWorkerLost?(index: number, reason: string): void;
}

export class WorkerPool {
  readonly workers: ModelWorker[] = [];
  /** Model versions every worker should hold: key -> folder and top-k bound. */
  private readonly held = new Map<ModelKey, Held>();
  private nextId = 0;
  private closing = false;

  /**
   * shareWeights: workers hold one copy of each model's weights between them (else one each).
   * inline: the one worker runs on the main thread (weights have no one to be shared with).
   */
  private constructor(private readonly events: PoolEvents, readonly shareWeights: boolean, readonly inline: boolean) {}

  /** n worker threads; n = 0: one inline worker on the main thread (no thread hand-off, the event loop blocks for each batch). */
  static start(n: number, events: PoolEvents, opts: { shareWeights?: boolean } = {}): WorkerPool {
    const inline = n === 0;
    const pool = new WorkerPool(events, !inline && (opts.shareWeights ?? true), inline);
    for (let i = 0; i < Math.max(n, 1); i++) {
      const w = pool.spawn(i);
      w.ready = true;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** An idle worker that holds every model, or undefined. */
  idle(): ModelWorker | undefined {
    return this.workers.find((w) => w.ready && w.busy === 0);
  }

  /** Workers running a job. */
  busyCount(): number {
    return this.workers.filter((w) => w.busy > 0).length;
  }

  run(w: ModelWorker, key: ModelKey, inputs: Input[], tasks: string[]): Promise<BatchOutput> {
    return this.send<BatchOutput>(w, (id) => ({ type: 'batch', id, key, inputs, tasks }));
  }

  /**
   * Loads a model version into one worker (the worker is busy meanwhile). `from`: the weights
   * another worker's load of this version shared (Loaded.weights), to use instead of its own.
   */
  load(w: ModelWorker, key: ModelKey, dir: string, maxTopK: number, from?: SharedWeights): Promise<Loaded> {
    return this.send<Loaded>(w, (id) => ({ type: 'load', id, key, dir, maxTopK, share: this.shareWeights, ...(from ? { from } : {}) }));
  }

  /** Records that every worker now holds `key` (so a replacement worker loads it too, sharing `weights`). */
  hold(key: ModelKey, dir: string, maxTopK: number, weights?: SharedWeights): void {
    this.held.set(key, { dir, maxTopK, weights });
  }

  /** Frees a model version in every worker; jobs already sent for it run first (messages keep their order). */
  drop(key: ModelKey): void {
    this.held.delete(key);
    for (const w of this.workers) w.thread.postMessage({ type: 'drop', key } satisfies ToWorker);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.thread.terminate()));
  }

  private send<T>(w: ModelWorker, msg: (id: number) => ToWorker): Promise<T> {
    const id = this.nextId++;
    w.busy++;
    return new Promise<T>((resolve, reject) => {
      w.jobs.set(id, { resolve: resolve as (v: never) => void, reject });
      w.thread.postMessage(msg(id));
    });
  }

  private spawn(index: number): ModelWorker {
    const w = new ModelWorker(this.inline ? new InlineWorker() : startModuleWorker(import.meta.url, 'worker'), index);
    this.workers[index] = w;
    w.thread.on('message', (m: FromWorker) => {
      const job = w.jobs.get(m.id);
      if (!job) return;
      w.jobs.delete(m.id);
      w.busy--;
      if (m.type === 'loaded') job.resolve({ info: m.info, weights: m.weights, stats: m.stats } as never);
      else if (m.type === 'done') job.resolve({ results: m.results, ms: m.ms } as never);
      else job.reject(m.userFacing ? new SlimtextError(m.message) : new Error(m.message));
      if (w.busy === 0 && w.ready) this.events.onIdle();
    });
    let reason = 'exited';
    w.thread.on('error', (e) => {
      reason = e.message;
    });
    w.thread.on('exit', (code) => {
      if (this.closing) return;
      const e = new Error(`model worker ${index} stopped (${reason}, exit code ${code})`);
      for (const j of w.jobs.values()) j.reject(e);
      w.jobs.clear();
      this.events.onWorkerLost?.(index, e.message);
      void this.replace(index);
    });
    return w;
  }

  /** A new worker in slot `index`, ready once it holds every model the pool serves. */
  private async replace(index: number): Promise<void> {
    const w = this.spawn(index);
    for (const [key, { dir, maxTopK, weights }] of this.held) {
      try {
        await this.load(w, key, dir, maxTopK, weights);
      } catch {
        // The folder changed or vanished since it was loaded; the other workers still serve it,
        // and this one stays out of rotation rather than answer for a model it lacks.
        return;
      }
    }
    w.ready = true;
    this.events.onIdle();
  }
}
