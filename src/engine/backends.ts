/**
 * Picks the backend: SLIMTEXT_BACKEND=native|wasm, else native when its addon was built, else the
 * portable WebAssembly backend with one line on stderr saying why.
 */
import type { Backend } from './backend.js';
import { SlimtextError } from '../errors.js';
import { loadNative, nativeLoadError } from './native/index.js';
import { loadWasm } from './wasm/index.js';

export type BackendName = Backend['name'];

const cache = new Map<BackendName, Backend>();
let current: Backend | undefined;

/** Loads a backend by name; throws SlimtextError if it cannot be loaded here. */
export function loadBackend(name: BackendName): Backend {
  let b = cache.get(name);
  if (!b) {
    if (name === 'native') {
      const n = loadNative();
      if (!n) throw new SlimtextError(`native backend unavailable: ${nativeLoadError() ?? 'unknown reason'}`);
      b = n;
    } else if (name === 'wasm') {
      b = loadWasm();
    } else {
      throw new SlimtextError(`unknown backend '${String(name)}' (expected native or wasm)`);
    }
    cache.set(name, b);
  }
  return b;
}

/** Names of the backends that load on this machine, native first. */
export function availableBackends(): BackendName[] {
  const out: BackendName[] = [];
  if (loadNative()) out.push('native');
  out.push('wasm');
  return out;
}

/** The process-wide backend used by tensors that were not given one explicitly. */
export function getBackend(): Backend {
  if (current) return current;
  const want = process.env.SLIMTEXT_BACKEND;
  if (want === 'native' || want === 'wasm') {
    current = loadBackend(want);
  } else if (want !== undefined && want !== '') {
    throw new SlimtextError(`SLIMTEXT_BACKEND='${want}' is not a backend (expected native or wasm)`);
  } else if (loadNative()) {
    current = loadBackend('native');
  } else {
    process.stderr.write(`slimtext: native backend unavailable (${nativeLoadError()}); using the portable wasm backend\n`);
    current = loadBackend('wasm');
  }
  return current;
}

/** Switches the process-wide backend (tests run every op on each backend this way). */
export function setBackend(b: Backend): void {
  current = b;
}
