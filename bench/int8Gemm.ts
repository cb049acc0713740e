/**
 * The int8 GEMM (InferKernels.q8Gemm) against the fp32 GEMM of the same backend, at BERT-base
 * projection shapes: 800 rows (a batch of 32 texts of ~25 tokens) x 768 -> 768 and 768 -> 3072,
 * and 25 rows (one text). Best of 5 after a warm-up; one thread. Prints JSON.
 *
 *   npx tsx bench/int8Gemm.ts [--backend wasm|native]
 */
import { parseArgs } from 'node:util';
import { inferKernels, loadBackend, q8PackedLength, Rng } from '../src/engine/index.js';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' } } });
const be = loadBackend(values.backend === 'native' ? 'native' : 'wasm');
be.setThreads(1);
const k = inferKernels(be);
const rows: Record<string, unknown>[] = [];
for (const [M, N, K] of [[800, 768, 768], [800, 3072, 768], [25, 768, 768]] as const) {
  const rng = new Rng(1);
  const x = new Float32Array(M * K), w = new Float32Array(N * K), y = new Float32Array(M * N);
  rng.fillNormal(x, 0, 1);
  rng.fillNormal(w, 0, 0.05);
  const p = new Int32Array(q8PackedLength(N, K)), s = new Float32Array(N), cs = new Int32Array(N);
  k.q8Pack!(N, K, w, p, s, cs);
  const best = (f: () => void): number => {
    f();
    let b = Infinity;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      f();
      b = Math.min(b, performance.now() - t);
    }
    return b;
  };
  const fp32 = best(() => be.gemm(false, true, M, N, K, 1, x, K, 0, w, K, 0, 0, y, N, 0, 1));
  const int8 = best(() => k.q8Gemm!(M, N, K, x, p, s, cs, null, y));
  const g = (2 * M * N * K) / 1e9;
  rows.push({ M, N, K, fp32_ms: +fp32.toFixed(2), int8_ms: +int8.toFixed(2), fp32_gflops: +(g / fp32 * 1000).toFixed(1), int8_gops: +(g / int8 * 1000).toFixed(1), int8_vs_fp32: +(fp32 / int8).toFixed(2) });
}
console.log(JSON.stringify({ bench: 'int8Gemm', backend: be.name, kernel: k.q8Kernel?.(), date: new Date().toISOString(), rows }, null, 2));
