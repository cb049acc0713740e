/**
 * Dynamic micro-batching. Each request's texts join its model's queue; an idle worker takes up to
 * `maxBatch` texts of one model at once when that many wait, or when the oldest has waited
 * `maxWaitMs` (0: at once, so an idle server answers a lone request without delay and batches
 * form from what queues while the workers are busy). The queue is bounded in texts: a request
 * that does not fit is refused (QueueFull, with a retry estimate) before anything of it queues.
 * Requests may split across batches; answers come back in request order.
 */
import type { WorkerPool } from './workerPool.js';
import type { Input, TaskResult } from './servedModel.js';

export interface BatchOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** Most texts waiting (not yet in a worker) across all models. */
  maxQueue: number;
}

/** Where the current version of a model is: the batcher asks at dispatch, so a reload takes effect between batches. */
export interface ModelVersions {
  currentKey(model: string): string;
}

export interface BatchObserver {
  /** A batch came back: its size, the worker's model time and each text's wait in the queue. */
  batch(model: string, size: number, modelMs: number, waitsMs: readonly number[]): void;
  queueDepth(texts: number): void;
}

export interface Answer {
  /** One result map per input (the tasks asked for). */
  results: Record<string, TaskResult>[];
  /** The model version (key) that answered (the last batch's, should a reload fall inside a request). */
  key: string;
  /** Where the request's time went, in ms (the server's Server-Timing header). */
  timing: AnswerTiming;
}

/**
 * queue: longest wait of its texts for a worker; worker: from handing its (last) batch to a worker
 * to the answer back on this thread (model + the two thread hops); model: the worker's time in the
 * model, summed over the batches that held its texts.
 */
export interface AnswerTiming {
  queue: number;
  worker: number;
  model: number;
}

/** The queue cannot take the request now. */
export class QueueFull extends Error {
  constructor(readonly retryAfterSeconds: number, readonly queued: number) {
    super(`the server is busy: ${queued} texts are queued; retry in ${retryAfterSeconds} s`);
  }
}

interface Request {
  model: string;
  inputs: readonly Input[];
  tasks: readonly string[];
  results: (Record<string, TaskResult> | undefined)[];
  /** Texts not yet answered / not yet handed to a worker. */
  remaining: number;
  waiting: number;
  cancelled: boolean;
  timing: AnswerTiming;
  resolve(a: Answer): void;
  reject(e: Error): void;
}

interface Item {
  req: Request;
  index: number;
  at: number;
}

