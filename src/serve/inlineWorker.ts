/**
 * `--workers 0`: a stand-in for a model worker thread that runs the same handler (workerHandler.ts)
 * on the main thread, so the pool, batcher, reload and drain drive it exactly as a thread, minus the
 * two thread hand-offs per batch (0.1-0.4 ms on a loaded machine: most of the server's cost around
 * a sub-millisecond model). The price: the event loop is blocked while a batch runs, so it is only
 * for models that answer in about a millisecond or less.
 *
 * Messages are delivered asynchronously both ways (setImmediate), as a thread's would be: the pool
 * may rely on a reply never arriving inside its own postMessage call. They are not copied; the
 * handler reads the inputs and the pool only passes the results on.
 */
import { EventEmitter } from 'node:events';
import type { FromWorker, ToWorker } from './protocol.js';
import { createWorkerHandler } from './workerHandler.js';

export class InlineWorker extends EventEmitter {
  private stopped = false;
  private readonly handle = createWorkerHandler((m: FromWorker) => {
    if (!this.stopped) setImmediate(() => !this.stopped && this.emit('message', m));
  });

  postMessage(m: ToWorker): void {
    if (!this.stopped) setImmediate(() => !this.stopped && this.handle(m));
  }

  /** Like Worker.terminate: no more messages either way, then 'exit' (code 1), then it resolves. */
  terminate(): Promise<number> {
    if (this.stopped) return Promise.resolve(1);
    this.stopped = true;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.emit('exit', 1);
        resolve(1);
      }),
    );
  }
}
