/**
 * The one-file model format (`.slim`), shared by the writer (io/slimBundle.ts) and the runtime:
 *
 *   magic 'SLIMTEXT' (8 bytes) | u32 LE format version | u32 LE manifest length |
 *   manifest JSON (UTF-8, space-padded to 8 bytes) | data section (each blob 8-byte aligned) |
 *   u32 LE CRC-32 of every byte before it
 *
 * The manifest names each blob by offset and length into the data section: tensors (f32, f16,
 * u8, i32) in the forms the model keeps them (a compressed table stays compressed) and string
 * lists (vocabularies) front-coded. Everything is little-endian. A reader checks magic, version,
 * lengths and the checksum before it trusts a single offset, so a truncated, corrupted or newer
 * file is refused with a clear error, never half-read.
 *
 * Hand-written: the format is ours, and a general container library would pull dependencies into
 * the browser runtime for what is 100 lines.
 */

import { crc32Kernel } from './kernel.js';

export const MAGIC = 'SLIMTEXT';
/** The newest format version this runtime reads. */
export const FORMAT_VERSION = 2;
/** What the writer stamps: single-task bundles stay version 1 (older runtimes read them); multi-task bundles, new in 2, are refused by those as newer. */
export const SINGLE_TASK_FORMAT_VERSION = 1;
export const MULTITASK_FORMAT_VERSION = 2;
/** Multi-task bundles: task T's branch tensors are named `task.T.` + the standalone model's names. */
export const TASK_PREFIX = 'task.';
/** magic + version + manifest length. */
export const HEADER_BYTES = 16;

export type BlobDtype = 'f32' | 'f16' | 'u8' | 'i32';

export interface TensorEntry {
  dtype: BlobDtype;
  shape: number[];
  offset: number;
  bytes: number;
}

export interface StringsEntry {
  /** 'front-coded': (prefix, suffix) lengths in UTF-16 units as varints, then the suffixes as one UTF-8 text (encodeFrontCoded). */
  encoding: 'front-coded';
  count: number;
  offset: number;
  bytes: number;
}

/** Table layouts (the same as models/tables/table.ts TableSpec). */
export interface TableInfo {
  kind: 'dense' | 'int8' | 'int4' | 'lowrank' | 'pq' | 'codes';
  rows: number;
  dim: number;
  rank?: number;
  books?: number;
  words?: number;
  /** pq: row norms quantised apart (norm_codes, norm_book tensors). */
  qnorm?: boolean;
}

export interface DanInfo {
  /** n-grams in the vocabulary (ids 0..vocab-1, in the sorted order of the `ngrams` string list). */
  vocab: number;
  buckets: number;
  maxN: number;
  lowercase: boolean;
  dim: number;
  hidden: number;
  table: TableInfo;
}

export interface TransformerInfo {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  act: 'gelu' | 'relu';
  eps: number;
  maxPositions: number;
  pooling: 'cls' | 'mean';
  usePooler: boolean;
  /** Truncation length, special tokens included. */
  maxLength: number;
  /** The word-embedding table's layout (tensors under bert.embeddings.word_embeddings.); absent: dense f32 `weight`. */
  wordTable?: TableInfo;
  tokenizer: {
    lowercase: boolean;
    stripAccents: boolean;
    cls: number;
    sep: number;
    unk: number;
    /** Special tokens matched in raw text before normalising ([CLS], [MASK], ...), with their ids. */
    special: Record<string, number>;
    prefix: string;
    maxCharsPerWord: number;
  };
}

/** One task of a multi-task bundle: a branch of encoder layers from `startLayer` of the trunk, then its head. */
export interface MultiTaskInfo {
  name: string;
  labels: string[];
  startLayer: number;
  layers: number;
  pooling: 'cls' | 'mean';
  usePooler: boolean;
}

