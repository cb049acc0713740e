/**
 * Shape arithmetic shared by the ops: sizes, contiguous strides, numpy broadcasting, and folding an
 * index space down to the MAX_DIMS the strided kernels accept. Pure bookkeeping on shapes (a handful
 * of numbers), never on tensor elements.
 */
import { MAX_DIMS } from './backend.js';
import { OpError } from '../errors.js';

export type Shape = readonly number[];

/** Number of elements in a shape (1 for a scalar shape []). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor of this shape, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The numpy broadcast of two shapes, or an OpError naming `op` and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new OpError(op, `shapes ${fmt(a)} and ${fmt(b)} do not broadcast (dimension ${i} of the result: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides for reading a contiguous tensor of shape `from` as if it had the (broadcast) shape `to`:
 * 0 on dimensions that are broadcast or missing.
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const cs = contiguousStrides(from);
  const off = to.length - from.length;
  return to.map((d, i) => {
    const j = i - off;
    if (j < 0) return 0;
    return from[j] === 1 && d !== 1 ? 0 : cs[j]!;
  });
}

/**
 * Folds an index space with several stride lists into as few dimensions as possible: size-1
 * dimensions are dropped and neighbours merged where every stride list allows it. Throws an OpError
 * when more than MAX_DIMS dimensions remain (the kernels loop over at most that many).
 */
export function foldDims(op: string, shape: Shape, strides: readonly (readonly number[])[]): { shape: Int32Array; strides: Int32Array[] } {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => st[k]![last] === s[i]! * d)) {
      dims[last] = dims[last]! * d;
      strides.forEach((s, k) => { st[k]![last] = s[i]!; });
    } else {
      dims.push(d);
      strides.forEach((s, k) => st[k]!.push(s[i]!));
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    st.forEach((s) => s.push(0));
  }
  if (dims.length > MAX_DIMS) {
    throw new OpError(op, `index space ${fmt(shape)} needs ${dims.length} dimensions after folding; kernels take at most ${MAX_DIMS}`);
  }
  return { shape: Int32Array.from(dims), strides: st.map((s) => Int32Array.from(s)) };
}

/** Normalises a possibly negative axis against ndim, or throws an OpError. */
export function normAxis(op: string, axis: number, ndim: number, shape: Shape): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim) throw new OpError(op, `axis ${axis} is out of range for shape ${fmt(shape)}`);
  return a;
}
