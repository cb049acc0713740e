/**
 * A model worker thread: the worker handler (workerHandler.ts) on this thread's port. The server's
 * parallelism is one batch per worker, and its main thread never computes (unless `--workers 0`,
 * inlineWorker.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { FromWorker } from './protocol.js';
import { createWorkerHandler } from './workerHandler.js';

const port = parentPort;
if (!port) throw new Error('serve/worker runs as a worker thread');
port.on('message', createWorkerHandler((m: FromWorker) => port.postMessage(m)));
