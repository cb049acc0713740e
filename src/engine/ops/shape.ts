/**
 * Layout ops. reshape and slices along the first dimension are free views (the output shares the
 * input's buffer); transpose/permute/slice on other axes/concat materialise through
 * backend.copyStrided. Backward of each is the inverse copy, accumulating.
 */
import { getBackend } from '../backends.js';
import { Tensor } from '../tensor.js';
import { adoptGrad, gradOf, gradTarget, needsGrad, record } from '../autograd.js';
import { takeBuffer } from '../pool.js';
import { OpError } from '../../errors.js';
import { contiguousStrides, fmt, foldDims, normAxis, sizeOf, type Shape } from '../shapes.js';

/** Same data, new shape (one dimension may be -1). A view: no copy. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const s = resolveShape(x, shape);
  const out = new Tensor(x.data, s);
  if (!needsGrad(x)) return out;
  return record('reshape', out, [x], (g) => adoptGrad(x, g));
}

/** Swaps two axes (materialised). */
export function transpose(x: Tensor, a0: number, a1: number): Tensor {
  const perm = x.shape.map((_, i) => i);
  const i0 = normAxis('transpose', a0, x.ndim, x.shape);
  const i1 = normAxis('transpose', a1, x.ndim, x.shape);
  perm[i0] = i1;
  perm[i1] = i0;
  return permute(x, perm);
}

/** out.shape[i] = x.shape[perm[i]] (materialised). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.ndim || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    throw new OpError('permute', `[${perm.join(', ')}] is not a permutation of the ${x.ndim} axes of ${fmt(x.shape)}`);
  }
  const be = getBackend();
  const xs = contiguousStrides(x.shape);
  const shape = perm.map((p) => x.shape[p]!);
  const out = new Tensor(takeBuffer(x.size), shape);
  const srcS = perm.map((p) => xs[p]!);
  const f = foldDims('permute', shape, [srcS, contiguousStrides(shape)]);
  be.copyStrided(f.shape, x.data, f.strides[0]!, out.data, f.strides[1]!, 1, false);
  if (!needsGrad(x)) return out;
  return record('permute', out, [x], (g) => {
    const t = gradTarget(x);
    be.copyStrided(f.shape, g, f.strides[1]!, t.buf, f.strides[0]!, 1, !t.fresh);
  });
}

/**
 * x[start:end] along `axis` (end exclusive). Along axis 0 this is a view (a subarray); along other
 * axes the slice is copied.
 */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normAxis('slice', axis, x.ndim, x.shape);
  const d = x.shape[ax]!;
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= d)) {
    throw new OpError('slice', `range [${start}, ${end}) is outside axis ${axis} (size ${d}) of ${fmt(x.shape)}`);
  }
  const be = getBackend();
  const shape = x.shape.map((s, i) => (i === ax ? end - start : s));
  const inner = sizeOf(x.shape.slice(ax + 1));
  if (ax === 0) {
    const out = new Tensor(x.data.subarray(start * inner, end * inner), shape);
    if (!needsGrad(x)) return out;
    return record('slice', out, [x], (g) => be.axpby(out.size, 1, g, 1, gradOf(x).subarray(start * inner)));
  }
  const out = new Tensor(takeBuffer(sizeOf(shape)), shape);
  const f = foldDims('slice', shape, [contiguousStrides(x.shape), contiguousStrides(shape)]);
  const off = start * inner;
  be.copyStrided(f.shape, x.data.subarray(off), f.strides[0]!, out.data, f.strides[1]!, 1, false);
  if (!needsGrad(x)) return out;
  return record('slice', out, [x], (g) => {
    be.copyStrided(f.shape, g, f.strides[1]!, gradOf(x).subarray(off), f.strides[0]!, 1, true);
  });
}

/** Joins tensors along `axis`; all other dimensions must agree. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new OpError('concat', 'needs at least one tensor');
  const first = xs[0]!;
  const ax = normAxis('concat', axis, first.ndim, first.shape);
  for (const x of xs) {
    if (x.ndim !== first.ndim || x.shape.some((s, i) => i !== ax && s !== first.shape[i])) {
      throw new OpError('concat', `shapes ${xs.map((t) => fmt(t.shape)).join(', ')} differ outside axis ${axis}`);
    }
  }
  const be = getBackend();
  const shape = first.shape.map((s, i) => (i === ax ? xs.reduce((n, x) => n + x.shape[ax]!, 0) : s));
  const out = new Tensor(takeBuffer(sizeOf(shape)), shape);
  const outS = contiguousStrides(shape);
  const inner = sizeOf(shape.slice(ax + 1));
  const parts = xs.map((x, k) => {
    const off = xs.slice(0, k).reduce((n, t) => n + t.shape[ax]!, 0) * inner;
    const f = foldDims('concat', x.shape, [contiguousStrides(x.shape), outS]);
    be.copyStrided(f.shape, x.data, f.strides[0]!, out.data.subarray(off), f.strides[1]!, 1, false);
    return { x, off, f };
  });
  if (!needsGrad(...xs)) return out;
  return record('concat', out, xs, (g) => {
    for (const { x, off, f } of parts) {
      if (!x.requiresGrad) continue;
      const t = gradTarget(x);
      be.copyStrided(f.shape, g.subarray(off), f.strides[1]!, t.buf, f.strides[0]!, 1, !t.fresh);
    }
  });
}

function resolveShape(x: Tensor, shape: Shape): number[] {
  const s = [...shape];
  const free = s.indexOf(-1);
  if (free >= 0) {
    const known = s.reduce((n, d, i) => (i === free ? n : n * d), 1);
    if (known === 0 || x.size % known !== 0) throw new OpError('reshape', `cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
    s[free] = x.size / known;
  }
  if (s.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(s) !== x.size) {
    throw new OpError('reshape', `cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  }
  return s;
}