export class Batcher {
  private readonly queues = new Map<string, Item[]>();
  private queued = 0;
  private inFlight = 0;
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Recent model time per text (ms), for Retry-After. */
  private msPerText = 1;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly pool: WorkerPool, private readonly versions: ModelVersions, private readonly opts: BatchOptions, private readonly observer?: BatchObserver) {}

  /** Texts waiting for a worker. */
  get depth(): number {
    return this.queued;
  }

  /** Queues a request's texts; resolves with one result map per input (the tasks asked for) and the version that answered. */
  submit(model: string, inputs: readonly Input[], tasks: readonly string[], signal?: { onCancel(f: () => void): void }): Promise<Answer> {
    if (this.queued + inputs.length > this.opts.maxQueue) throw new QueueFull(this.retryAfter(), this.queued);
    return new Promise<Answer>((resolve, reject) => {
      const req: Request = { model, inputs, tasks, results: new Array(inputs.length), remaining: inputs.length, waiting: inputs.length, cancelled: false, timing: { queue: 0, worker: 0, model: 0 }, resolve, reject };
      const q = this.queues.get(model) ?? [];
      this.queues.set(model, q);
      const at = performance.now();
      for (let i = 0; i < inputs.length; i++) q.push({ req, index: i, at });
      this.queued += inputs.length;
      this.observer?.queueDepth(this.queued);
      signal?.onCancel(() => this.cancel(req));
      this.pump();
    });
  }

  /** Hands ready batches to idle workers; arms a timer for the next one that will be ready. */
  pump(): void {
    for (;;) {
      const w = this.pool.idle();
      if (!w) return;
      const now = performance.now();
      let best: [string, Item[]] | undefined;
      let next = Infinity;
      for (const entry of this.queues) {
        const q = entry[1];
        this.skipCancelled(q);
        if (q.length === 0) continue;
        const due = q.length >= this.opts.maxBatch || this.flushing ? -Infinity : q[0]!.at + this.opts.maxWaitMs;
        if (due <= now) {
          if (!best || q[0]!.at < best[1][0]!.at) best = entry;
        } else next = Math.min(next, due);
      }
      if (!best) {
        this.arm(next);
        return;
      }
      this.dispatch(w, best[0], best[1]);
    }
  }

  /**
   * From now on every queued text goes to the next idle worker without waiting for a fuller batch;
   * resolves once nothing is queued or running.
   */
  drain(): Promise<void> {
    this.flushing = true;
    this.pump();
    return this.whenIdle();
  }

  /** Resolves when nothing is queued or in a worker. */
  whenIdle(): Promise<void> {
    if (this.queued === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((res) => this.idleWaiters.push(res));
  }

  private dispatch(w: Parameters<WorkerPool['run']>[0], model: string, q: Item[]): void {
    const items = q.splice(0, this.opts.maxBatch);
    this.queued -= items.length;
    this.observer?.queueDepth(this.queued);
    const tasks = [...new Set(items.flatMap((it) => it.req.tasks))];
    for (const it of items) it.req.waiting--;
    const started = performance.now();
    const waits = items.map((it) => started - it.at);
    this.inFlight++;
    const key = this.versions.currentKey(model);
    this.pool
      .run(w, key, items.map((it) => it.req.inputs[it.index]!), tasks)
      .then(
        ({ results, ms }) => {
          const worker = performance.now() - started;
          this.msPerText = 0.8 * this.msPerText + (0.2 * ms) / items.length;
          this.observer?.batch(model, items.length, ms, waits);
          let last: Request | undefined;
          items.forEach((it, k) => {
            const req = it.req;
            if (req.remaining === 0) return;
            if (req !== last) {
              // Once per request and batch (a request's texts sit next to each other in a batch).
              last = req;
              req.timing.queue = Math.max(req.timing.queue, waits[k]!);
              req.timing.worker = worker;
              req.timing.model += ms;
            }
            const all = results[k]!;
            req.results[it.index] = req.tasks.length === tasks.length ? all : Object.fromEntries(req.tasks.map((t) => [t, all[t]!]));
            if (--req.remaining === 0) req.resolve({ results: req.results as Answer['results'], key, timing: req.timing });
          });
        },
        (e: Error) => {
          for (const it of items) {
            if (it.req.remaining === 0) continue;
            it.req.remaining = 0;
            it.req.reject(e);
          }
        },
      )
      .finally(() => {
        this.inFlight--;
        this.settle();
      });
  }

  private cancel(req: Request): void {
    if (req.cancelled || req.waiting === 0) return;
    req.cancelled = true;
    this.queued -= req.waiting;
    req.waiting = 0;
    this.observer?.queueDepth(this.queued);
    this.settle();
  }

  private skipCancelled(q: Item[]): void {
    let k = 0;
    while (k < q.length && q[k]!.req.cancelled) k++;
    if (k > 0) q.splice(0, k);
    if (q.some((it) => it.req.cancelled)) {
      const keep = q.filter((it) => !it.req.cancelled);
      q.length = 0;
      q.push(...keep);
    }
  }

  private settle(): void {
    if (this.queued === 0 && this.inFlight === 0 && this.idleWaiters.length) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of ws) f();
    }
  }

  private arm(at: number): void {
    if (at === Infinity || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - performance.now()));
  }

  /** Whole seconds until the queue has likely room again (1..60). */
  private retryAfter(): number {
    const s = (this.queued * this.msPerText) / Math.max(1, this.pool.size) / 1000;
    return Math.min(60, Math.max(1, Math.ceil(s)));
  }
}
