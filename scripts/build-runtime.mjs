// Bundles slimtext/runtime (src/runtime/index.ts) into one minified ESM file with esbuild.
// platform 'neutral' resolves no Node built-ins: a `node:` import on the runtime's path fails the build.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const outfile = 'dist/runtime/slimtext-runtime.js';
await build({
  entryPoints: ['src/runtime/index.ts'],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2020',
  outfile,
  legalComments: 'none',
  logLevel: 'warning',
});
const bytes = readFileSync(outfile);
console.log(`${outfile}: ${bytes.length} bytes, ${gzipSync(bytes, { level: 9 }).length} gzipped`);
