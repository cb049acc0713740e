/**
 * gemm throughput of the wasm backend through the Backend interface (copies in and out included),
 * with 1 and 2 threads. Prints one JSON object: GFLOP/s from the best and the median of `reps`
 * timed calls per case (the best is the figure least disturbed by other work on a shared machine).
 *   npx tsx src/engine/wasm/bench/gemm.ts [reps]
 */
import { loadWasm, type WasmBackend } from '../index.js';

const reps = Number(process.argv[2] ?? 10);
const shapes: [number, number, number][] = [[64, 768, 768], [512, 512, 512], [1024, 1024, 1024]];
const be = loadWasm() as WasmBackend;

async function useThreads(n: number): Promise<void> {
  be.setThreads(n);
  for (let i = 0; i < 500 && be.usableThreads() < n; i++) await new Promise((r) => setTimeout(r, 10));
  if (be.usableThreads() < n) throw new Error(`only ${be.usableThreads()} threads came up`);
}

function measure(M: number, N: number, K: number): { best: number; median: number } {
  const a = new Float32Array(M * K).map(() => Math.random() - 0.5);
  const b = new Float32Array(K * N).map(() => Math.random() - 0.5);
  const c = new Float32Array(M * N);
  const run = (): void => be.gemm(false, false, M, N, K, 1, a, K, 0, b, N, 0, 0, c, N, 0, 1);
  run(); // warm-up (tier-up of the wasm code, arena growth)
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  const gf = (ms: number): number => Number(((2 * M * N * K) / ms / 1e6).toFixed(1));
  return { best: gf(times[0]), median: gf(times[Math.floor(times.length / 2)]) };
}

const results: Record<string, Record<string, { best: number; median: number }>> = {};
for (const threads of [1, 2]) {
  await useThreads(threads);
  for (const [M, N, K] of shapes) {
    const key = `${M}x${N}x${K}`;
    results[key] ??= {};
    results[key][`threads_${threads}`] = measure(M, N, K);
  }
}
console.log(JSON.stringify({ backend: 'wasm', unit: 'GFLOP/s', reps, gemm: results }));
