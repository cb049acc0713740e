/** Shared test helpers: where the repo and ../shared are, and which backends to run on. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json), from src or from dist. */
export const repoRoot: string = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('package.json not found above the test folder');
    d = up;
  }
  return d;
})();

/** ../shared beside the repo (or $SLIMTEXT_SHARED), or undefined when it is missing. */
export function sharedDir(): string | undefined {
  const d = process.env.SLIMTEXT_SHARED ?? resolve(repoRoot, '..', 'shared');
  return existsSync(d) ? d : undefined;
}

/**
 * Path to something under ../shared; when shared data is missing, returns a skip reason for
 * node:test (`{ skip: '...' }`) so the test says clearly what it needed.
 */
export function sharedPath(rel: string): { path: string; skip: false } | { path: undefined; skip: string } {
  const d = sharedDir();
  if (!d) return { path: undefined, skip: `needs ../shared (not found beside ${repoRoot}); set SLIMTEXT_SHARED` };
  const p = join(d, rel);
  if (!existsSync(p)) return { path: undefined, skip: `needs ${p}, which is missing` };
  return { path: p, skip: false };
}
