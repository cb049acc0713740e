/**
 * safetensors read and write (https://github.com/huggingface/safetensors, "Format"):
 *   8 bytes  N, little-endian u64: the header's length
 *   N bytes  JSON header: { name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str} }
 *   rest     the tensors' bytes, little-endian, row-major; offsets are relative to the end of the header
 *
 * Hand-written: the format is tiny (above), and there is no maintained JavaScript library for it
 * (Hugging Face's own implementations are Rust and Python).
 *
 * Reading gives float32 for every float dtype and int32 for every integer dtype, because those are
 * the engine's two element types. F32 and I32 tensors are zero-copy views into one buffer holding
 * the data section when their offset is 4-byte aligned (always, for files this module writes);
 * other dtypes are converted, and each conversion is listed in `notes` so a caller can say so.
 */
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { InputError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { f16FromF32Bits, halfTable } from './half.js';

/** The dtypes a safetensors header may name that this module reads. */
export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U32' | 'U16' | 'U8' | 'BOOL';

/** One tensor as read: `data` is float32 for float dtypes, int32 for integer and bool dtypes. */
export interface SafeTensor {
  /** The dtype stored in the file (before conversion). */
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface SafetensorsFile {
  path: string;
  /** In file order (sorted by data offset). */
  tensors: Map<string, SafeTensor>;
  /** The header's `__metadata__` (string to string), {} when absent. */
  metadata: Record<string, string>;
  /** One line per conversion or copy that was needed, e.g. "'w': F16 converted to float32". */
  notes: string[];
}

/** A header entry without the data: what `readSafetensorsHeader` returns. */
export interface TensorInfo {
  dtype: DType;
  shape: number[];
  /** Byte offsets into the data section, [begin, end). */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  path: string;
  headerBytes: number;
  /** Byte length of the data section (file size - 8 - headerBytes). */
  dataBytes: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/** A tensor to write. Float32 data is stored as F32 unless `dtype` asks for F16/BF16; Int32 as I32. */
export interface TensorToWrite {
  shape: readonly number[];
  data: Float32Array | Int32Array | Uint8Array | Int8Array;
  /** Stored dtype: F32 (default for Float32Array), F16 or BF16 (rounded to nearest even), I32, U8, I8. */
  dtype?: 'F32' | 'F16' | 'BF16' | 'I32' | 'U8' | 'I8';
}

/** Reads and validates a whole safetensors file. Errors name the file and the tensor. */
export async function readSafetensors(path: string, opts: ReadOptions = {}): Promise<SafetensorsFile> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const header = await readHeaderFrom(fh, path, size);
    const start = 8 + header.headerBytes;
    // One ArrayBuffer for the data section alone, so tensor alignment depends only on the tensors'
    // own offsets (not on the header's length) and aligned F32/I32 tensors can be views into it.
    const buf = new Uint8Array(opts.shared ? new SharedArrayBuffer(header.dataBytes) : new ArrayBuffer(header.dataBytes));
    await readFully(fh, buf, start, path);
    const notes: string[] = [];
    const tensors = new Map<string, SafeTensor>();
    for (const [name, info] of header.tensors) {
      if (opts.only && !opts.only(name)) continue;
      tensors.set(name, { dtype: info.dtype, shape: info.shape, data: decode(buf, info, name, path, notes) });
    }
    return { path, tensors, metadata: header.metadata, notes };
  } finally {
    await fh.close();
  }
}

export interface ReadOptions {
  /** Decode only the tensors whose names pass (the others' bytes are read but not converted). */
  only?: (name: string) => boolean;
  /** Read the data section into a SharedArrayBuffer (tensors that need no conversion are views into it). */
  shared?: boolean;
}

/** Reads and validates only the header (names, dtypes, shapes, offsets). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const fh = await open(path, 'r');
  try {
    return await readHeaderFrom(fh, path, (await fh.stat()).size);
  } finally {
    await fh.close();
  }
}

/**
 * Writes tensors (in the order given) atomically. Tensors are laid out by decreasing element size,
 * so every tensor starts at a multiple of its own element size and readers can map F32 data without
 * copying; the header is padded with spaces to a multiple of 8 bytes, as the format asks.
 */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata, path));
}

