/**
 * Lines of an already-open byte stream (stdin), UTF-8 checked, naming the line of a bad byte.
 * The one line rule of every command, the same as lines.ts applies to files: a line ends at '\n',
 * a '\r' just before it is dropped ('\r\n'), a lone '\r' is an ordinary character, invalid
 * UTF-8 is an error naming the line (never replaced silently).
 * lines.ts does the same for files it opens itself by path; stdin cannot go through it because
 * under Node's child_process stdin is a socket, which cannot be reopened by path (/dev/stdin).
 */
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { InputError } from '../errors.js';
import { badByteAt } from './lines.js';

/** Whole lines, in batches as they arrive: text of each line ('\r\n' or '\n' ended) and its number. */
export async function* streamLineBatches(stream: Readable | AsyncIterable<Uint8Array>, name: string): AsyncGenerator<{ lines: string[]; firstLine: number }> {
  let carry: Buffer | undefined;
  let next = 1;
  let first = true;
  const decode = (buf: Buffer): string[] => {
    if (first) {
      first = false;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    if (!isUtf8(buf)) {
      let start = 0;
      for (let line = next; ; line++) {
        const nl = buf.indexOf(0x0a, start);
        const piece = buf.subarray(start, nl < 0 ? buf.length : nl);
        if (!isUtf8(piece)) throw new InputError(name, line, undefined, `invalid UTF-8 (${badByteAt(piece)})`);
        if (nl < 0) break;
        start = nl + 1;
      }
    }
    const lines = buf.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1);
    return lines;
  };
  for await (const raw of stream as AsyncIterable<Uint8Array>) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    const lastNl = buf.lastIndexOf(0x0a);
    if (lastNl < 0) {
      carry = buf;
      continue;
    }
    carry = lastNl + 1 < buf.length ? Buffer.from(buf.subarray(lastNl + 1)) : undefined;
    const lines = decode(buf.subarray(0, lastNl));
    yield { lines, firstLine: next };
    next += lines.length;
  }
  if (carry && carry.length > 0) yield { lines: decode(carry), firstLine: next };
}
