/**
 * Sum and mean over axes. Over everything: backend.sum (double accumulation) into a [] scalar (or
 * all-ones shape with keepDims). Over some axes: copyStrided with destination stride 0 on the
 * reduced axes, accumulating. Backward broadcasts the output gradient back (source stride 0).
 */
import { getBackend } from '../backends.js';
import { Tensor } from '../tensor.js';
import { gradTarget, needsGrad, record } from '../autograd.js';
import { contiguousStrides, foldDims, normAxis, sizeOf } from '../shapes.js';

export interface ReduceOptions {
  keepDims?: boolean;
}

/** Sum over `axes` (default: all). */
export function sum(x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  return reduce('sum', x, axes, opts, false);
}

/** Mean over `axes` (default: all). */
export function mean(x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  return reduce('mean', x, axes, opts, true);
}

function reduce(op: string, x: Tensor, axes: number | readonly number[] | undefined, opts: ReduceOptions, avg: boolean): Tensor {
  const be = getBackend();
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : axes;
  const red = new Set(list.map((a) => normAxis(op, a, x.ndim, x.shape)));
  const kept = x.shape.map((d, i) => (red.has(i) ? 1 : d));
  const outShape = opts.keepDims ? kept : x.shape.filter((_, i) => !red.has(i));
  const count = sizeOf(x.shape) / sizeOf(kept);
  const alpha = avg ? 1 / count : 1;
  const out = new Tensor(new Float32Array(sizeOf(outShape)), outShape);

  const all = red.size === x.ndim;
  const ks = contiguousStrides(kept);
  const dstS = x.shape.map((_, i) => (red.has(i) ? 0 : ks[i]!));
  const f = foldDims(op, x.shape, [contiguousStrides(x.shape), dstS]);
  if (all) out.data[0] = be.sum(x.size, x.data) * alpha;
  else be.copyStrided(f.shape, x.data, f.strides[0]!, out.data, f.strides[1]!, alpha, true);

  if (!needsGrad(x)) return out;
  return record(op, out, [x], (g) => {
    // a broadcast copy writes every element of x's gradient once, so a new buffer is overwritten
    const t = gradTarget(x);
    be.copyStrided(f.shape, g, f.strides[1]!, t.buf, f.strides[0]!, alpha, !t.fresh);
  });
}
