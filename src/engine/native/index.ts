/**
 * Loads the native backend: the C addon in build/Release/slimtext_native.node (built by
 * scripts/build-native.mjs at install time). The addon exports one function per kernel with the
 * Backend's names and argument order and checks its own arguments, so this wrapper passes calls
 * straight through.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, InferKernels } from '../backend.js';

/** The native backend, or undefined when the addon is not built or fails to load here. */
export function loadNative(): Backend | undefined {
  if (state === undefined) state = tryLoad();
  return 'backend' in state ? state.backend : undefined;
}

/** Why loadNative() returns undefined (undefined when it loads). */
export function nativeLoadError(): string | undefined {
  loadNative();
  return state !== undefined && 'error' in state ? state.error : undefined;
}

/** Where the addon is expected, relative to the package root. */
export const NATIVE_ADDON_PATH = join('build', 'Release', 'slimtext_native.node');

type NativeAddon = Omit<Backend, 'name' | 'infer'>;

/** Every kernel the addon must export (an addon built from older sources may lack some). */
const KERNELS: readonly (keyof NativeAddon)[] = [
  'threads', 'setThreads', 'gemm', 'binary', 'copyStrided', 'unary', 'unaryBackward', 'axpby', 'fill',
  'sum', 'dot', 'sumSquares', 'allFinite', 'softmax', 'softmaxBackward', 'logSoftmax',
  'logSoftmaxBackward', 'layerNorm', 'layerNormBackward', 'gather', 'indexAdd', 'embeddingBagMean',
  'embeddingBagMeanBackward', 'dequantGather', 'quantBagMean', 'dropout', 'adam', 'adamRows',
  'codesBagMean', 'codesBagMeanBackward', 'nearestCentroids',
];

/** The fused inference kernels (infer.c); an addon without them runs the composed versions. */
const INFER_KERNELS: readonly (keyof Required<InferKernels>)[] = [
  'biasGelu', 'addBias', 'residualLayerNorm', 'embedLayerNorm', 'attentionPacked', 'q8Pack', 'q8Gemm', 'q8Quantize', 'q8PackCodes', 'q8Kernel', 'f32Pack', 'f32GemmPacked',
];

let state: { backend: Backend } | { error: string } | undefined;

function tryLoad(): { backend: Backend } | { error: string } {
  const root = packageRoot();
  if (!root) return { error: `package.json not found above ${fileURLToPath(import.meta.url)}` };
  const file = join(root, NATIVE_ADDON_PATH);
  if (!existsSync(file)) return { error: `${file} not built (run: node scripts/build-native.mjs)` };
  const restore = shortenSpinWaits();
  let addon: Partial<NativeAddon>;
  try {
    addon = createRequire(join(root, 'package.json'))(file) as Partial<NativeAddon>;
  } catch (e) {
    return { error: `${file} failed to load: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    restore();
  }
  const missing = KERNELS.filter((k) => typeof addon[k] !== 'function');
  if (missing.length > 0) return { error: `${file} lacks ${missing.join(', ')} (stale build; rerun scripts/build-native.mjs)` };
  // The C functions take the Backend's arguments as they are (booleans and enum numbers included).
  const a = addon as NativeAddon & Partial<Required<InferKernels>>;
  const infer = INFER_KERNELS.every((k) => typeof a[k] === 'function')
    ? Object.freeze(Object.fromEntries(INFER_KERNELS.map((k) => [k, a[k]])) as unknown as InferKernels)
    : undefined;
  const backend: Backend = Object.freeze({ ...(addon as NativeAddon), name: 'native' as const, ...(infer ? { infer } : {}) });
  return { backend };
}

/**
 * Thread settings the addon's libraries read once, when it loads them. The addon has two pools of
 * workers: OpenBLAS's (large GEMMs) and OpenMP's (every other kernel, and batches of small GEMMs).
 * By default an idle OpenBLAS worker spins for 2^28 cycles (~0.1 s) and an idle libgomp worker for
 * 300k polls before sleeping, and a training step switches pools ~100 times, so one pool's
 * spinner sits on the core the other pool's worker needs. Measured on the 2-core machine under
 * load: a BERT-layer step took 670-970 ms on 2 threads with the defaults and ~160 ms with these
 * (~130 ms on 1 thread). OpenBLAS's workers now sleep at once (a wake-up costs microseconds against
 * a GEMM's milliseconds); libgomp's spin ~10k polls (~0.25 ms), which still bridges the gaps
 * between one step's element-wise kernels. Set just before loading and removed after (child
 * processes keep the environment they would have had); a value already in the environment wins.
 * Returns the function that removes them.
 */
function shortenSpinWaits(): () => void {
  const settings: Record<string, string> = {
    OPENBLAS_THREAD_TIMEOUT: '4', // 2^4 cycles, the minimum
    GOMP_SPINCOUNT: '10000',
  };
  const added = Object.keys(settings).filter((k) => process.env[k] === undefined);
  for (const k of added) process.env[k] = settings[k];
  return () => {
    for (const k of added) delete process.env[k];
  };
}

/** The folder holding package.json, walking up from this file (works from src/ and dist/src/). */
function packageRoot(): string | undefined {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(d, 'package.json'))) return d;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}
