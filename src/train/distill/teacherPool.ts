/**
 * A pool of worker threads, each holding a copy of a teacher loaded from its folder, labelling one
 * batch at a time with single-threaded kernels: the other way (besides BLAS threads inside one
 * forward pass) to keep both cores busy while labelling. Small transformer teachers do many small
 * matrix products per text, which BLAS threads split poorly; whole batches per core split well.
 */
import type { Worker } from 'node:worker_threads';
import { getBackend } from '../../engine/index.js';
import { SlimtextError } from '../../errors.js';
import { startModuleWorker } from '../../text/workerThreads.js';
import type { TeacherRunner } from './teacherLabels.js';
import type { Quantize } from '../../models/bert/fastForward.js';

interface Pending {
  resolve: (l: Float32Array) => void;
  reject: (e: Error) => void;
}

/** Starts `workers` threads, each loading the teacher in `dir`; resolves once all are ready. */
export async function teacherPool(dir: string, workers: number, opts: { task?: string; quantize?: Quantize } = {}): Promise<TeacherRunner> {
  // The workers set kernels to one thread; the native addon's count is process-wide, so put it back on close.
  const kernelThreads = getBackend().threads();
  const threads: Worker[] = [];
  const pending = new Map<number, Pending>();
  const busy = new Map<Worker, number>();
  let nextId = 0;
  let failure: Error | undefined;
  const fail = (e: Error) => {
    failure ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  const ready = await Promise.all(
    Array.from({ length: workers }, () => {
      const w = startModuleWorker(import.meta.url, 'teacherWorker', { dir, task: opts.task, quantize: opts.quantize ?? 'none' });
      threads.push(w);
      busy.set(w, 0);
      return new Promise<{ labels: string[]; info: Record<string, unknown> }>((resolve, reject) => {
        w.on('message', (m: { type: string; id?: number; labels?: string[]; info?: Record<string, unknown>; logits?: Float32Array; message?: string; userFacing?: boolean }) => {
          if (m.type === 'ready') resolve({ labels: m.labels!, info: m.info! });
          else if (m.type === 'logits') {
            const p = pending.get(m.id!);
            pending.delete(m.id!);
            busy.set(w, busy.get(w)! - 1);
            p?.resolve(m.logits!);
          } else if (m.type === 'error') {
            const e = m.userFacing ? new SlimtextError(m.message!) : new Error(`teacher worker: ${m.message}`);
            if (m.id === undefined) reject(e);
            else {
              const p = pending.get(m.id);
              pending.delete(m.id);
              p?.reject(e);
            }
          }
        });
        w.on('error', (e) => {
          reject(e);
          fail(e);
        });
        w.on('exit', (code) => {
          if (code !== 0) fail(new Error(`teacher worker exited with code ${code}`));
        });
      });
    }),
  ).catch(async (e: Error) => {
    await Promise.all(threads.map((t) => t.terminate()));
    getBackend().setThreads(kernelThreads);
    throw e;
  });
  const { labels, info } = ready[0]!;
  return {
    labels,
    info,
    concurrency: workers,
    run(texts) {
      if (failure) return Promise.reject(failure);
      // The least busy worker takes the batch (results come back by id, so order is kept by the caller).
      const w = threads.reduce((a, b) => (busy.get(b)! < busy.get(a)! ? b : a));
      const id = nextId++;
      busy.set(w, busy.get(w)! + 1);
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ id, texts });
      });
    },
    async close() {
      await Promise.all(threads.map((t) => t.terminate()));
      getBackend().setThreads(kernelThreads);
    },
  };
}
