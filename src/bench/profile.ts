/**
 * Per-kernel profile of the encoder-layer training step: every Backend method is wrapped with a
 * timer, so one step splits into time inside each kernel (gemm further split by shape) and the
 * remainder spent in JavaScript (graph bookkeeping, allocation). A development tool behind
 * `npx tsx bench/engine.ts --profile`; the benchmark figures themselves come from engine.ts.
 */
import { UnaryOp, type Backend } from '../engine/backend.js';
import { getBackend, setBackend } from '../engine/backends.js';
import { layerStepMs, type LayerShape } from './layerStep.js';

export interface KernelTime {
  /** Kernel name; gemm entries carry their shape (transA transB M N K x batch). */
  kernel: string;
  calls: number;
  /** Milliseconds per step (wall clock). */
  ms: number;
  /** CPU milliseconds per step, all threads of the process (robust to other load when 1 thread). */
  cpu_ms: number;
}

export interface StepProfile {
  /** Median wall time of a step with the timers in place (they cost ~1 us a call). */
  step_ms: number;
  /** CPU time of the process per step (mean). */
  step_cpu_ms: number;
  /** Time inside kernels per step, summed. */
  kernel_ms: number;
  kernel_cpu_ms: number;
  kernels: KernelTime[];
}

/** Profiles `steps` layer steps on the current backend; kernel times are per-step averages. */
export function profileLayerStep(shape: LayerShape, steps: number): StepProfile {
  const inner = getBackend();
  const acc = new Map<string, Tally>();
  const timed = wrap(inner, acc);
  setBackend(timed);
  let stepMs: number;
  let cpu: NodeJS.CpuUsage;
  try {
    layerStepMs(shape, 2); // warm-up outside the tally
    acc.clear();
    const c0 = process.cpuUsage();
    stepMs = layerStepMs(shape, steps);
    cpu = process.cpuUsage(c0);
  } finally {
    setBackend(inner);
  }
  const n = steps + 2; // layerStepMs runs two untimed warm-up steps of its own
  const kernels = [...acc].map(([kernel, v]) => ({ kernel, calls: v.calls / n, ms: v.ns / 1e6 / n, cpu_ms: v.cpuUs / 1e3 / n }));
  kernels.sort((a, b) => b.cpu_ms - a.cpu_ms);
  return {
    step_ms: stepMs,
    step_cpu_ms: (cpu.user + cpu.system) / 1e3 / n,
    kernel_ms: kernels.reduce((s, k) => s + k.ms, 0),
    kernel_cpu_ms: kernels.reduce((s, k) => s + k.cpu_ms, 0),
    kernels,
  };
}

/**
 * The same per-kernel split for any piece of work on the current backend (e.g. an inference
 * forward pass): `run` once as warm-up, then `reps` times timed; figures are per run.
 */
export function profileRun(run: () => void, reps: number): StepProfile {
  const inner = getBackend();
  const acc = new Map<string, Tally>();
  setBackend(wrap(inner, acc));
  const times: number[] = [];
  let cpu: NodeJS.CpuUsage;
  try {
    run();
    acc.clear();
    const c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      run();
      times.push(performance.now() - t0);
    }
    cpu = process.cpuUsage(c0);
  } finally {
    setBackend(inner);
  }
  times.sort((a, b) => a - b);
  const kernels = [...acc].map(([kernel, v]) => ({ kernel, calls: v.calls / reps, ms: v.ns / 1e6 / reps, cpu_ms: v.cpuUs / 1e3 / reps }))
    .sort((a, b) => b.ms - a.ms);
  return {
    step_ms: times[Math.floor(reps / 2)]!,
    step_cpu_ms: (cpu.user + cpu.system) / 1e3 / reps,
    kernel_ms: kernels.reduce((s, k) => s + k.ms, 0),
    kernel_cpu_ms: kernels.reduce((s, k) => s + k.cpu_ms, 0),
    kernels,
  };
}

interface Tally {
  calls: number;
  ns: number;
  cpuUs: number;
}

function wrap(b: Backend, acc: Map<string, Tally>): Backend {
  const out: Record<string, unknown> = { name: b.name };
  for (const key of methodNames(b)) {
    const fn = (b[key] as (...args: unknown[]) => unknown).bind(b);
    out[key] = (...args: unknown[]) => {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const r = fn(...args);
      const dt = Number(process.hrtime.bigint() - t0);
      const c = process.cpuUsage(c0);
      const name = label(key, args);
      const e = acc.get(name) ?? { calls: 0, ns: 0, cpuUs: 0 };
      e.calls++;
      e.ns += dt;
      e.cpuUs += c.user + c.system;
      acc.set(name, e);
      return r;
    };
  }
  return out as unknown as Backend;
}

// Kernel name, with the shape for gemm and the op for the kernels that take one.
function label(key: string, args: unknown[]): string {
  if (key === 'gemm') return `gemm ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'} ${args[2]}x${args[3]}x${args[4]} x${args[16]}`;
  if (key === 'unary' || key === 'unaryBackward') return `${key} ${UNARY[args[0] as number]} n=${args[1]}`;
  if (key === 'binary') return `binary ${'+-*/'[args[0] as number]} [${[...(args[1] as Int32Array)].join(',')}]${args[7] ? ' acc' : ''}`;
  if (key === 'copyStrided') return `copyStrided [${[...(args[0] as Int32Array)].join(',')}] src [${[...(args[2] as Int32Array)].join(',')}] dst [${[...(args[4] as Int32Array)].join(',')}]${args[6] ? ' acc' : ''}`;
  return key;
}

const UNARY = Object.fromEntries(Object.entries(UnaryOp).map(([k, v]) => [v, k.toLowerCase()]));

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
