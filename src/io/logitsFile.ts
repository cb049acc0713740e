/**
 * Teacher logits over a transfer corpus, in one append-only binary file that a labelling run can
 * be interrupted in and resumed from without re-labelling or losing a row.
 *
 *   0    'SLLOGIT1'
 *   8    u32 header length H (JSON, space-padded to a multiple of 8)   12  u32 0
 *   16   commit slot 0 (48 bytes)       64  commit slot 1 (48 bytes)
 *   112  header JSON: format, version, labels, teacher, corpus specs, dtype, classes, created
 *   112+H chunks, each: u32 'CHNK' | u32 rows | u32 CRC-32 of the payload | u32 0 |
 *        payload: rows x (u32, u32) text fingerprints | rows x u32 corpus positions |
 *                 rows x classes logits (f32, or f16), zero-padded to a multiple of 8 bytes
 *
 * Rows are the distinct texts of the corpus stream in order of first appearance; the position of
 * a row is the 0-based index of that text in the stream (duplicates counted), so the file indexes
 * back to the corpus it names: re-stream the corpus and the text at each position must have the
 * row's fingerprint (the first 8 bytes of its SHA-1).
 *
 * Commit protocol: a chunk is written past the committed end and fsynced; only then is a commit
 * record (generation, rows, texts of the stream consumed, committed bytes, finished flag, CRC)
 * written, into the slot the previous commit did not use, and fsynced. A reader takes the valid
 * slot with the higher generation, so a commit is all-or-nothing even if its write is torn, and
 * anything past the committed bytes (a chunk cut short by a kill) is a torn tail: ignored when
 * reading, cut off when resuming. A file shorter than its committed bytes was truncated (copied
 * short, disk full) and is refused.
 *
 * The float16 conversion is written here (Node 20 has no Float16Array); io/safetensors.ts holds
 * the same two helpers privately.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { InputError } from '../errors.js';
import { writeFileAtomicSync } from './atomic.js';
import { f16Bits, halfTable } from './half.js';

export const LOGITS_FORMAT = 'slimtext-logits';
export const LOGITS_VERSION = 1;

export type LogitsDType = 'f32' | 'f16';

export interface LogitsHeader {
  format: typeof LOGITS_FORMAT;
  version: number;
  /** Class labels in logit order. */
  labels: string[];
  /** What produced the logits (model folder, architecture, ...). */
  teacher: Record<string, unknown>;
  /** The corpus specs the rows index into, in stream order. */
  corpus: string[];
  dtype: LogitsDType;
  created: string;
}

export interface LogitsCommit {
  generation: number;
  rows: number;
  /** Texts of the corpus stream consumed (rows + duplicates skipped) up to this commit. */
  consumed: number;
  /** Committed end of the file in bytes. */
  bytes: number;
  /** The corpus was labelled to its end. */
  finished: boolean;
}

/** A whole logits file in memory. */
export interface LogitsData {
  path: string;
  header: LogitsHeader;
  commit: LogitsCommit;
  /** Row r's fingerprint is (fingerprints[2r], fingerprints[2r+1]). */
  fingerprints: Uint32Array;
  /** Corpus position of each row (strictly increasing). */
  positions: Uint32Array;
  /** rows x classes, row-major, as float32. */
  logits: Float32Array;
  /** Bytes past the committed end (a torn tail from an interrupted run), ignored. */
  tornBytes: number;
}

/** A text's fingerprint: the first 8 bytes of its UTF-8 SHA-1, as two u32 (little-endian halves). */
export function textFingerprint(text: string): [number, number] {
  const d = hash('sha1', text, 'buffer');
  return [d.readUInt32LE(0), d.readUInt32LE(4)];
}

/** Reads and checks a logits file (committed rows only). */
export function readLogitsFile(path: string): LogitsData {
  const fd = openOrThrow(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const { header, dataStart, commit } = readHead(fd, path, size);
    if (size < commit.bytes) {
      throw new InputError(path, undefined, undefined, `truncated: ${size} bytes, but ${commit.rows} committed rows end at byte ${commit.bytes} (the file was cut short after labelling; label again, or copy it whole)`);
    }
    const C = header.labels.length;
    const fingerprints = new Uint32Array(commit.rows * 2);
    const positions = new Uint32Array(commit.rows);
    const logits = new Float32Array(commit.rows * C);
    let r = 0;
    for (const ch of walkChunks(fd, path, dataStart, commit.bytes, C, header.dtype)) {
      fingerprints.set(ch.fingerprints, r * 2);
      positions.set(ch.positions, r);
      logits.set(ch.logits, r * C);
      r += ch.rows;
    }
    if (r !== commit.rows) throw new InputError(path, undefined, 'commit', `the commit record says ${commit.rows} rows but the chunks hold ${r}: the file is damaged`);
    for (let i = 1; i < r; i++) {
      if (positions[i]! <= positions[i - 1]!) throw new InputError(path, undefined, `row ${i}`, 'corpus positions out of order: the file is damaged');
    }
    return { path, header, commit, fingerprints, positions, logits, tornBytes: size - commit.bytes };
  } finally {
    closeSync(fd);
  }
}

