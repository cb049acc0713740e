/**
 * A Hogwild training thread (distillHogwild.ts): attaches a DanModel and Adam state to the shared
 * buffers it is given, then runs each epoch's share of batches it is sent, reporting progress.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rng, getBackend } from '../../engine/index.js';
import { DanModel } from '../../models/dan.js';
import { AdamState, SharedAdamW } from './optim.js';
import type { HogwildInit } from './hogwild.js';
import { Cycler, runSteps, type PhaseSpec } from './sparseDistill.js';

const port = parentPort;
if (!port) throw new Error('hogwildWorker runs as a worker thread');
const init = workerData as HogwildInit;
// One thread per worker: the workers are the parallelism.
getBackend().setThreads(1);
const model = new DanModel(init.config, { storage: (name) => init.params[name]!, init: false });
const state = AdamState.fromMessage(init.state);
const { recipe, sets, index } = init;
let opt: SharedAdamW | undefined;
let hard: Cycler | undefined;
let phaseKey = '';

port.on('message', (m: { type: 'epoch'; spec: PhaseSpec; epoch: number; rows: Int32Array }) => {
  try {
    const key = `${m.spec.phase}/${m.spec.total}/${m.spec.peak}`;
    if (key !== phaseKey) {
      phaseKey = key;
      opt = new SharedAdamW(model, state, m.spec, recipe.weightDecay);
      hard = m.spec.phase === 'distill' && recipe.hardWeight > 0 && sets.labelled ? new Cycler(sets.labelled.labels.length, recipe.batchSize, Rng.derive(recipe.seed, `hard/${index}`)) : undefined;
    }
    model.reseedDropout(Rng.derive(recipe.seed, `${m.spec.phase}/${m.epoch}/worker-${index}`).seed());
    const r = runSteps(model, opt!, sets, m.spec.phase, m.rows, recipe, hard, (steps, lossSum) => port.postMessage({ type: 'progress', steps, lossSum }));
    port.postMessage({ type: 'done', ...r });
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message, stack: (e as Error).stack });
  }
});
port.postMessage({ type: 'ready' });