export interface SlimManifest {
  format: 'slimtext-bundle';
  version: number;
  /** 'dan' | 'transformer' | 'multitask' (version 2: `transformer` is the trunk, `tasks` the branches, `labels` empty). */
  kind: string;
  task: string;
  labels: string[];
  dan?: DanInfo;
  transformer?: TransformerInfo;
  tasks?: MultiTaskInfo[];
  tensors: Record<string, TensorEntry>;
  strings: Record<string, StringsEntry>;
  dataBytes: number;
  /** Free-form facts from the source model (recipe, metrics, how it was exported). */
  meta?: Record<string, unknown>;
}

/** A bundle that cannot be read: says what is wrong with it. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/**
 * The parsed container: manifest and typed views of its blobs. f32/i32/u8 tensors are views on
 * the caller's bytes (no copy when aligned, which the writer ensures), so a model's weights stay
 * where they were read; f16 tensors are widened into new arrays.
 */
export interface Container {
  manifest: SlimManifest;
  bytes: number;
  tensor(name: string): Float32Array | Uint8Array | Int32Array;
  floats(name: string): Float32Array;
  /** The raw half-float bits of a tensor stored f16 (for readers that widen rows on demand), else undefined. */
  halves(name: string): Uint16Array | undefined;
  strings(name: string): string[];
}

export function toBytes(input: unknown): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const what = input === null ? 'null' : typeof input === 'object' ? (input as object).constructor?.name ?? 'object' : typeof input;
  throw new BundleError(`loadBundle needs the bundle's bytes (Uint8Array or ArrayBuffer), got ${what}`);
}

/** Checks and parses a bundle's bytes. */
export function parseContainer(bytes: Uint8Array): Container {
  if (bytes.length < HEADER_BYTES + 4) throw new BundleError(`not a slimtext bundle: ${bytes.length} bytes is too short`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC.charCodeAt(i)) throw new BundleError('not a slimtext bundle (bad magic: expected the file to start with SLIMTEXT; export one with `slimtext export --format bundle`)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version > FORMAT_VERSION) throw new BundleError(`bundle format version ${version} is newer than this runtime reads (${FORMAT_VERSION}): update slimtext`);
  if (version < 1) throw new BundleError(`bad bundle format version ${version}`);
  const mlen = dv.getUint32(12, true);
  if (HEADER_BYTES + mlen + 4 > bytes.length) throw new BundleError(`bundle is truncated: its manifest needs ${mlen} bytes, only ${bytes.length - HEADER_BYTES - 4} follow`);
  const base = align8(HEADER_BYTES + mlen);
  let manifest: SlimManifest;
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + mlen))) as SlimManifest;
  } catch (e) {
    throw new BundleError(`bundle is corrupted: its manifest is not JSON (${(e as Error).message})`);
  }
  if (typeof manifest !== 'object' || manifest === null || manifest.format !== 'slimtext-bundle') throw new BundleError('bundle is corrupted: the manifest is not a slimtext-bundle manifest');
  if (!Number.isInteger(manifest.dataBytes) || manifest.dataBytes < 0) throw new BundleError('bundle is corrupted: manifest.dataBytes is missing');
  const expected = base + manifest.dataBytes + 4;
  if (bytes.length < expected) throw new BundleError(`bundle is truncated: ${bytes.length} bytes, the manifest says ${expected}`);
  if (bytes.length > expected) throw new BundleError(`bundle has ${bytes.length - expected} bytes of trailing data after its checksum (corrupted or two files joined)`);
  const stored = dv.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) throw new BundleError(`bundle is corrupted: checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})`);
  const data = bytes.subarray(base, base + manifest.dataBytes);
  const blob = (what: string, e: { offset: number; bytes: number } | undefined, name: string): Uint8Array => {
    if (!e || !Number.isInteger(e.offset) || !Number.isInteger(e.bytes) || e.offset < 0 || e.bytes < 0 || e.offset + e.bytes > data.length) {
      throw new BundleError(`bundle is corrupted: ${what} ${name} is missing or out of range`);
    }
    return data.subarray(e.offset, e.offset + e.bytes);
  };
  const tensor = (name: string): Float32Array | Uint8Array | Int32Array => {
    const e = manifest.tensors?.[name];
    const b = blob('tensor', e, name);
    const n = e!.shape.reduce((a, x) => a * x, 1);
    const size = { f32: 4, f16: 2, u8: 1, i32: 4 }[e!.dtype];
    if (size === undefined || n * size !== b.length) throw new BundleError(`bundle is corrupted: tensor ${name} (${e!.dtype} [${e!.shape.join(', ')}]) does not fit its ${b.length} bytes`);
    switch (e!.dtype) {
      case 'u8':
        return b;
      case 'f16':
        return halfToFloat(b, n);
      case 'f32':
        return b.byteOffset % 4 === 0 ? new Float32Array(b.buffer, b.byteOffset, n) : new Float32Array(b.slice().buffer, 0, n);
      case 'i32':
        return b.byteOffset % 4 === 0 ? new Int32Array(b.buffer, b.byteOffset, n) : new Int32Array(b.slice().buffer, 0, n);
    }
  };
  return {
    manifest,
    bytes: bytes.length,
    tensor,
    floats(name) {
      const t = tensor(name);
      if (!(t instanceof Float32Array)) throw new BundleError(`bundle is corrupted: tensor ${name} should be floating point`);
      return t;
    },
    halves(name) {
      const e = manifest.tensors?.[name];
      if (e?.dtype !== 'f16') return undefined;
      const b = blob('tensor', e, name);
      const n = e.shape.reduce((a, x) => a * x, 1);
      if (n * 2 !== b.length) throw new BundleError(`bundle is corrupted: tensor ${name} (f16 [${e.shape.join(', ')}]) does not fit its ${b.length} bytes`);
      return b.byteOffset % 2 === 0 ? new Uint16Array(b.buffer, b.byteOffset, n) : new Uint16Array(b.slice().buffer);
    },
    strings(name) {
      const e = manifest.strings?.[name];
      return decodeFrontCoded(blob('string list', e, name), e!.count, name);
    },
  };
}

