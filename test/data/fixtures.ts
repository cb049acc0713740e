/** Test fixtures: small files in a temporary folder (removed at exit), and an InputError check. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../../src/errors.js';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** `files` maps relative paths (folders created as needed) to contents; returns the folder. */
export function tmpFiles(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'slimtext-data-'));
  made.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

/** Asserts that `p` rejects with an InputError naming exactly this file, line and field. */
export async function rejectsInput(p: Promise<unknown>, file: string, line: number | undefined, field: string | undefined, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.equal(e.line, line);
    assert.equal(e.field, field);
    assert.match(e.message, pattern);
    return true;
  });
}
