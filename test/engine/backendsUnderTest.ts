/**
 * The backends engine tests run on: the plain-JS reference oracle, then every real backend that
 * loads on this machine (availableBackends() names wasm even before it is built, so loading is
 * tried and failures are listed rather than thrown).
 */
import type { Backend } from '../../src/engine/backend.js';
import { availableBackends, loadBackend, setBackend } from '../../src/engine/backends.js';
import { refBackend } from './refBackend.js';

export interface NamedBackend {
  name: string;
  backend: Backend;
}

export const unavailable: string[] = [];

/** Real backends that load here (native, wasm), without the reference. */
export const realBackends: NamedBackend[] = (() => {
  const out: NamedBackend[] = [];
  for (const name of availableBackends()) {
    try {
      out.push({ name, backend: loadBackend(name) });
    } catch (e) {
      unavailable.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
})();

/** Reference first, then the real backends. */
export const backendsUnderTest: NamedBackend[] = [{ name: 'ref', backend: refBackend }, ...realBackends];

/** Runs fn with `b` as the process backend (each test file is its own process, so no restore). */
export function withBackend<T>(b: Backend, fn: () => T): T {
  setBackend(b);
  return fn();
}

/**
 * A backend that forwards every kernel to `inner` except those in `overrides` (for counting calls or
 * injecting faults). A plain object rather than a spread or a Proxy: kernels may live on a class
 * prototype, and a backend may be a frozen object whose properties a Proxy must not replace.
 */
export function wrapBackend(inner: Backend, overrides: (k: string, kernel: (...a: unknown[]) => unknown) => ((...a: unknown[]) => unknown) | undefined): Backend {
  const names = new Set([...Object.keys(inner), ...Object.getOwnPropertyNames(Object.getPrototypeOf(inner))]);
  const out: Record<string, unknown> = {};
  for (const k of names) {
    if (k === 'constructor') continue;
    const v = (inner as unknown as Record<string, unknown>)[k];
    if (typeof v !== 'function') {
      out[k] = v;
      continue;
    }
    const bound = (v as (...a: unknown[]) => unknown).bind(inner);
    out[k] = overrides(k, bound) ?? bound;
  }
  return out as unknown as Backend;
}
