/**
 * Streams a text file as decoded chunks and lines without loading it whole, checking that it is
 * valid UTF-8 and naming the line where it is not (Node's own decoders replace bad bytes silently).
 *
 * Hand-written because no library both streams and reports the line of a bad byte; the work is a
 * split on the 0x0A byte (never part of a multi-byte UTF-8 sequence) plus Node's native
 * `buffer.isUtf8`, checked once per chunk and per line only when a chunk fails.
 *
 * A file whose name ends in `.gz` is gunzipped on the fly (zlib's stream), so every reader built on
 * these (corpora, data sets) reads gzipped files as streams, never whole.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import { InputError } from '../errors.js';

export type TextEncoding = 'utf-8' | 'latin1';

export interface TextChunk {
  /** Whole lines joined by '\n' (no trailing newline; '\r\n' endings read as '\n'). */
  text: string;
  /** 1-based line number of the chunk's first line. */
  firstLine: number;
}

export interface Line {
  text: string;
  /** 1-based line number. */
  line: number;
  /** Set (with `markInvalid`) when the line is not valid UTF-8; its text then holds U+FFFD for the bad bytes. */
  invalid?: InputError;
}

export interface LineOptions {
  encoding?: TextEncoding;
  /**
   * Called for each line that is not valid UTF-8 (an error naming file and line, no field); the
   * line is kept, decoded with U+FFFD, so the caller can tell which field holds the bad bytes.
   * Absent: such a line throws.
   */
  onInvalid?: (e: InputError) => void;
}

/** Decoded chunks of whole lines ('\r\n' read as '\n'), in order; a final line without a newline is included. */
export async function* readTextChunks(file: string, opts: LineOptions = {}): AsyncGenerator<TextChunk> {
  const latin1 = opts.encoding === 'latin1';
  for await (const c of readByteChunks(file, opts)) {
    const text = c.bytes.toString(latin1 ? 'latin1' : 'utf8');
    // A chunk ends where a '\n' was cut off, so its last line's '\r' has no '\n' after it here.
    yield { text: text.includes('\r') ? text.replace(/\r(?=\n|$)/g, '') : text, firstLine: c.firstLine };
  }
}

export interface ByteChunk {
  /** Whole lines (no trailing newline), UTF-8 checked unless the encoding is latin1. */
  bytes: Buffer;
  firstLine: number;
}

/** Like readTextChunks, undecoded: for parsers that work on bytes (csv-parse). A leading BOM is dropped. */
export async function* readByteChunks(file: string, opts: LineOptions = {}): AsyncGenerator<ByteChunk> {
  const check = opts.encoding !== 'latin1';
  let carry: Buffer | undefined;
  let nextLine = 1;
  let first = true;
  const prepare = (buf: Buffer, firstLine: number): ByteChunk => {
    if (first) {
      first = false;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    if (!check || isUtf8(buf)) return { bytes: buf, firstLine };
    // Some line in this chunk is bad: find it (or them) line by line.
    let start = 0;
    let line = firstLine;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      const piece = buf.subarray(start, nl < 0 ? buf.length : nl);
      if (!isUtf8(piece)) {
        const e = new InputError(file, line, undefined, `invalid UTF-8 (${badByteAt(piece)})`);
        if (!opts.onInvalid) throw e;
        opts.onInvalid(e);
      }
      if (nl < 0) break;
      start = nl + 1;
      line++;
    }
    return { bytes: buf, firstLine };
  };
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  const gz = /\.gz$/i.test(file);
  const source = gz ? stream.pipe(createGunzip({ chunkSize: 1 << 20 })) : stream;
  if (gz) stream.on('error', (e) => source.destroy(e));
  try {
    for await (const raw of source as AsyncIterable<Buffer>) {
      const buf: Buffer = carry ? Buffer.concat([carry, raw]) : raw;
      const lastNl = buf.lastIndexOf(0x0a);
      if (lastNl < 0) {
        carry = buf;
        continue;
      }
      const whole = buf.subarray(0, lastNl);
      carry = lastNl + 1 < buf.length ? Buffer.from(buf.subarray(lastNl + 1)) : undefined;
      const chunk = prepare(whole, nextLine);
      nextLine += countNewlines(whole) + 1;
      yield chunk;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(file, undefined, undefined, 'no such file');
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new InputError(file, undefined, undefined, 'is a folder, expected a file');
    if (gz && /^Z_|incorrect header|unexpected end/i.test(`${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`)) throw new InputError(file, nextLine, undefined, `not a valid gzip file, or cut short (${(e as Error).message})`);
    throw e;
  } finally {
    stream.destroy();
    if (gz) source.destroy();
  }
  if (carry && carry.length > 0) yield prepare(carry, nextLine);
}

/** The file's lines, '\r\n' or '\n' terminated; a final empty line after the last newline is not yielded. */
export async function* readLines(file: string, opts: { encoding?: TextEncoding; markInvalid?: boolean } = {}): AsyncGenerator<Line> {
  const invalid = new Map<number, InputError>();
  const onInvalid = opts.markInvalid ? (e: InputError) => invalid.set(e.line!, e) : undefined;
  for await (const chunk of readTextChunks(file, { encoding: opts.encoding, onInvalid })) {
    const lines = chunk.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const t = lines[i]!;
      const line = chunk.firstLine + i;
      const out: Line = { text: t.endsWith('\r') ? t.slice(0, -1) : t, line };
      if (invalid.size && invalid.has(line)) {
        out.invalid = invalid.get(line)!;
        invalid.delete(line);
      }
      yield out;
    }
  }
}

/** A copy of an invalid-UTF-8 error naming the field whose value holds the bad bytes (U+FFFD). */
export function invalidIn(e: InputError, fields: Record<string, string | undefined>): InputError {
  const name = Object.keys(fields).find((k) => fields[k]?.includes('\uFFFD'));
  return new InputError(e.file, e.line, name, e.reason);
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** 'byte 0xF0 at byte 47': where the first malformed sequence starts (runs only on a bad line). */
export function badByteAt(piece: Buffer): string {
  let i = 0;
  while (i < piece.length) {
    const b = piece[i]!;
    const need = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (need === 0 || i + need > piece.length || !isUtf8(piece.subarray(i, i + need))) break;
    i += need;
  }
  const at = Math.min(i, piece.length - 1);
  return `byte 0x${piece[at]!.toString(16).toUpperCase().padStart(2, '0')} at byte ${at + 1}`;
}