/** Just the header and commit record (cheap: for checks before a resume or a long read). */
export function readLogitsHeader(path: string): { header: LogitsHeader; commit: LogitsCommit; size: number } {
  const fd = openOrThrow(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const { header, commit } = readHead(fd, path, size);
    return { header, commit, size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends chunks to a logits file. `create` starts a new file (atomically: a crash leaves no file
 * or an empty valid one); `resume` reopens one, cuts off any torn tail and carries on after the
 * last commit.
 */
export class LogitsWriter {
  private commitState: LogitsCommit;
  private closed = false;

  private constructor(
    readonly path: string,
    readonly header: LogitsHeader,
    private readonly fd: number,
    commit: LogitsCommit,
    /** Bytes that were cut off the end when resuming (a torn tail). */
    readonly droppedBytes: number,
  ) {
    this.commitState = commit;
  }

  static create(path: string, h: { labels: readonly string[]; teacher: Record<string, unknown>; corpus: readonly string[]; dtype?: LogitsDType }): LogitsWriter {
    if (h.labels.length < 1) throw new InputError(path, undefined, 'labels', 'a logits file needs at least one label');
    const header: LogitsHeader = {
      format: LOGITS_FORMAT,
      version: LOGITS_VERSION,
      labels: [...h.labels],
      teacher: h.teacher,
      corpus: [...h.corpus],
      dtype: h.dtype ?? 'f32',
      created: new Date().toISOString(),
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const hlen = pad8(json.length);
    const head = Buffer.alloc(DATA_OFFSET + hlen, 0x20);
    head.write(MAGIC, 0, 'ascii');
    head.writeUInt32LE(hlen, 8);
    head.writeUInt32LE(0, 12);
    const commit: LogitsCommit = { generation: 1, rows: 0, consumed: 0, bytes: DATA_OFFSET + hlen, finished: false };
    encodeSlot(commit).copy(head, SLOT_OFFSETS[1]);
    encodeSlot({ ...commit, generation: 0 }).copy(head, SLOT_OFFSETS[0]);
    json.copy(head, DATA_OFFSET);
    writeFileAtomicSync(path, head);
    return new LogitsWriter(path, header, openOrThrow(path, 'r+'), commit, 0);
  }

  static resume(path: string): LogitsWriter {
    const fd = openOrThrow(path, 'r+');
    try {
      const size = fstatSync(fd).size;
      const { header, dataStart, commit } = readHead(fd, path, size);
      if (size < commit.bytes) throw new InputError(path, undefined, undefined, `truncated: ${size} bytes, but the committed rows end at byte ${commit.bytes}; cannot resume (start again without --resume)`);
      // The committed chunks must read back before anything is appended after them.
      let rows = 0;
      for (const ch of walkChunks(fd, path, dataStart, commit.bytes, header.labels.length, header.dtype)) rows += ch.rows;
      if (rows !== commit.rows) throw new InputError(path, undefined, 'commit', `the commit record says ${commit.rows} rows but the chunks hold ${rows}: the file is damaged`);
      const dropped = size - commit.bytes;
      if (dropped > 0) {
        ftruncateSync(fd, commit.bytes);
        fsyncSync(fd);
      }
      return new LogitsWriter(path, header, fd, commit, dropped);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get commit(): Readonly<LogitsCommit> {
    return this.commitState;
  }

  get classes(): number {
    return this.header.labels.length;
  }

  /**
   * Appends `rows` rows and commits them. `consumed` is the number of corpus texts consumed so far
   * (so a resume knows where to pick up, duplicates included); `finished` marks the corpus done.
   */
  append(fingerprints: Uint32Array, positions: Uint32Array, logits: Float32Array, consumed: number, finished = false): void {
    if (this.closed) throw new Error('LogitsWriter: append after close');
    const rows = positions.length;
    const C = this.classes;
    if (fingerprints.length !== rows * 2 || logits.length !== rows * C) {
      throw new InputError(this.path, undefined, undefined, `chunk of ${rows} rows needs ${rows * 2} fingerprint words and ${rows * C} logits, got ${fingerprints.length} and ${logits.length}`);
    }
    const c = this.commitState;
    if (rows > 0) {
      const first = positions[0]!;
      if (c.rows > 0 && first < c.consumed) throw new InputError(this.path, undefined, undefined, `row position ${first} is before the ${c.consumed} texts already consumed`);
      const payload = encodePayload(fingerprints, positions, logits, this.header.dtype);
      const head = Buffer.alloc(CHUNK_HEAD);
      head.writeUInt32LE(CHUNK_MAGIC, 0);
      head.writeUInt32LE(rows, 4);
      head.writeUInt32LE(crc32(payload), 8);
      writeAll(this.fd, head, c.bytes);
      writeAll(this.fd, payload, c.bytes + CHUNK_HEAD);
      fsyncSync(this.fd);
    }
    const next: LogitsCommit = {
      generation: c.generation + 1,
      rows: c.rows + rows,
      consumed,
      bytes: c.bytes + (rows > 0 ? CHUNK_HEAD + payloadBytes(rows, C, this.header.dtype) : 0),
      finished,
    };
    writeAll(this.fd, encodeSlot(next), SLOT_OFFSETS[next.generation % 2]!);
    fsyncSync(this.fd);
    this.commitState = next;
  }

  /** The committed fingerprints and positions (for de-duplication and checks on resume). */
  committedIndex(): { fingerprints: Uint32Array; positions: Uint32Array } {
    const data = readLogitsFile(this.path);
    return { fingerprints: data.fingerprints, positions: data.positions };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

// ------------------------------------------------------------------------------------------------

const MAGIC = 'SLLOGIT1';
const SLOT_BYTES = 48;
const SLOT_OFFSETS = [16, 64] as const;
const DATA_OFFSET = 112;
const CHUNK_MAGIC = 0x4b4e4843; // 'CHNK'
const CHUNK_HEAD = 16;

const pad8 = (n: number) => Math.ceil(n / 8) * 8;

function payloadBytes(rows: number, C: number, dtype: LogitsDType): number {
  return pad8(rows * 12 + rows * C * (dtype === 'f16' ? 2 : 4));
}

function openOrThrow(path: string, flags: 'r' | 'r+'): number {
  try {
    return openSync(path, flags);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(path, undefined, undefined, code === 'ENOENT' ? 'no such logits file' : `cannot open logits file: ${(e as Error).message}`);
  }
}

function readAt(fd: number, path: string, pos: number, len: number, what: string): Buffer {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) throw new InputError(path, undefined, undefined, `truncated: the file ends inside the ${what} (byte ${pos + got})`);
    got += n;
  }
  return buf;
}

function writeAll(fd: number, buf: Uint8Array, pos: number): void {
  let off = 0;
  while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off, pos + off);
}

function encodeSlot(c: LogitsCommit): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  b.writeUInt32LE(c.generation >>> 0, 0);
  b.writeUInt32LE(c.finished ? 1 : 0, 4);
  b.writeDoubleLE(c.rows, 8);
  b.writeDoubleLE(c.consumed, 16);
  b.writeDoubleLE(c.bytes, 24);
  b.writeUInt32LE(crc32(b.subarray(0, 32)), 32);
  return b;
}

function decodeSlot(b: Buffer): LogitsCommit | undefined {
  if (b.readUInt32LE(32) !== crc32(b.subarray(0, 32))) return undefined;
  return { generation: b.readUInt32LE(0), finished: b.readUInt32LE(4) === 1, rows: b.readDoubleLE(8), consumed: b.readDoubleLE(16), bytes: b.readDoubleLE(24) };
}

function readHead(fd: number, path: string, size: number): { header: LogitsHeader; dataStart: number; commit: LogitsCommit } {
  if (size === 0) throw new InputError(path, undefined, undefined, 'empty file (not a logits file, or it was cut short)');
  const fixed = readAt(fd, path, 0, Math.min(DATA_OFFSET, size), 'file header');
  if (fixed.toString('ascii', 0, Math.min(8, fixed.length)) !== MAGIC) throw new InputError(path, undefined, undefined, 'not a slimtext logits file (bad magic)');
  if (size < DATA_OFFSET) throw new InputError(path, undefined, undefined, `truncated: ${size} bytes, shorter than the file header`);
  const hlen = fixed.readUInt32LE(8);
  const json = readAt(fd, path, DATA_OFFSET, hlen, 'header JSON');
  let header: LogitsHeader;
  try {
    header = JSON.parse(json.toString('utf8')) as LogitsHeader;
  } catch {
    throw new InputError(path, undefined, 'header', 'the file header is damaged (its JSON does not parse); label again');
  }
  if (header.format !== LOGITS_FORMAT) throw new InputError(path, undefined, 'format', `expected '${LOGITS_FORMAT}', got ${JSON.stringify(header.format)}`);
  if (header.version !== LOGITS_VERSION) throw new InputError(path, undefined, 'version', `version ${String(header.version)}; this slimtext reads version ${LOGITS_VERSION}`);
  if (!Array.isArray(header.labels) || header.labels.length === 0) throw new InputError(path, undefined, 'labels', 'missing');
  if (header.dtype !== 'f32' && header.dtype !== 'f16') throw new InputError(path, undefined, 'dtype', `expected f32 or f16, got ${JSON.stringify(header.dtype)}`);
  const slots = SLOT_OFFSETS.map((o) => decodeSlot(fixed.subarray(o, o + SLOT_BYTES)));
  const valid = slots.filter((s): s is LogitsCommit => s !== undefined);
  if (valid.length === 0) throw new InputError(path, undefined, 'commit', 'no valid commit record: the file header is damaged');
  const commit = valid.reduce((a, b) => (b.generation > a.generation ? b : a));
  const dataStart = DATA_OFFSET + hlen;
  if (commit.bytes < dataStart) throw new InputError(path, undefined, 'commit', 'the commit record points inside the header: the file is damaged');
  return { header, dataStart, commit };
}

interface Chunk {
  rows: number;
  fingerprints: Uint32Array;
  positions: Uint32Array;
  logits: Float32Array;
}

function* walkChunks(fd: number, path: string, start: number, end: number, C: number, dtype: LogitsDType): Generator<Chunk> {
  let pos = start;
  let k = 0;
  while (pos < end) {
    const head = readAt(fd, path, pos, CHUNK_HEAD, `chunk ${k} header`);
    if (head.readUInt32LE(0) !== CHUNK_MAGIC) throw new InputError(path, undefined, `chunk ${k}`, `bad chunk marker at byte ${pos}: the file is damaged`);
    const rows = head.readUInt32LE(4);
    const len = payloadBytes(rows, C, dtype);
    if (pos + CHUNK_HEAD + len > end) throw new InputError(path, undefined, `chunk ${k}`, `runs past the committed end (byte ${end}): the file is damaged`);
    const payload = readAt(fd, path, pos + CHUNK_HEAD, len, `chunk ${k}`);
    if (crc32(payload) !== head.readUInt32LE(8)) throw new InputError(path, undefined, `chunk ${k}`, 'CRC mismatch: the file is damaged');
    yield decodePayload(payload, rows, C, dtype);
    pos += CHUNK_HEAD + len;
    k++;
  }
}

function encodePayload(fps: Uint32Array, positions: Uint32Array, logits: Float32Array, dtype: LogitsDType): Buffer {
  const rows = positions.length;
  const C = logits.length / Math.max(rows, 1);
  const buf = Buffer.alloc(payloadBytes(rows, C, dtype));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // Explicit little-endian writes: the format must not depend on the host's byte order.
  for (let i = 0; i < fps.length; i++) dv.setUint32(i * 4, fps[i]!, true);
  const p0 = rows * 8;
  for (let i = 0; i < rows; i++) dv.setUint32(p0 + i * 4, positions[i]!, true);
  const l0 = rows * 12;
  if (dtype === 'f32') for (let i = 0; i < logits.length; i++) dv.setFloat32(l0 + i * 4, logits[i]!, true);
  else for (let i = 0; i < logits.length; i++) dv.setUint16(l0 + i * 2, f16Bits(logits[i]!), true);
  return buf;
}

function decodePayload(buf: Buffer, rows: number, C: number, dtype: LogitsDType): Chunk {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fingerprints = new Uint32Array(rows * 2);
  for (let i = 0; i < rows * 2; i++) fingerprints[i] = dv.getUint32(i * 4, true);
  const positions = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) positions[i] = dv.getUint32(rows * 8 + i * 4, true);
  const logits = new Float32Array(rows * C);
  const l0 = rows * 12;
  if (dtype === 'f32') for (let i = 0; i < logits.length; i++) logits[i] = dv.getFloat32(l0 + i * 4, true);
  else {
    const t = halfTable();
    for (let i = 0; i < logits.length; i++) logits[i] = t[dv.getUint16(l0 + i * 2, true)]!;
  }
  return { rows, fingerprints, positions, logits };
}