/** The chunks of a safetensors file (header, then each tensor's bytes, no joined copy). */
export function encodeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
  pathForErrors = '<safetensors>',
): Uint8Array[] {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const prepared = entries.map(([name, t]) => ({ name, ...prepareForWrite(name, t, pathForErrors) }));
  // Stable sort: equal sizes keep the caller's order.
  prepared.sort((a, b) => DTYPE_SIZE[b.dtype] - DTYPE_SIZE[a.dtype]);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new InputError(pathForErrors, undefined, '__metadata__', `metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const p of prepared) {
    header[p.name] = { dtype: p.dtype, shape: p.shape, data_offsets: [offset, offset + p.bytes.byteLength] };
    offset += p.bytes.byteLength;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((8 + json.byteLength) % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.byteLength));
  return [len, json, ...prepared.map((p) => p.bytes)];
}

// ------------------------------------------------------------------------------------------------

const DTYPE_SIZE: Record<DType, number> = {
  F64: 8, I64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1,
};

const LITTLE_ENDIAN = endianness() === 'LE';

/** The reference implementation refuses headers over 100 MB; a larger one means a corrupt length. */
const MAX_HEADER_BYTES = 100_000_000;

type Handle = Awaited<ReturnType<typeof open>>;

async function readFully(fh: Handle, buf: Uint8Array, position: number, path: string): Promise<void> {
  let off = 0;
  while (off < buf.byteLength) {
    const { bytesRead } = await fh.read(buf, off, buf.byteLength - off, position + off);
    if (bytesRead === 0) throw new InputError(path, undefined, undefined, `file ended after ${position + off} bytes while reading safetensors data (file changed while reading?)`);
    off += bytesRead;
  }
}

async function readHeaderFrom(fh: Handle, path: string, size: number): Promise<SafetensorsHeader> {
  const bad = (reason: string, field?: string): InputError => new InputError(path, undefined, field, `not a valid safetensors file: ${reason}`);
  if (size < 8) throw bad(`${size} bytes, shorter than the 8-byte header length`);
  const lenBuf = new Uint8Array(8);
  await readFully(fh, lenBuf, 0, path);
  const n64 = Buffer.from(lenBuf.buffer, lenBuf.byteOffset, 8).readBigUInt64LE();
  if (n64 > BigInt(size - 8)) throw bad(`header length ${n64} exceeds the ${size - 8} bytes after the length field`);
  const headerBytes = Number(n64);
  if (headerBytes > MAX_HEADER_BYTES) throw bad(`header length ${headerBytes} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const hbuf = new Uint8Array(headerBytes);
  await readFully(fh, hbuf, 8, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(hbuf.buffer, hbuf.byteOffset, headerBytes).toString('utf8'));
  } catch (e) {
    throw bad(`header is not JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('header JSON is not an object');
  const dataBytes = size - 8 - headerBytes;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw bad('__metadata__ is not an object', name);
      for (const [k, v] of Object.entries(entry)) if (typeof v !== 'string') throw bad(`__metadata__ value '${k}' is not a string`, name);
      metadata = entry as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(name, entry, dataBytes, bad));
  }
  // Offsets must not overlap (two tensors sharing bytes is a corrupt or hostile header).
  const sorted = [...tensors].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
  let reach: [string, TensorInfo] | undefined; // the tensor whose bytes end furthest so far
  for (const cur of sorted) {
    const [cn, c] = cur;
    if (c.dataOffsets[1] === c.dataOffsets[0]) continue; // empty tensors own no bytes
    if (reach && c.dataOffsets[0] < reach[1].dataOffsets[1]) {
      throw bad(`data_offsets [${c.dataOffsets.join(', ')}] overlap tensor '${reach[0]}' at [${reach[1].dataOffsets.join(', ')}]`, cn);
    }
    if (!reach || c.dataOffsets[1] > reach[1].dataOffsets[1]) reach = cur;
  }
  return { path, headerBytes, dataBytes, tensors: new Map(sorted), metadata };
}

function parseEntry(name: string, entry: unknown, dataBytes: number, bad: (r: string, f?: string) => InputError): TensorInfo {
  if (entry === null || typeof entry !== 'object') throw bad('entry is not an object', name);
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_SIZE)) {
    throw bad(`dtype ${JSON.stringify(e.dtype)} is not supported (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`, name);
  }
  const dtype = e.dtype as DType;
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`, name);
  }
  const shape = e.shape as number[];
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
    throw bad(`data_offsets ${JSON.stringify(offs)} is not [begin, end] with 0 <= begin <= end`, name);
  }
  const [begin, end] = offs as [number, number];
  if (end > dataBytes) throw bad(`data_offsets [${begin}, ${end}] run past the end of the data section (${dataBytes} bytes; file truncated?)`, name);
  const numel = shape.reduce((a, d) => a * d, 1);
  const want = numel * DTYPE_SIZE[dtype];
  if (end - begin !== want) {
    throw bad(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} shape [${shape.join(', ')}] needs ${want}`, name);
  }
  return { dtype, shape, dataOffsets: [begin, end] };
}

/** Decodes one tensor's bytes from the data section into float32 or int32. */
function decode(buf: Uint8Array<ArrayBufferLike>, info: TensorInfo, name: string, path: string, notes: string[]): Float32Array | Int32Array {
  const [begin, end] = info.dataOffsets;
  const n = (end - begin) / DTYPE_SIZE[info.dtype];
  const bytes = buf.subarray(begin, end);
  const dv = new DataView(buf.buffer, buf.byteOffset + begin, end - begin);
  const aligned = (buf.byteOffset + begin) % 4 === 0;
  // The conversions below are one-off loops at load time, not hot numerical code.
  switch (info.dtype) {
    case 'F32':
    case 'I32': {
      const Ctor = info.dtype === 'F32' ? Float32Array : Int32Array;
      if (LITTLE_ENDIAN) {
        if (aligned) return new Ctor(buf.buffer as ArrayBuffer, buf.byteOffset + begin, n);
        notes.push(`'${name}': ${info.dtype} data copied (offset not 4-byte aligned)`);
        return new Ctor(bytes.slice().buffer as ArrayBuffer);
      }
      notes.push(`'${name}': ${info.dtype} data byte-swapped (big-endian host)`);
      const out = new Ctor(n);
      for (let i = 0; i < n; i++) out[i] = info.dtype === 'F32' ? dv.getFloat32(i * 4, true) : dv.getInt32(i * 4, true);
      return out;
    }
    case 'F64': {
      notes.push(`'${name}': F64 converted to float32`);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      notes.push(`'${name}': F16 converted to float32`);
      const table = halfTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[dv.getUint16(i * 2, true)]!;
      return out;
    }
    case 'BF16': {
      notes.push(`'${name}': BF16 converted to float32`);
      // bfloat16 is the top half of a float32: shift its bits up.
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(i * 2, true) << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I64':
    case 'U32': {
      notes.push(`'${name}': ${info.dtype} converted to int32`);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = info.dtype === 'I64' ? dv.getBigInt64(i * 8, true) : BigInt(dv.getUint32(i * 4, true));
        if (v > 2147483647n || v < -2147483648n) {
          throw new InputError(path, undefined, name, `${info.dtype} value ${v} at index ${i} does not fit in int32`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'I16':
    case 'U16':
    case 'I8':
    case 'U8':
    case 'BOOL': {
      notes.push(`'${name}': ${info.dtype} converted to int32`);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = info.dtype === 'I16' ? dv.getInt16(i * 2, true)
          : info.dtype === 'U16' ? dv.getUint16(i * 2, true)
          : info.dtype === 'I8' ? dv.getInt8(i)
          : info.dtype === 'BOOL' ? (bytes[i]! !== 0 ? 1 : 0)
          : bytes[i]!;
      }
      return out;
    }
  }
}

function prepareForWrite(name: string, t: TensorToWrite, path: string): { dtype: DType; shape: number[]; bytes: Uint8Array } {
  const fail = (reason: string): InputError => new InputError(path, undefined, name, reason);
  if (name === '__metadata__') throw fail('a tensor cannot be named __metadata__');
  const shape = [...t.shape];
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw fail(`shape [${shape.join(', ')}] is not a list of non-negative integers`);
  const numel = shape.reduce((a, d) => a * d, 1);
  if (t.data.length !== numel) throw fail(`shape [${shape.join(', ')}] has ${numel} elements but the data has ${t.data.length}`);
  const natural: DType = t.data instanceof Float32Array ? 'F32' : t.data instanceof Int32Array ? 'I32' : t.data instanceof Int8Array ? 'I8' : 'U8';
  const dtype = t.dtype ?? natural;
  const viewOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (dtype === natural) {
    if (LITTLE_ENDIAN || DTYPE_SIZE[dtype] === 1) return { dtype, shape, bytes: viewOf(t.data) };
    const out = new Uint8Array(t.data.byteLength);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < t.data.length; i++) {
      if (dtype === 'F32') dv.setFloat32(i * 4, t.data[i]!, true);
      else dv.setInt32(i * 4, t.data[i]!, true);
    }
    return { dtype, shape, bytes: out };
  }
  if ((dtype === 'F16' || dtype === 'BF16') && t.data instanceof Float32Array) {
    const out = new Uint8Array(numel * 2);
    const dv = new DataView(out.buffer);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < numel; i++) {
      f[0] = t.data[i]!;
      dv.setUint16(i * 2, dtype === 'BF16' ? bf16FromF32Bits(u[0]!) : f16FromF32Bits(u[0]!), true);
    }
    return { dtype, shape, bytes: out };
  }
  throw fail(`cannot store ${t.data.constructor.name} data as ${dtype}`);
}

/** float32 bits -> bfloat16 bits, round to nearest even; NaN stays NaN. */
function bf16FromF32Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

