/**
 * Atomic file writes: the data goes to a temporary file in the destination's folder, is fsynced,
 * then renamed over the destination (and the folder is fsynced so the rename itself survives a
 * crash). A reader, or a run that is killed half-way through a checkpoint, sees either the old file
 * or the new one, never a torn one. Every model and checkpoint writer in slimtext goes through here.
 *
 * Hand-written rather than the npm `write-file-atomic` package: the whole technique is a dozen lines
 * over node:fs, and we also need a variant that takes a sequence of chunks (safetensors writes a
 * header and then each tensor's bytes straight from its Float32Array, without first joining them
 * into one copy of the whole model).
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Test hook: with SLIMTEXT_CRASH_AFTER_OPS=k the process SIGKILLs itself right after its k-th file
 * operation here (open, write, fsync, close, rename, unlink, mkdir), so tests can check that a save
 * killed at any step leaves the old state usable and the new one complete or absent. Read once;
 * unset (always, outside tests) it costs one comparison per operation.
 */
const CRASH_AFTER = Number(process.env.SLIMTEXT_CRASH_AFTER_OPS ?? 0) || 0;
let fileOps = 0;
function fileOp(): void {
  if (CRASH_AFTER > 0 && ++fileOps >= CRASH_AFTER) process.kill(process.pid, 'SIGKILL');
}

/** What a writer accepts: one buffer or string, or a sequence of chunks written in order. */
export type AtomicData = string | Uint8Array | Iterable<string | Uint8Array>;

/** Writes `data` to `path` atomically. Resolves once the new file is durable and in place. */
export async function writeFileAtomic(path: string, data: AtomicData, opts: AtomicOptions = {}): Promise<void> {
  await writeStreamAtomic(path, toAsync(chunksOf(data)), opts);
}

/**
 * Writes every chunk of `source` (an async iterable: a Node Readable, a generator) to `path`
 * atomically. If the source throws, the temporary file is removed and the destination is untouched.
 */
export async function writeStreamAtomic(
  path: string,
  source: AsyncIterable<string | Uint8Array>,
  opts: AtomicOptions = {},
): Promise<void> {
  const tmp = tempPathFor(path);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx', opts.mode ?? 0o644);
    fileOp();
    for await (const chunk of source) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let off = 0;
      // FileHandle.write may write fewer bytes than asked (large buffers, some file systems).
      while (off < bytes.byteLength) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off);
        off += bytesWritten;
        fileOp();
      }
    }
    await fh.sync();
    fileOp();
    await fh.close();
    fh = undefined;
    fileOp();
    await rename(tmp, path);
    fileOp();
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  syncDir(dirname(path));
}

/** Synchronous form of writeFileAtomic, for code paths that cannot await (exit handlers, CLIs). */
export function writeFileAtomicSync(path: string, data: AtomicData, opts: AtomicOptions = {}): void {
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    fileOp();
    for (const chunk of chunksOf(data)) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let off = 0;
      while (off < bytes.byteLength) {
        off += writeSync(fd, bytes, off, bytes.byteLength - off);
        fileOp();
      }
    }
    fsyncSync(fd);
    fileOp();
    closeSync(fd);
    fd = undefined;
    fileOp();
    renameSync(tmp, path);
    fileOp();
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing: the original error is the one to report */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* the temp file may not exist */
    }
    throw e;
  }
  syncDir(dirname(path));
}

/** Removes a file if it is there (one counted file operation; a missing file is not an error). */
export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  fileOp();
}

/** mkdir -p (one counted file operation). */
export async function makeDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
  fileOp();
}

/**
 * Removes temporary files that killed writers left in `dir` (`.NAME.PID.RAND.tmp`, for a PID that
 * no longer runs). Returns how many were removed.
 */
export async function removeStaleTemps(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const m = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(f);
    if (!m || processAlive(Number(m[1]))) continue;
    await removeFile(join(dir, f));
    n++;
  }
  return n;
}

export interface AtomicOptions {
  /** File mode of the new file (default 0o644). */
  mode?: number;
}

// ------------------------------------------------------------------------------------------------

/**
 * Same folder as the destination, so the rename stays on one file system (rename across file
 * systems is a copy, which is not atomic). The leading dot keeps it out of casual listings; pid and
 * random bytes keep concurrent writers of the same file apart.
 */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function chunksOf(data: AtomicData): Iterable<string | Uint8Array> {
  return typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
}

async function* toAsync<T>(it: Iterable<T>): AsyncIterable<T> {
  yield* it;
}

/**
 * fsync the folder so the rename is on disk. Best effort: some platforms (Windows) and file
 * systems refuse to open or sync a directory, and the file itself is already durable.
 */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
    fileOp();
  } catch {
    /* see above */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
