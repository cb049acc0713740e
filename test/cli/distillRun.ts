/** Runs the CLI the way the calling test runs: from source under tsx, or compiled (bin/slimtext.js). */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

export function slimtext(args: string[], timeoutMs = 120_000): SpawnSyncReturns<string> {
  const fromSource = import.meta.url.endsWith('.ts');
  const argv = fromSource ? ['--import', 'tsx', join(repoRoot, 'scripts', 'dev-cli.ts'), ...args] : [join(repoRoot, 'bin', 'slimtext.js'), ...args];
  return spawnSync(process.execPath, argv, { encoding: 'utf8', cwd: repoRoot, timeout: timeoutMs });
}
