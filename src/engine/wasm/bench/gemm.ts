/**
 * gemm throughput of the wasm backend through the Backend interface (copies in and out included),
 * with 1 and 2 threads. Prints one JSON object.
 *   npx tsx src/engine/wasm/bench/gemm.ts [seconds-per-case]
 */
import { loadWasm, type WasmBackend } from '../index.js';

const seconds = Number(process.argv[2] ?? 1);
const shapes: [number, number, number][] = [[64, 768, 768], [512, 512, 512], [1024, 1024, 1024]];
const be = loadWasm() as WasmBackend;

async function waitForThreads(n: number): Promise<void> {
  be.setThreads(n);
  for (let i = 0; i < 500 && be.usableThreads() < n; i++) await new Promise((r) => setTimeout(r, 10));
  if (be.usableThreads() < n) throw new Error(`only ${be.usableThreads()} threads came up`);
}

function gflops(M: number, N: number, K: number): number {
  const a = new Float32Array(M * K).map(() => Math.random() - 0.5);
  const b = new Float32Array(K * N).map(() => Math.random() - 0.5);
  const c = new Float32Array(M * N);
  const run = (): void => be.gemm(false, false, M, N, K, 1, a, K, 0, b, N, 0, 0, c, N, 0, 1);
  run();
  let reps = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000 || reps < 3) {
    run();
    reps++;
    t = performance.now();
  }
  return (2 * M * N * K * reps) / ((t - t0) / 1000) / 1e9;
}

const results: Record<string, Record<string, number>> = {};
for (const threads of [1, 2]) {
  await waitForThreads(threads);
  for (const [M, N, K] of shapes) {
    const key = `${M}x${N}x${K}`;
    results[key] ??= {};
    results[key][`threads_${threads}`] = Number(gflops(M, N, K).toFixed(1));
  }
}
console.log(JSON.stringify({ backend: 'wasm', unit: 'GFLOP/s', gemm: results }));
