// Quick sgemm throughput check for the native backend (prints one JSON line per case):
//   npx tsx native/bench/gemm.ts [--shapes 64x768x768,512x512x512,1024x1024x1024] [--threads 1,2]
// Each case runs for about half a second and reports the best of several timed batches.
import { parseArgs } from 'node:util';
import { loadNative, nativeLoadError } from '../../src/engine/native/index.js';

const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: '64x768x768,512x512x512,1024x1024x1024' },
    threads: { type: 'string', default: '1,2' },
    batch: { type: 'string', default: '1' },
  },
});
const be = loadNative();
if (!be) throw new Error(`native backend unavailable: ${nativeLoadError()}`);
const batch = Number(values.batch);

for (const shape of values.shapes!.split(',')) {
  const [M, N, K] = shape.split('x').map(Number);
  const a = Float32Array.from({ length: M * K * batch }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: K * N * batch }, () => Math.random() - 0.5);
  const c = new Float32Array(M * N * batch);
  for (const t of values.threads!.split(',').map(Number)) {
    be.setThreads(t);
    const once = () => be.gemm(false, false, M, N, K, 1, a, K, M * K, b, N, K * N, 0, c, N, M * N, batch);
    once();
    const perRun = (() => { const t0 = performance.now(); once(); return Math.max(performance.now() - t0, 1e-3); })();
    const reps = Math.max(1, Math.round(100 / perRun));
    let best = Infinity;
    for (let round = 0; round < 5; round++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) once();
      best = Math.min(best, (performance.now() - t0) / reps);
    }
    const gflops = (2 * M * N * K * batch) / (best * 1e6);
    console.log(JSON.stringify({ kernel: 'gemm', M, N, K, batch, threads: t, ms: +best.toFixed(3), gflops: +gflops.toFixed(1) }));
  }
}
