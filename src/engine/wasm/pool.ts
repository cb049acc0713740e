/**
 * How the wasm backend hands kernel calls to other threads. Browser-safe (no node: imports):
 * the Node implementation lives in nodeThreads.ts; elsewhere `singleThread` runs everything on
 * the calling thread.
 */

/** Kernels a worker may run, by index (the worker and the main thread share this list). */
export const PARALLEL_KERNELS = ['gemm', 'unary', 'unaryBackward', 'adam', 'q8Gemm', 'attentionPacked', 'biasGelu'] as const;
export type ParallelKernel = (typeof PARALLEL_KERNELS)[number];

/** One call of a wasm export with plain-number arguments (pointers, sizes, scalars). */
export interface Job {
  fn: ParallelKernel;
  args: number[];
}

export interface ThreadPool {
  /** Worker threads able to take a job right now (a worker still starting up does not count). */
  readyWorkers(): number;
  /** Starts helper threads until there are at least `workers` (in the background; never blocks). */
  ensureWorkers(workers: number): void;
  /**
   * Runs jobs[0] with `local` on the calling thread and jobs[1..] on ready workers, and returns
   * when all are done (the caller ensures jobs.length - 1 <= readyWorkers()).
   */
  run(jobs: Job[], local: (job: Job) => void): void;
}

/** The pool used where there are no worker threads (browsers, or threads(1)). */
export const singleThread: ThreadPool = {
  readyWorkers: () => 0,
  ensureWorkers: () => {},
  run(jobs, local) {
    for (const j of jobs) local(j);
  },
};
