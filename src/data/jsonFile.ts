/** Whole-file reads (small JSON files, zips) with errors that name the file. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';

export async function readFileBytes(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new InputError(file, undefined, undefined, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
}

export async function readJsonFile(file: string, what = 'JSON'): Promise<unknown> {
  return parseJsonBytes(file, await readFileBytes(file), what);
}

/** Strict UTF-8 (a bad byte is an error, not U+FFFD) then JSON.parse. */
export function parseJsonBytes(file: string, bytes: Uint8Array, what = 'JSON'): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(file, undefined, undefined, `${what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(file, undefined, undefined, `invalid ${what} (${(e as Error).message})`);
  }
}
