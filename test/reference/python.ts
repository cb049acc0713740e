/**
 * Runs the Python reference scripts in this folder with Debian's /usr/bin/python3 (which has torch
 * and numpy; the pyenv python3 on PATH does not). Tests skip, saying why, when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

export const REFERENCE_DIR = join(repoRoot, 'test', 'reference');
const PYTHON = process.env.SLIMTEXT_REF_PYTHON ?? '/usr/bin/python3';

const cache = new Map<string, string | false>();

/** false when /usr/bin/python3 can import `modules`, else a skip reason for node:test. */
export function pythonSkip(modules: string[] = ['numpy']): string | false {
  const key = modules.join(',');
  let r = cache.get(key);
  if (r === undefined) {
    if (!existsSync(PYTHON)) r = `needs ${PYTHON} (Debian python3 with ${key})`;
    else {
      const p = spawnSync(PYTHON, ['-c', `import ${key}`], { encoding: 'utf8' });
      r = p.status === 0 ? false : `needs ${key} importable by ${PYTHON} (apt-get install python3-torch python3-numpy)`;
    }
    cache.set(key, r);
  }
  return r;
}

/** Runs test/reference/SCRIPT with args and stdin; returns stdout; throws with stderr on failure. */
export function runReference(script: string, args: string[], stdin = ''): string {
  // No __pycache__ folders left in the repository by the imported helpers.
  const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
  const p = spawnSync(PYTHON, [join(REFERENCE_DIR, script), ...args], { input: stdin, encoding: 'utf8', maxBuffer: 1 << 30, env });
  if (p.status !== 0) throw new Error(`${script} ${args.join(' ')} failed (${p.status}): ${p.stderr}`);
  return p.stdout;
}