export function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

// ---- front coding ----------------------------------------------------------------------------

/**
 * Front-codes strings (best sorted, so neighbours share prefixes): a varint block of (shared
 * prefix, suffix length) pairs counted in UTF-16 code units, then every suffix as one UTF-8 text.
 * The reader decodes that text with one TextDecoder call and builds each string as a slice of the
 * previous one plus a slice of it: tens of thousands of strings in a few milliseconds.
 */
export function encodeFrontCoded(sorted: readonly string[]): Uint8Array {
  const lens: number[] = [];
  let suffixes = '';
  let prev = '';
  for (const s of sorted) {
    let p = 0;
    const lim = Math.min(prev.length, s.length);
    while (p < lim && prev.charCodeAt(p) === s.charCodeAt(p)) p++;
    // Never split a surrogate pair between prefix and suffix (the suffix must be valid UTF-16).
    if (p > 0 && p < s.length && isLowSurrogate(s.charCodeAt(p))) p--;
    varint(lens, p);
    varint(lens, s.length - p);
    suffixes += s.slice(p);
    prev = s;
  }
  const head: number[] = [];
  varint(head, lens.length);
  const text = new TextEncoder().encode(suffixes);
  const out = new Uint8Array(head.length + lens.length + text.length);
  out.set(head);
  out.set(lens, head.length);
  out.set(text, head.length + lens.length);
  return out;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c < 0xe000;
}

function varint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

