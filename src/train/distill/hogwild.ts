/**
 * Hogwild training of a DAN student on worker threads (Recht et al. 2011; fastText trains the same
 * way): every worker holds a DanModel over the same SharedArrayBuffers (parameters, Adam moments, a
 * step clock) and runs its share of an epoch's batches, updating the shared values without locks.
 * A sparse step touches a few thousand of the table's rows, so two workers rarely write the same
 * row at once; when they do, one update may partly overwrite the other, which SGD-style training
 * tolerates. The dense layers are shared the same way. The training sets are copied once into
 * shared memory and read by all.
 *
 * The coordinator (this thread) shuffles each epoch, deals the batches out round-robin, sums the
 * workers' progress, and evaluates between epochs over the same shared parameters.
 */
import type { Worker } from 'node:worker_threads';
import { getBackend } from '../../engine/index.js';
import type { DanModel } from '../../models/dan.js';
import { startModuleWorker } from '../../text/workerThreads.js';
import type { AdamState } from './optim.js';
import type { DistillRecipe, DistillSets, PhaseSpec } from './sparseDistill.js';

export interface Hogwild {
  workers: Worker[];
  batchSize: number;
  close(): Promise<void>;
}

export interface HogwildInit {
  config: DanModel['config'];
  params: Record<string, Float32Array>;
  state: ReturnType<AdamState['toMessage']>;
  sets: DistillSets;
  recipe: DistillRecipe;
  index: number;
}

type FromWorker = { type: 'ready' } | { type: 'progress'; steps: number; lossSum: number } | { type: 'done'; steps: number; lossSum: number } | { type: 'error'; message: string; stack?: string };

export async function startHogwild(model: DanModel, state: AdamState, sets: DistillSets, recipe: DistillRecipe): Promise<Hogwild> {
  // The workers set kernels to one thread; the native addon's count is process-wide, so put it back on close.
  const kernelThreads = getBackend().threads();
  const params = Object.fromEntries(model.namedParameters().map(([name, p]) => [name, p.data]));
  const shared = shareSets(sets);
  const workers = Array.from({ length: recipe.workers }, (_, index) =>
    startModuleWorker(import.meta.url, 'hogwildWorker', { config: model.config, params, state: state.toMessage(), sets: shared, recipe, index } satisfies HogwildInit),
  );
  const close = async () => {
    await Promise.all(workers.map((w) => w.terminate()));
    getBackend().setThreads(kernelThreads);
  };
  try {
    await Promise.all(workers.map((w) => once(w, (m) => m.type === 'ready')));
  } catch (e) {
    await close();
    throw e;
  }
  return { workers, batchSize: recipe.batchSize, close };
}

/** One epoch over `order` (shuffled rows), batches dealt round-robin to the workers. */
export async function runHogwildEpoch(h: Hogwild, spec: PhaseSpec, epoch: number, order: Int32Array, report: (steps: number, lossSum: number) => void): Promise<{ steps: number; lossSum: number }> {
  const W = h.workers.length;
  const B = h.batchSize;
  const nb = Math.ceil(order.length / B);
  const progress = h.workers.map(() => ({ steps: 0, lossSum: 0 }));
  const sum = () => progress.reduce((a, p) => ({ steps: a.steps + p.steps, lossSum: a.lossSum + p.lossSum }), { steps: 0, lossSum: 0 });
  await Promise.all(
    h.workers.map((w, k) => {
      const mine: number[] = [];
      for (let b = k; b < nb; b += W) for (let i = b * B; i < Math.min(order.length, (b + 1) * B); i++) mine.push(order[i]!);
      const rows = Int32Array.from(mine);
      const done = once(w, (m) => {
        if (m.type === 'progress' || m.type === 'done') {
          progress[k] = { steps: m.steps, lossSum: m.lossSum };
          const s = sum();
          report(s.steps, s.lossSum);
        }
        return m.type === 'done';
      });
      w.postMessage({ type: 'epoch', spec, epoch, rows }, [rows.buffer]);
      return done;
    }),
  );
  return sum();
}

/** Resolves when `until` accepts a message from the worker; rejects on a worker error or exit. */
function once(w: Worker, until: (m: FromWorker) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.type === 'error') {
        cleanup();
        const e = new Error(`training worker: ${m.message}`);
        if (m.stack) e.stack = m.stack;
        reject(e);
      } else if (until(m)) {
        cleanup();
        resolve();
      }
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`training worker exited with code ${code}`));
    };
    const cleanup = () => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
  });
}

/** The sets with every array copied into shared memory (once; workers read them in place). */
function shareSets(s: DistillSets): DistillSets {
  const bags = (b: { ids: Int32Array; offsets: Int32Array }) => ({ ids: share(b.ids), offsets: share(b.offsets) });
  return {
    ...(s.transfer ? { transfer: { bags: bags(s.transfer.bags), logits: share(s.transfer.logits) } } : {}),
    ...(s.labelled ? { labelled: { bags: bags(s.labelled.bags), labels: share(s.labelled.labels) } } : {}),
  };
}

function share<T extends Int32Array | Float32Array>(x: T): T {
  if (x.buffer instanceof SharedArrayBuffer) return x;
  const y = (x instanceof Int32Array ? new Int32Array(new SharedArrayBuffer(x.byteLength)) : new Float32Array(new SharedArrayBuffer(x.byteLength))) as T;
  y.set(x);
  return y;
}
