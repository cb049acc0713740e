#!/usr/bin/env node
// Compiles the AssemblyScript kernels (src/engine/wasm/assembly/) with the installed compiler:
//   build/wasm/kernels.wasm         SIMD + threads, imports a shared memory (Node, isolated pages)
//   build/wasm/kernels-single.wasm  SIMD only, imports a plain memory (any browser page)
// Skips the work when both outputs are newer than every source file. Exit code 1 on failure.
import { mkdirSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src', 'engine', 'wasm', 'assembly');
const outDir = join(root, 'build', 'wasm');
const common = [
  join(srcDir, 'index.ts'),
  '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
  '--enable', 'simd', '--importMemory', '--initialMemory', '1', '--maximumMemory', '65536',
];
const targets = [
  { file: 'kernels.wasm', flags: ['--enable', 'threads', '--sharedMemory'] },
  { file: 'kernels-single.wasm', flags: [] },
];

const newestSource = Math.max(
  statSync(fileURLToPath(import.meta.url)).mtimeMs,
  ...readdirSync(srcDir).map((f) => statSync(join(srcDir, f)).mtimeMs),
);
const stale = targets.filter((t) => {
  const p = join(outDir, t.file);
  return !existsSync(p) || statSync(p).mtimeMs < newestSource;
});
if (stale.length === 0) process.exit(0);

let asc;
try {
  asc = (await import('assemblyscript/asc')).default;
} catch (e) {
  console.error(`slimtext: cannot build the wasm kernels: the assemblyscript compiler is not installed (${e.message})`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
for (const t of stale) {
  const out = join(outDir, t.file);
  const { error, stderr } = await asc.main([...common, ...t.flags, '-o', out]);
  if (error) {
    console.error(stderr.toString());
    console.error(`slimtext: wasm build of ${t.file} failed: ${error.message}`);
    process.exit(1);
  }
  console.log(`slimtext: built ${out.slice(root.length + 1)} (${statSync(out).size} bytes)`);
}
