/**
 * A model worker thread: holds the served models (every version the main thread has not dropped
 * yet) and answers one batch at a time with single-threaded kernels; the server's parallelism is
 * one batch per worker, and its main thread never computes.
 */
import { parentPort } from 'node:worker_threads';
import { getBackend, withSharedWeights } from '../engine/index.js';
import type { FromWorker, ModelKey, ToWorker } from './protocol.js';
import { loadServedModel, warmUp, type ServedModel } from './servedModel.js';

const port = parentPort;
if (!port) throw new Error('serve/worker runs as a worker thread');
getBackend().setThreads(1);
const models = new Map<ModelKey, ServedModel>();
const send = (m: FromWorker) => port.postMessage(m);
const failed = (id: number, e: unknown): FromWorker => ({
  type: 'failed',
  id,
  message: e instanceof Error ? e.message : String(e),
  userFacing: (e as { userFacing?: boolean } | undefined)?.userFacing === true,
});

// Messages run strictly in order (a load finishes before the next batch starts), so the main
// thread can count on a batch sent after a 'loaded' reply finding its model here.
let chain: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
  chain = chain.then(() => handle(m));
});

async function handle(m: ToWorker): Promise<void> {
  if (m.type === 'drop') {
    models.delete(m.key);
  } else if (m.type === 'load') {
    try {
      const load = async () => {
        const model = await loadServedModel(m.dir, { maxTopK: m.maxTopK });
        warmUp(model);
        return model;
      };
      if (!m.share) {
        const model = await load();
        models.set(m.key, model);
        send({ type: 'loaded', id: m.id, info: model.info });
      } else {
        // The first worker to load a version makes its weights shared and sends them back; the
        // others take those (engine/sharedWeights.ts): one copy of the weights per process.
        const { value: model, weights, stats } = await withSharedWeights(m.from, load);
        models.set(m.key, model);
        send({ type: 'loaded', id: m.id, info: model.info, stats, ...(m.from ? {} : { weights }) });
      }
    } catch (e) {
      send(failed(m.id, e));
    }
  } else {
    try {
      const model = models.get(m.key);
      if (!model) throw new Error(`model ${m.key} is not loaded in this worker`);
      const t0 = performance.now();
      const results = model.predict(m.inputs, m.tasks);
      send({ type: 'done', id: m.id, results, ms: performance.now() - t0 });
    } catch (e) {
      send(failed(m.id, e));
    }
  }
}
