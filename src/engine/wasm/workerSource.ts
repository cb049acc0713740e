/**
 * The source of a kernel worker thread, run with `new Worker(src, { eval: true })`.
 * Kept as a string because a .ts worker file cannot be loaded under tsx (loader hooks do not reach
 * worker threads in Node 20) and a string needs no file lookup once bundled or compiled.
 *
 * Protocol over `control` (an Int32Array on a SharedArrayBuffer, layout in nodeThreads.ts):
 * the worker instantiates the module on the shared memory, sets READY, then loops: wait for JOB to
 * change, run kernel PARALLEL_KERNELS[FN] with NARGS doubles from the args area, set ERR on a
 * throw, publish DONE = JOB. It never exits on its own: it is unref'd and ends with the process.
 */
export const workerSource = `
'use strict';
const { workerData } = require('node:worker_threads');
const { module, memory, control, names, slots, argsOffset } = workerData;
const ctl = new Int32Array(control);
const args = new Float64Array(control, argsOffset);
let fns;
try {
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  fns = names.map((n) => inst.exports[n]);
  Atomics.store(ctl, slots.READY, 1);
} catch (e) {
  Atomics.store(ctl, slots.READY, -1);
}
Atomics.notify(ctl, slots.READY);
let seen = 0;
while (fns) {
  Atomics.wait(ctl, slots.JOB, seen);
  const job = Atomics.load(ctl, slots.JOB);
  if (job === seen) continue;
  seen = job;
  try {
    const n = ctl[slots.NARGS];
    fns[ctl[slots.FN]].apply(null, Array.prototype.slice.call(args, 0, n));
  } catch (e) {
    ctl[slots.ERR] = 1;
  }
  Atomics.store(ctl, slots.DONE, job);
  Atomics.notify(ctl, slots.DONE);
}
`;
