/**
 * The portable WebAssembly backend: AssemblyScript SIMD kernels (assembly/, compiled by
 * scripts/build-wasm.mjs to build/wasm/) behind the same Backend interface as the native one.
 *
 * - Node: `loadWasm()` (synchronous) reads build/wasm/kernels.wasm and instantiates it on a shared
 *   WebAssembly.Memory; the first kernel big enough to split starts `threads() - 1` worker
 *   threads on that memory (nodeThreads.ts).
 * - Browser (or any host): `await loadWasmFromBytes(bytes)` with the bytes of kernels.wasm (needs
 *   cross-origin isolation for shared memory) or kernels-single.wasm (no shared memory); kernels
 *   then run on the calling thread.
 * Nothing here imports node: modules; node.ts is loaded only behind the Node check below.
 */
import type { Backend } from '../backend.js';
import { SlimtextError } from '../../errors.js';
import type { KernelExports } from './exports.js';
import { WasmBackend } from './kernels.js';
import { singleThread, type ThreadPool } from './pool.js';

export { WasmBackend } from './kernels.js';

/** Pages (64 KiB) of linear memory to start with and the most it may grow to (4 GiB, wasm32). */
const INITIAL_PAGES = 64;
const MAX_PAGES = 65536;

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
// The magic comments keep bundlers from pulling node.ts (and node: modules) into browser builds.
const node = isNode ? await import(/* webpackIgnore: true */ /* @vite-ignore */ './node.js') : undefined;

/** Loads the wasm backend in Node (synchronous): all cores by default, worker threads unref'd. */
export function loadWasm(): Backend {
  if (!node) {
    throw new SlimtextError('loadWasm() reads the kernels from disk and needs Node; elsewhere use `await loadWasmFromBytes(bytes)`');
  }
  return loadWasmFromModule(node.kernelsModule(), { threads: node.defaultThreads() });
}

export interface WasmLoadOptions {
  /** Threads to use (Node only; default: all cores in Node, 1 elsewhere). */
  threads?: number;
}

/** Compiles and loads the kernels from the bytes of kernels.wasm or kernels-single.wasm (any host). */
export async function loadWasmFromBytes(bytes: BufferSource, options: WasmLoadOptions = {}): Promise<WasmBackend> {
  return loadWasmFromModule(await WebAssembly.compile(bytes), options);
}

/** Loads the kernels from an already compiled module (synchronous). */
export function loadWasmFromModule(module: WebAssembly.Module, options: WasmLoadOptions = {}): WasmBackend {
  const shared = instantiate(module, true);
  const { instance, memory } = shared ?? instantiate(module, false) ?? fail();
  const exports = instance.exports as unknown as KernelExports;
  let pool: ThreadPool = singleThread;
  let threads = 1;
  if (node && shared) {
    pool = new node.NodePool(module, memory);
    threads = options.threads ?? node.defaultThreads();
  }
  return new WasmBackend(exports, memory, pool, { threads });
}

/** Instantiates on a shared or plain memory; undefined when the module wants the other kind. */
function instantiate(module: WebAssembly.Module, shared: boolean): { instance: WebAssembly.Instance; memory: WebAssembly.Memory } | undefined {
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared });
  } catch {
    return undefined; // no SharedArrayBuffer here (e.g. a page without cross-origin isolation)
  }
  try {
    return { instance: new WebAssembly.Instance(module, { env: { memory } }), memory };
  } catch (e) {
    if (e instanceof WebAssembly.LinkError) return undefined;
    throw e;
  }
}

function fail(): never {
  throw new SlimtextError(
    'wasm backend: could not instantiate the kernels (kernels.wasm needs SharedArrayBuffer, i.e. cross-origin isolation in a browser; use kernels-single.wasm there)',
  );
}
