/**
 * The scratch arena in wasm linear memory: every kernel call resets it, reserves room for its
 * inputs and outputs, grows the memory if needed, copies inputs in (TypedArray.set, a memcpy) and
 * results out. Allocations are 64-byte aligned and rounded up to 64 bytes, so SIMD loops may run
 * past an array's end by up to 15 floats without touching a neighbour.
 */
import { OpError } from '../../errors.js';

const PAGE = 65536;
const ALIGN = 64;

export class Arena {
  f32!: Float32Array;
  i32!: Int32Array;
  u8!: Uint8Array;
  private top: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    private readonly base: number,
  ) {
    this.top = base;
    this.refresh();
  }

  /** Frees everything (the next kernel call starts from the base again). */
  reset(): void {
    this.top = this.base;
  }

  /** Reserves room for n 4-byte elements and returns its byte address. */
  alloc(n: number): number {
    const p = this.top;
    this.top += Math.max(ALIGN, Math.ceil((n * 4) / ALIGN) * ALIGN);
    return p;
  }

  /** The current top, to release back to (keeps what was reserved before it). */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  /** Bytes reserved since the last reset. */
  used(): number {
    return this.top - this.base;
  }

  /** Grows memory to hold every reservation so far; call before copying (views may change). */
  commit(kernel: string): void {
    const have = this.memory.buffer.byteLength;
    if (this.top > have) {
      try {
        this.memory.grow(Math.ceil((this.top - have) / PAGE));
      } catch {
        throw new OpError(kernel, `needs ${Math.ceil(this.top / 2 ** 20)} MiB of wasm memory, more than this wasm backend can address (4 GiB)`);
      }
    }
    if (this.f32.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    this.f32 = new Float32Array(buf);
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
  }

  /** Copies n floats of `src` to byte address p. */
  put(p: number, src: Float32Array, n: number): void {
    this.f32.set(n === src.length ? src : src.subarray(0, n), p >>> 2);
  }

  /** Copies n ints of `src` to byte address p. */
  putI32(p: number, src: Int32Array, n: number): void {
    this.i32.set(n === src.length ? src : src.subarray(0, n), p >>> 2);
  }

  /** Copies n floats from byte address p into dst. */
  get(p: number, dst: Float32Array, n: number): void {
    const o = p >>> 2;
    dst.set(this.f32.subarray(o, o + n));
  }

  /** Zeroes floats [n, roundUp4(n)) at byte address p (padding lanes read by reductions). */
  padZero(p: number, n: number): void {
    const o = p >>> 2;
    this.f32.fill(0, o + n, o + ((n + 3) & ~3));
  }
}
