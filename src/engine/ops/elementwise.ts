/**
 * Element-wise ops: add/sub/mul/div with numpy broadcasting, scale, scalar add, and the unary
 * activations (relu, tanh, gelu (erf), exp, log, ...). Forward and backward side by side.
 *
 * Broadcasting backward: an input that was broadcast receives the output gradient summed over the
 * broadcast dimensions (copyStrided with destination stride 0, accumulating). An input of the
 * output's shape that has no gradient yet takes the output gradient over (adoptGrad) or has its
 * new gradient overwritten rather than zeroed and added into.
 */
import { BinaryOp, UnaryOp } from '../backend.js';
import { getBackend } from '../backends.js';
import { Tensor } from '../tensor.js';
import { adoptGrad, gradOf, gradTarget, needsGrad, record } from '../autograd.js';
import { giveBack, takeBuffer } from '../pool.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, foldDims, sameShape, sizeOf, type Shape } from '../shapes.js';

export function add(a: Tensor, b: Tensor): Tensor {
  return binaryOp('add', BinaryOp.Add, a, b);
}
export function sub(a: Tensor, b: Tensor): Tensor {
  return binaryOp('sub', BinaryOp.Sub, a, b);
}
export function mul(a: Tensor, b: Tensor): Tensor {
  return binaryOp('mul', BinaryOp.Mul, a, b);
}
export function div(a: Tensor, b: Tensor): Tensor {
  return binaryOp('div', BinaryOp.Div, a, b);
}

/** x * s for a number s. */
export function scale(x: Tensor, s: number): Tensor {
  const b = getBackend();
  const out = new Tensor(takeBuffer(x.size), x.shape);
  b.axpby(x.size, s, x.data, 0, out.data);
  if (!needsGrad(x)) return out;
  return record('scale', out, [x], (g) => adoptGrad(x, g, s));
}

/** x + c for a number c. */
export function addScalar(x: Tensor, c: number): Tensor {
  const b = getBackend();
  const out = new Tensor(takeBuffer(x.size), x.shape);
  const s = foldDims('addScalar', x.shape, [contiguousStrides(x.shape), x.shape.map(() => 0)]);
  b.binary(BinaryOp.Add, s.shape, x.data, s.strides[0]!, Float32Array.of(c), s.strides[1]!, out.data, false);
  if (!needsGrad(x)) return out;
  return record('addScalar', out, [x], (g) => adoptGrad(x, g));
}

export const relu = (x: Tensor): Tensor => unaryOp('relu', UnaryOp.Relu, x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', UnaryOp.Tanh, x);
/** GELU, exact erf form as BERT uses: 0.5 x (1 + erf(x / sqrt 2)). */
export const gelu = (x: Tensor): Tensor => unaryOp('gelu', UnaryOp.Gelu, x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', UnaryOp.Exp, x);
export const log = (x: Tensor): Tensor => unaryOp('log', UnaryOp.Log, x);
export const neg = (x: Tensor): Tensor => unaryOp('neg', UnaryOp.Neg, x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', UnaryOp.Sqrt, x);
export const square = (x: Tensor): Tensor => unaryOp('square', UnaryOp.Square, x);
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', UnaryOp.Sigmoid, x);
export const abs = (x: Tensor): Tensor => unaryOp('abs', UnaryOp.Abs, x);

// ------------------------------------------------------------------ implementation

// y = f(x), same shape; dx += f'(x) * dy.
function unaryOp(name: string, op: UnaryOp, x: Tensor): Tensor {
  const b = getBackend();
  const out = new Tensor(takeBuffer(x.size), x.shape);
  b.unary(op, x.size, x.data, out.data);
  if (!needsGrad(x)) return out;
  return record(name, out, [x], (g) => b.unaryBackward(op, x.size, x.data, out.data, g, gradOf(x)));
}

// out (broadcast of a and b) = a op b.
function binaryOp(name: string, op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const be = getBackend();
  const shape = broadcastShapes(name, a.shape, b.shape);
  const out = new Tensor(takeBuffer(sizeOf(shape)), shape);
  const aS = broadcastStrides(a.shape, shape);
  const bS = broadcastStrides(b.shape, shape);
  const f = foldDims(name, shape, [aS, bS]);
  be.binary(op, f.shape, a.data, f.strides[0]!, b.data, f.strides[1]!, out.data, false);
  if (!needsGrad(a, b)) return out;

  return record(name, out, [a, b], (g) => {
    switch (op) {
      // b before a: only the last reader of g may adopt it
      case BinaryOp.Add:
        if (b.requiresGrad) reduceInto(name, g, shape, b, 1);
        if (a.requiresGrad) reduceInto(name, g, shape, a, 1, true);
        break;
      case BinaryOp.Sub:
        if (b.requiresGrad) reduceInto(name, g, shape, b, -1);
        if (a.requiresGrad) reduceInto(name, g, shape, a, 1, true);
        break;
      case BinaryOp.Mul:
        // da += g * b, db += g * a (summed over broadcast dims)
        if (a.requiresGrad) productInto(name, BinaryOp.Mul, g, shape, b, a);
        if (b.requiresGrad) productInto(name, BinaryOp.Mul, g, shape, a, b);
        break;
      case BinaryOp.Div: {
        // da += g / b;  db += -g * out / b
        if (a.requiresGrad) productInto(name, BinaryOp.Div, g, shape, b, a);
        if (b.requiresGrad) {
          const t = takeBuffer(out.size);
          const c = contiguousStrides(shape);
          const fo = foldDims(name, shape, [c, c, broadcastStrides(b.shape, shape)]);
          be.binary(BinaryOp.Mul, fo.shape, g, fo.strides[0]!, out.data, fo.strides[1]!, t, false);
          be.binary(BinaryOp.Div, fo.shape, t, fo.strides[0]!, b.data, fo.strides[2]!, t, false);
          reduceInto(name, t, shape, b, -1);
          giveBack(t);
        }
        break;
      }
    }
  });
}

/**
 * grad(x) += alpha * (g summed down to x's shape); g is contiguous with shape `full`. `adopt`: g is
 * a closure's own output gradient, read for the last time here, so x may take it over.
 */
export function reduceInto(op: string, g: Float32Array, full: Shape, x: Tensor, alpha: number, adopt = false): void {
  const be = getBackend();
  if (sameShape(full, x.shape)) {
    if (adopt) {
      adoptGrad(x, g, alpha);
    } else {
      const t = gradTarget(x);
      be.axpby(x.size, alpha, g, t.fresh ? 0 : 1, t.buf);
    }
    return;
  }
  const f = foldDims(op, full, [contiguousStrides(full), broadcastStrides(x.shape, full)]);
  be.copyStrided(f.shape, g, f.strides[0]!, gradOf(x), f.strides[1]!, alpha, true);
}

/** grad(x) += reduce(g op other) to x's shape. */
function productInto(name: string, op: BinaryOp, g: Float32Array, full: Shape, other: Tensor, x: Tensor): void {
  const be = getBackend();
  const c = contiguousStrides(full);
  const oS = broadcastStrides(other.shape, full);
  const f = foldDims(name, full, [c, oS]);
  if (sameShape(full, x.shape)) {
    const t = gradTarget(x);
    be.binary(op, f.shape, g, f.strides[0]!, other.data, f.strides[1]!, t.buf, !t.fresh);
    return;
  }
  const t = takeBuffer(sizeOf(full));
  be.binary(op, f.shape, g, f.strides[0]!, other.data, f.strides[1]!, t, false);
  reduceInto(name, t, full, x, 1);
  giveBack(t);
}
