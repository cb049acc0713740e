/**
 * Per-kernel profile of the encoder-layer training step: every Backend method is wrapped with a
 * timer, so one step splits into time inside each kernel (gemm further split by shape) and the
 * remainder spent in JavaScript (graph bookkeeping, allocation). A development tool behind
 * `npx tsx bench/engine.ts --profile`; the benchmark figures themselves come from engine.ts.
 */
import type { Backend } from '../engine/backend.js';
import { getBackend, setBackend } from '../engine/backends.js';
import { layerStepMs, type LayerShape } from './layerStep.js';

export interface KernelTime {
  /** Kernel name; gemm entries carry their shape (transA transB M N K x batch). */
  kernel: string;
  calls: number;
  /** Milliseconds per step. */
  ms: number;
}

export interface StepProfile {
  /** Median wall time of a step with the timers in place (they cost ~1 us a call). */
  step_ms: number;
  /** Time inside kernels per step, summed. */
  kernel_ms: number;
  kernels: KernelTime[];
}

/** Profiles `steps` layer steps on the current backend; kernel times are per-step averages. */
export function profileLayerStep(shape: LayerShape, steps: number): StepProfile {
  const inner = getBackend();
  const acc = new Map<string, { calls: number; ns: number }>();
  const timed = wrap(inner, acc);
  setBackend(timed);
  let stepMs: number;
  try {
    layerStepMs(shape, 2); // warm-up outside the tally
    acc.clear();
    stepMs = layerStepMs(shape, steps);
  } finally {
    setBackend(inner);
  }
  const n = steps + 2; // layerStepMs runs two untimed warm-up steps of its own
  const kernels = [...acc].map(([kernel, v]) => ({ kernel, calls: v.calls / n, ms: v.ns / 1e6 / n }));
  kernels.sort((a, b) => b.ms - a.ms);
  return { step_ms: stepMs, kernel_ms: kernels.reduce((s, k) => s + k.ms, 0), kernels };
}

function wrap(b: Backend, acc: Map<string, { calls: number; ns: number }>): Backend {
  const out: Record<string, unknown> = { name: b.name };
  for (const key of methodNames(b)) {
    const fn = (b[key] as (...args: unknown[]) => unknown).bind(b);
    out[key] = (...args: unknown[]) => {
      const t0 = process.hrtime.bigint();
      const r = fn(...args);
      const dt = Number(process.hrtime.bigint() - t0);
      const name = key === 'gemm' ? `gemm ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'} ${args[2]}x${args[3]}x${args[4]} x${args[16]}` : key;
      const e = acc.get(name) ?? { calls: 0, ns: 0 };
      e.calls++;
      e.ns += dt;
      acc.set(name, e);
      return r;
    };
  }
  return out as unknown as Backend;
}

// Own and inherited methods (the wasm backend is a class instance, the native one a plain object).
function methodNames(b: Backend): (keyof Backend)[] {
  const names = new Set<string>();
  for (let o: object | null = b; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k !== 'constructor' && typeof (b as unknown as Record<string, unknown>)[k] === 'function') names.add(k);
    }
  }
  return [...names] as (keyof Backend)[];
}
