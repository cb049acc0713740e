/**
 * The backends BERT tests run on: every real backend that loads here; when none does yet (addon and
 * wasm not built), the engine's test-only reference backend, so the model is still checked.
 */
import { loadBackend, type Backend } from '../../src/engine/index.js';
import { refBackend } from '../engine/refBackend.js';

export function bertTestBackends(): Array<[string, Backend]> {
  const out: Array<[string, Backend]> = [];
  for (const name of ['native', 'wasm'] as const) {
    try {
      out.push([name, loadBackend(name)]);
    } catch {
      /* not built on this machine */
    }
  }
  return out.length ? out : [['ref (no native or wasm backend built)', refBackend]];
}

/** True when at least one real backend loads (the CLI needs one). */
export function realBackendSkip(): string | false {
  for (const name of ['native', 'wasm'] as const) {
    try {
      loadBackend(name);
      return false;
    } catch {
      /* try the next */
    }
  }
  return 'needs a built backend (native addon or wasm) for the CLI';
}

/** max |a - b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