export function decodeFrontCoded(b: Uint8Array, count: number, name: string): string[] {
  const bad = (): never => {
    throw new BundleError(`bundle is corrupted: string list ${name} does not decode`);
  };
  let o = 0;
  const read = (end: number): number => {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      if (o >= end || shift > 28) bad();
      const x = b[o++]!;
      n |= (x & 0x7f) << shift;
      if (x < 0x80) return n >>> 0;
    }
  };
  const lensBytes = read(b.length);
  const lensEnd = o + lensBytes;
  if (lensEnd > b.length) bad();
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(lensEnd));
  } catch {
    bad();
  }
  const out = new Array<string>(count);
  let prev = '';
  let at = 0;
  for (let i = 0; i < count; i++) {
    const p = read(lensEnd);
    const n = read(lensEnd);
    if (p > prev.length || at + n > text.length) bad();
    prev = (p === 0 ? '' : prev.slice(0, p)) + text.slice(at, at + n);
    at += n;
    out[i] = prev;
  }
  if (o !== lensEnd || at !== text.length) bad();
  return out;
}

// ---- checksum and half floats ----------------------------------------------------------------

let CRC_TABLES: Uint32Array[] | undefined;

/**
 * CRC-32 (IEEE 802.3, as zlib and PNG), slicing-by-8: eight 256-entry tables let the loop take
 * eight bytes a step instead of one (a bundle's whole length is checked at every load; a 10 MB
 * transformer bundle took ~30 ms byte by byte). Past 16 KB the same loop runs in the runtime's
 * WebAssembly kernel (no bounds check per byte) where there is one.
 */
export function crc32(b: Uint8Array): number {
  if (!CRC_TABLES) {
    const t0 = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t0[n] = c >>> 0;
    }
    CRC_TABLES = [t0];
    for (let k = 1; k < 8; k++) {
      const prev = CRC_TABLES[k - 1]!, t = new Uint32Array(256);
      for (let n = 0; n < 256; n++) t[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
      CRC_TABLES.push(t);
    }
  }
  if (b.length >= 1 << 14) {
    const viaKernel = crc32Kernel(b, CRC_TABLES);
    if (viaKernel !== undefined) return viaKernel;
  }
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = 0xffffffff;
  let i = 0;
  const end8 = b.length - (b.length % 8);
  for (; i < end8; i += 8) {
    const lo = c ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
    c = t7[lo & 0xff]! ^ t6[(lo >>> 8) & 0xff]! ^ t5[(lo >>> 16) & 0xff]! ^ t4[lo >>> 24]! ^
      t3[b[i + 4]!]! ^ t2[b[i + 5]!]! ^ t1[b[i + 6]!]! ^ t0[b[i + 7]!]!;
  }
  for (; i < b.length; i++) c = t0[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

let HALF_LUT: Float32Array | undefined;

/** Every half bit pattern widened (256 KB, built once): a row read from an f16 table is one lookup a value. */
export function halfLut(): Float32Array {
  if (!HALF_LUT) {
    const all = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) all[i] = i;
    HALF_LUT = halfToFloat(new Uint8Array(all.buffer), 65536);
  }
  return HALF_LUT;
}

/**
 * float16 -> float32, by bits: a normal half's exponent and mantissa shift into place with the
 * exponent rebased (+112 << 10), so most values cost a shift and an add; zeros, subnormals, inf
 * and NaN (exponent 0 or 31) take the arithmetic way. (The first version did every value with
 * `2 **`, which made f16 bundles load slower than f32 ones.)
 */
export function halfToFloat(b: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const h16 = b.byteOffset % 2 === 0 ? new Uint16Array(b.buffer, b.byteOffset, n) : new Uint16Array(b.slice(0, 2 * n).buffer);
  for (let i = 0; i < n; i++) {
    const h = h16[i]!;
    const e = h & 0x7c00;
    bits[i] = ((h & 0x8000) << 16) | (((h & 0x7fff) + 0x1c000) << 13);
    if (e === 0 || e === 0x7c00) out[i] = specialHalf(h);
  }
  return out;
}

/** A half with exponent 0 (zero, subnormal) or 31 (inf, NaN). */
function specialHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const m = h & 0x3ff;
  return (h & 0x7c00) === 0 ? s * m * 2 ** -24 : m ? NaN : s * Infinity;
}
