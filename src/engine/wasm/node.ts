/**
 * Node-only parts of loading the wasm backend: finding build/wasm/kernels.wasm from the package
 * root, the default thread count, and the worker-thread pool. index.ts imports this module only
 * when running under Node, so browser bundles never need node: modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SlimtextError } from '../../errors.js';

export { NodePool } from './nodeThreads.js';

/** The folder holding package.json, walking up from this file (works from src/ and dist/src/). */
export function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new SlimtextError(`wasm backend: no package.json above ${fileURLToPath(import.meta.url)}`);
    d = up;
  }
  return d;
}

/** Path of a compiled kernel file (kernels.wasm: threads + shared memory; kernels-single.wasm: neither). */
export function kernelsPath(file = 'kernels.wasm'): string {
  return join(packageRoot(), 'build', 'wasm', file);
}

let cached: WebAssembly.Module | undefined;

/** The compiled kernels module (compiled once per process, synchronously). */
export function kernelsModule(): WebAssembly.Module {
  if (!cached) {
    const path = kernelsPath();
    if (!existsSync(path)) {
      throw new SlimtextError(`wasm backend not built: ${path} is missing (run \`npm run build:wasm\`)`);
    }
    cached = new WebAssembly.Module(readFileSync(path));
  }
  return cached;
}

export function defaultThreads(): number {
  return availableParallelism();
}
