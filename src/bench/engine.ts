/**
 * `slimtext bench engine`: per backend, sgemm GFLOP/s at the sizes training uses and the wall time
 * of one full training step (forward, backward, AdamW) of one BERT encoder layer. The JSON shape is
 * a contract for scripts:
 *   {"backends": {"native": {"sgemm_gflops": {"64x768x768": n, "512x512x512": n,
 *    "1024x1024x1024": n}, "layer_step_ms": n}, "wasm": {...}}}
 */
import type { Backend } from '../engine/backend.js';
import { availableBackends, loadBackend, setBackend, type BackendName } from '../engine/backends.js';
import { cpus } from 'node:os';
import { layerStepMs, type LayerShape } from './layerStep.js';
import { median } from './stats.js';

export interface EngineBenchOptions {
  backends?: BackendName[];
  threads?: number;
  /** Timed repetitions per measurement (the median is reported). */
  reps?: number;
  layer?: Partial<LayerShape>;
  onLine?: (msg: string) => void;
}

export interface BackendBench {
  threads: number;
  sgemm_gflops: Record<string, number>;
  layer_step_ms: number;
}

export interface EngineBench {
  backends: Partial<Record<BackendName, BackendBench>>;
  layer: LayerShape;
  machine: { cpus: number; node: string };
}

export const SGEMM_SIZES: readonly [number, number, number][] = [
  [64, 768, 768],
  [512, 512, 512],
  [1024, 1024, 1024],
];

export const DEFAULT_LAYER: LayerShape = { batch: 32, seq: 64, hidden: 256, heads: 4, intermediate: 1024 };

/** Median GFLOP/s of C = A @ B (M x K times K x N) over `reps` timed runs after one warm-up. */
export function sgemmGflops(b: Backend, M: number, N: number, K: number, reps: number): number {
  const a = new Float32Array(M * K).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const bb = new Float32Array(K * N).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const c = new Float32Array(M * N);
  // Small products are timed in loops long enough for the clock to resolve them.
  const inner = Math.max(1, Math.ceil(2e8 / (2 * M * N * K)));
  const run = () => {
    for (let i = 0; i < inner; i++) b.gemm(false, false, M, N, K, 1, a, K, 0, bb, N, 0, 0, c, N, 0, 1);
  };
  run();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return (2 * M * N * K * inner) / median(times) / 1e9;
}

export function benchEngine(opts: EngineBenchOptions = {}): EngineBench {
  const names = opts.backends ?? availableBackends();
  const reps = opts.reps ?? 5;
  const layer = { ...DEFAULT_LAYER, ...opts.layer };
  const out: EngineBench = { backends: {}, layer, machine: { cpus: cpus().length, node: process.version } };
  for (const name of names) {
    const b = loadBackend(name);
    if (opts.threads !== undefined) b.setThreads(opts.threads);
    setBackend(b);
    const sg: Record<string, number> = {};
    for (const [M, N, K] of SGEMM_SIZES) {
      sg[`${M}x${N}x${K}`] = round(sgemmGflops(b, M, N, K, reps));
      opts.onLine?.(`${name}: sgemm ${M}x${N}x${K} ${sg[`${M}x${N}x${K}`]} GFLOP/s`);
    }
    const ms = round(layerStepMs(layer, Math.max(reps, 5)));
    opts.onLine?.(`${name}: encoder layer training step ${ms} ms`);
    out.backends[name] = { threads: b.threads(), sgemm_gflops: sg, layer_step_ms: ms };
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
