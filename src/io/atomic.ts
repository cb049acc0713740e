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
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

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
    for await (const chunk of source) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let off = 0;
      // FileHandle.write may write fewer bytes than asked (large buffers, some file systems).
      while (off < bytes.byteLength) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off);
        off += bytesWritten;
      }
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
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
    for (const chunk of chunksOf(data)) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
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
  } catch {
    /* see above */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
