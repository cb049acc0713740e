/**
 * One rule for every output a command writes (`--out` of finetune, distill, label, ngrams build,
 * and any new command): checked before any work, failing with one line that names the path.
 *
 *   - the nearest existing folder above the path must be a folder we can create things in
 *     (`/nonexistent/x` is fine to create; a path under a file, or under /proc, is not);
 *   - a file output must not be a folder, a folder output must not be a file;
 *   - an existing output is refused unless `overwrite` (or `resume`, for commands that continue
 *     an interrupted run in place) is given;
 *   - a folder output that holds files which are not slimtext's own (a Hugging Face checkpoint,
 *     the user's notes) is refused even with `overwrite`: replacing it would leave a slimtext model
 *     beside someone else's files, so choose a new or empty folder.
 *
 * Hand-written: no library does this check; it is a few stat calls over node:fs.
 */
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { OptionError } from '../errors.js';
import { MANIFEST_FILE } from './bundle.js';

/** An output path that cannot be used as given: exit code 2, like every usage error. */
export class OutputPathError extends OptionError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

export interface OutputCheck {
  /** What the path will be. */
  kind: 'file' | 'folder';
  /** Replace an existing output. */
  overwrite?: boolean;
  /** The command continues an interrupted run in the existing output. */
  resume?: boolean;
  /** The option naming the path, for the messages (default `--out`). */
  option?: string;
}

/** Whether the output exists now (so the caller knows if it replaces one). Throws OutputPathError. */
export function checkOutputPath(path: string, check: OutputCheck): { exists: boolean } {
  const option = check.option ?? '--out';
  if (path === '') throw new OutputPathError(path, `${option} is empty`);
  const st = statOrUndefined(path);
  if (st) {
    if (check.kind === 'file' && st.isDirectory()) throw new OutputPathError(path, `is a folder; ${option} must name a file`);
    if (check.kind === 'folder' && !st.isDirectory()) throw new OutputPathError(path, `is a file; ${option} must name a folder`);
    if (check.kind === 'folder') {
      const entries = readdirSync(path);
      const foreign = entries.filter((f) => !isOwnEntry(f));
      if (foreign.length > 0) {
        throw new OutputPathError(path, `holds files that are not a slimtext model's (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); choose a new or empty folder for ${option}`);
      }
      if (entries.length === 0) return { exists: false };
    }
    if (!check.overwrite && !check.resume) {
      throw new OutputPathError(path, `already exists; pass --overwrite to replace it${check.resume === false ? ', or --resume to continue an interrupted run' : ''}`);
    }
    assertWritable(check.kind === 'folder' ? path : dirname(resolve(path)), path);
    return { exists: true };
  }
  let dir = dirname(resolve(path));
  // A file goes into an existing folder (as cp and shells do); a folder's missing parents are made.
  if (check.kind === 'file' && !existsSync(dir)) throw new OutputPathError(path, `cannot be created: there is no folder ${dir}`);
  // Walk up to the nearest existing ancestor: it must be a folder we can create things in.
  while (!existsSync(dir)) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const ancestor = statOrUndefined(dir);
  if (!ancestor?.isDirectory()) throw new OutputPathError(path, `cannot be created: ${dir} is a file, not a folder`);
  assertWritable(dir, path);
  return { exists: false };
}

// ------------------------------------------------------------------------------------------------

/** Files slimtext itself puts in a model folder (manifest, content-addressed files, logs, checkpoint). */
function isOwnEntry(name: string): boolean {
  return (
    name === MANIFEST_FILE ||
    name === 'checkpoint' ||
    /^[\w]+_log\.json$/.test(name) ||
    /^[\w.-]+-[0-9a-f]{12}(\.[\w.]+)?$/.test(name) ||
    /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/.test(name)
  );
}

/** Creating (and removing) a probe folder is the only test that also catches /proc and read-only mounts. */
function assertWritable(dir: string, path: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    rmdirSync(mkdtempSync(join(dir, '.slimtext-probe-')));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new OutputPathError(path, `cannot be written: ${dir} does not accept new files (${code})`);
  }
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new OutputPathError(path, 'cannot be created: a part of the path above it is a file, not a folder');
    throw new OutputPathError(path, `cannot be checked (${code})`);
  }
}
