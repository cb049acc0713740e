/**
 * The runtime's WebAssembly kernel (assembly/index.ts, inlined as base64 in kernelBytes.ts): one
 * instance, with its own memory, per loaded model. Compiled once per page or process, and only
 * where the engine validates it (WebAssembly with SIMD); elsewhere `kernel()` says undefined and
 * the model runs in plain JS. The module is about 1.3 KB, so compiling it synchronously is allowed
 * on a browser's main thread too (the limit there is 4 KB).
 */
import { KERNEL_WASM } from './kernelBytes.js';

export interface Kernel {
  /** Grows the memory to hold `bytes` more; returns the first (16-aligned) byte offset of them. Views taken before go stale. */
  reserve(bytes: number): number;
  u8(): Uint8Array;
  f32(): Float32Array;
  matvec(w: number, b: number, x: number, y: number, rows: number, cols: number): void;
  /** ncodes, nbook: a norm-quantised table's per-row u8 norm codes and f32 norm book, or 0, 0. */
  pqAdd(codes: number, wide: number, books: number, ids: number, n: number, M: number, K: number, sub: number, ncodes: number, nbook: number, acc: number): void;
  /** An int8 / int4 table's packed u8 codes and f32 (scale, offset) pairs; dim a multiple of 4. */
  quantAdd(q: number, bits: number, sb: number, ids: number, n: number, dim: number, acc: number): void;
  crc32(tables: number, data: number, len: number, crc: number): number;
}

interface Exports {
  memory: WebAssembly.Memory;
  matvec: Kernel['matvec'];
  pqAdd: Kernel['pqAdd'];
  quantAdd: Kernel['quantAdd'];
  crc32: Kernel['crc32'];
}

let compiled: WebAssembly.Module | null | undefined;

/** A fresh kernel instance, or undefined where WebAssembly SIMD is not available. */
export function kernel(): Kernel | undefined {
  if (compiled === undefined) compiled = compile();
  if (compiled === null) return undefined;
  const ex = new WebAssembly.Instance(compiled, {}).exports as unknown as Exports;
  let used = 16;
  return {
    reserve(bytes) {
      const at = used;
      used += Math.ceil(bytes / 16) * 16;
      const have = ex.memory.buffer.byteLength;
      if (used > have) ex.memory.grow(Math.ceil((used - have) / 65536));
      return at;
    },
    u8: () => new Uint8Array(ex.memory.buffer),
    f32: () => new Float32Array(ex.memory.buffer),
    matvec: ex.matvec,
    pqAdd: ex.pqAdd,
    quantAdd: ex.quantAdd,
    crc32: ex.crc32,
  };
}

/** Bytes checksummed per kernel call (copied into its memory first). */
const CRC_CHUNK = 1 << 16;
let crcState: { k: Kernel; tables: number; chunk: number } | null | undefined;

/**
 * CRC-32 of `b` by the kernel (slicing-by-8 tables `tables`, 8 x 256), or undefined where there
 * is no kernel. The bytes go through the kernel's memory a 64 KB chunk at a time.
 */
export function crc32Kernel(b: Uint8Array, tables: readonly Uint32Array[]): number | undefined {
  if (crcState === undefined) {
    const k = kernel();
    if (!k) crcState = null;
    else {
      const at = k.reserve(8 * 1024 + CRC_CHUNK);
      const u32 = new Uint32Array(k.u8().buffer);
      tables.forEach((t, i) => u32.set(t, at / 4 + i * 256));
      crcState = { k, tables: at, chunk: at + 8 * 1024 };
    }
  }
  if (!crcState) return undefined;
  const { k, tables: tp, chunk } = crcState;
  const mem = k.u8();
  let c = 0xffffffff;
  for (let o = 0; o < b.length; o += CRC_CHUNK) {
    const part = b.subarray(o, Math.min(b.length, o + CRC_CHUNK));
    mem.set(part, chunk);
    c = k.crc32(tp, chunk, part.length, c) >>> 0;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function compile(): WebAssembly.Module | null {
  try {
    if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
    const s = atob(KERNEL_WASM);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    if (!WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Module(bytes);
  } catch {
    return null;
  }
}
