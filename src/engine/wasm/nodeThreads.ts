/**
 * Node-only: helper threads for the wasm backend. Each worker instantiates the same module on the
 * same shared WebAssembly.Memory, so a job is just a kernel index and its numeric arguments; the
 * calling thread blocks in Atomics.wait until the workers finish, keeping the Backend synchronous.
 * Workers are unref'd (they never keep the process alive) and are only used once they report
 * ready, so nothing ever waits for a worker to boot. Workers are never stopped: fewer threads just
 * leaves some idle in Atomics.wait, ready for when more are asked for again.
 */
import { Worker } from 'node:worker_threads';
import { PARALLEL_KERNELS, type Job, type ThreadPool } from './pool.js';
import { workerSource } from './workerSource.js';

// Int32 slots of each worker's control block, then a Float64 argument area.
const SLOTS = { READY: 0, JOB: 1, DONE: 2, FN: 3, NARGS: 4, ERR: 5 } as const;
const ARGS_OFFSET = 64;
const MAX_ARGS = 32;

interface Slot {
  worker: Worker;
  ctl: Int32Array;
  args: Float64Array;
  seq: number;
  dead: boolean;
}

export class NodePool implements ThreadPool {
  private slots: Slot[] = [];
  private cannotSpawn = false;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
  ) {}

  readyWorkers(): number {
    let n = 0;
    while (n < this.slots.length && !this.slots[n].dead && Atomics.load(this.slots[n].ctl, SLOTS.READY) === 1) n++;
    return n;
  }

  ensureWorkers(workers: number): void {
    while (this.slots.length < workers && !this.cannotSpawn) {
      try {
        this.slots.push(this.spawn());
      } catch {
        this.cannotSpawn = true; // no threads here (a sandbox without workers): run single-threaded
      }
    }
  }

  run(jobs: Job[], local: (job: Job) => void): void {
    const used = this.slots.slice(0, jobs.length - 1);
    if (used.length < jobs.length - 1) throw new Error(`wasm thread pool: ${jobs.length - 1} jobs for ${used.length} workers`);
    used.forEach((s, i) => this.post(s, jobs[i + 1]));
    let localError: unknown;
    try {
      local(jobs[0]);
    } catch (e) {
      localError = e;
    }
    let failed = false;
    for (const s of used) {
      // Always wait, even after a local error: workers write into the shared arena.
      for (let d = Atomics.load(s.ctl, SLOTS.DONE); d !== s.seq; d = Atomics.load(s.ctl, SLOTS.DONE)) {
        Atomics.wait(s.ctl, SLOTS.DONE, d);
      }
      if (s.ctl[SLOTS.ERR] !== 0) failed = true;
    }
    if (localError !== undefined) throw localError;
    if (failed) throw new Error(`wasm kernel '${jobs[1].fn}' failed in a worker thread`);
  }

  private post(s: Slot, job: Job): void {
    if (job.args.length > MAX_ARGS) throw new Error(`wasm thread pool: ${job.args.length} arguments (max ${MAX_ARGS})`);
    s.args.set(job.args);
    s.ctl[SLOTS.FN] = PARALLEL_KERNELS.indexOf(job.fn);
    s.ctl[SLOTS.NARGS] = job.args.length;
    s.ctl[SLOTS.ERR] = 0;
    s.seq = (s.seq + 1) & 0x3fffffff || 1;
    Atomics.store(s.ctl, SLOTS.JOB, s.seq);
    Atomics.notify(s.ctl, SLOTS.JOB);
  }

  private spawn(): Slot {
    const control = new SharedArrayBuffer(ARGS_OFFSET + MAX_ARGS * 8);
    const worker = new Worker(workerSource, {
      eval: true,
      // The worker is plain JS: no loader flags (tsx's --import hooks stall eval workers).
      execArgv: [],
      workerData: {
        module: this.module, memory: this.memory, control,
        names: [...PARALLEL_KERNELS], slots: SLOTS, argsOffset: ARGS_OFFSET,
      },
    });
    worker.unref();
    const slot: Slot = { worker, ctl: new Int32Array(control, 0, ARGS_OFFSET / 4), args: new Float64Array(control, ARGS_OFFSET, MAX_ARGS), seq: 0, dead: false };
    const markDead = (): void => { slot.dead = true; };
    worker.on('error', markDead);
    worker.on('exit', markDead);
    return slot;
  }
}
