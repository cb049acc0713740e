/**
 * Softmax and log-softmax over the last dimension: x (..., C) -> y (..., C).
 * Backward: softmax dx += y * (dy - sum(dy * y)); log-softmax dx += dy - exp(y) * sum(dy).
 * Both kernels' backwards need only the output y, which the closure keeps.
 */
import type { Backend } from '../backend.js';
import { getBackend } from '../backends.js';
import { Tensor } from '../tensor.js';
import { gradOf, needsGrad, record } from '../autograd.js';
import { takeBuffer } from '../pool.js';
import { OpError } from '../../errors.js';

export function softmax(x: Tensor): Tensor {
  return rowOp('softmax', x, (b, r, c, xs, y) => b.softmax(r, c, xs, y), (b, r, c, y, dy, dx) => b.softmaxBackward(r, c, y, dy, dx));
}

export function logSoftmax(x: Tensor): Tensor {
  return rowOp('logSoftmax', x, (b, r, c, xs, y) => b.logSoftmax(r, c, xs, y), (b, r, c, y, dy, dx) => b.logSoftmaxBackward(r, c, y, dy, dx));
}

/** (rows, cols) of a tensor seen as a matrix over its last dimension. */
export function rowsCols(op: string, x: Tensor): { rows: number; cols: number } {
  if (x.ndim < 1) throw new OpError(op, 'needs at least a 1-D tensor, got a scalar');
  const cols = x.shape[x.ndim - 1]!;
  return { rows: cols === 0 ? 0 : x.size / cols, cols };
}

type RowKernel = (b: Backend, rows: number, cols: number, x: Float32Array, y: Float32Array) => void;
type RowBackward = (b: Backend, rows: number, cols: number, y: Float32Array, dy: Float32Array, dx: Float32Array) => void;

function rowOp(op: string, x: Tensor, forward: RowKernel, backward: RowBackward): Tensor {
  const { rows, cols } = rowsCols(op, x);
  const be = getBackend();
  const out = new Tensor(takeBuffer(x.size), x.shape);
  forward(be, rows, cols, x.data, out.data);
  if (!needsGrad(x)) return out;
  return record(op, out, [x], (g) => backward(be, rows, cols, out.data, g, gradOf(x)));
}
