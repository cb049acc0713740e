/** Runs the CLI the way the calling test runs: from source under tsx, or compiled (bin/slimtext.js). */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

export function slimtext(args: string[], timeoutMs = 120_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, slimtextArgv(args), { encoding: 'utf8', cwd: repoRoot, timeout: timeoutMs });
}

/** Node's arguments for running the CLI with `args` (source under tsx, or the compiled bin). */
export function slimtextArgv(args: string[]): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  return fromSource ? ['--import', 'tsx', join(repoRoot, 'scripts', 'dev-cli.ts'), ...args] : [join(repoRoot, 'bin', 'slimtext.js'), ...args];
}
