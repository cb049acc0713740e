/**
 * What a model worker does with the main thread's messages, apart from how they travel: the
 * worker thread (worker.ts) wires it to its parentPort, and the inline worker (inlineWorker.ts,
 * `--workers 0`) to an in-process stand-in, so both answer exactly alike. It holds the served models
 * (every version the main thread has not dropped yet) and answers one message at a time with
 * single-threaded kernels.
 */
import { getBackend, withSharedWeights } from '../engine/index.js';
import type { FromWorker, ModelKey, ToWorker } from './protocol.js';
import { loadServedModel, warmUp, type ServedModel } from './servedModel.js';

/** A handler for one worker's messages; `send` carries its replies back to the pool. */
export function createWorkerHandler(send: (m: FromWorker) => void): (m: ToWorker) => void {
  getBackend().setThreads(1);
  const models = new Map<ModelKey, ServedModel>();
  // Messages run strictly in order (a load finishes before the next batch starts), so the main
  // thread can count on a batch sent after a 'loaded' reply finding its model here.
  let chain: Promise<void> = Promise.resolve();
  return (m) => {
    chain = chain.then(() => handle(models, send, m));
  };
}

const failed = (id: number, e: unknown): FromWorker => ({
  type: 'failed',
  id,
  message: e instanceof Error ? e.message : String(e),
  userFacing: (e as { userFacing?: boolean } | undefined)?.userFacing === true,
});

async function handle(models: Map<ModelKey, ServedModel>, send: (m: FromWorker) => void, m: ToWorker): Promise<void> {
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
