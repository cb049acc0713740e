/**
 * Child process for the kill-at-every-file-operation test (bundleCrash.test.ts): writes the bundle
 * that `argv` names into a folder, with SLIMTEXT_CRASH_AFTER_OPS set by the parent.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeBundle } from '../../src/io/bundle.js';

export function crashInput(version: number, scratch: string) {
  mkdirSync(scratch, { recursive: true });
  const vocab = join(scratch, 'vocab.txt');
  // Each version has its own vocabulary (the case that broke an old model when fine-tuning into it).
  writeFileSync(vocab, `[PAD]\n[UNK]\nv${version}\n`);
  return {
    task: 'classify',
    architecture: { kind: 'test', version },
    labels: ['a', 'b'],
    tensors: new Map([['w', { shape: [4], data: Float32Array.from([1, 2, 3, 4], (x) => x * version) }]]),
    tokenizerFiles: [vocab],
    data: { 'trainer.json': { version } },
  };
}

// Run with arguments by the test; `node --test dist/test/` also loads this file, without any.
if (process.argv[1]?.endsWith('crashSave.js') && process.argv.length >= 5) {
  const [dir, version, scratch] = process.argv.slice(2);
  await writeBundle(dir!, crashInput(Number(version), scratch!));
}
