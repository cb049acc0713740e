/**
 * Tensors: a contiguous Float32Array plus a shape (ids: Int32Array plus a shape). Tensors are
 * always contiguous; reshape and first-dimension slices are free views (same buffer or a
 * `subarray`), and every other layout change is materialised by a kernel (ops/shape.ts).
 *
 * Gradients: `grad` is a dense buffer allocated lazily by the first backward that reaches the
 * tensor; `sparseGrad` is the row-sparse gradient embedding lookups give a leaf table (ids + rows,
 * never a dense vocab x dim buffer). Either may be undefined; frozen tensors never get either.
 */
import type { Node } from './autograd.js';
import { SparseGrad } from './sparseGrad.js';
import { getBackend } from './backends.js';
import { OpError } from '../errors.js';
import { fmt, sizeOf, type Shape } from './shapes.js';
import type { Rng } from './random.js';

export class Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  /** Whether gradients flow to (and through) this tensor. False on frozen parameters. */
  requiresGrad: boolean;
  /** Dense gradient, accumulated across backward calls until zeroGrad. */
  grad: Float32Array | undefined;
  /** Row-sparse gradient (leaf embedding tables only). */
  sparseGrad: SparseGrad | undefined;
  /** The recorded op that produced this tensor (undefined for leaves). @internal */
  node: Node | undefined;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    if (data.length !== sizeOf(shape)) {
      throw new OpError('tensor', `data has ${data.length} elements but shape ${fmt(shape)} needs ${sizeOf(shape)}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
    this.grad = undefined;
    this.sparseGrad = undefined;
    this.node = undefined;
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** True for tensors not produced by a recorded op (inputs, parameters). */
  get isLeaf(): boolean {
    return this.node === undefined;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new OpError('item', `tensor of shape ${fmt(this.shape)} has ${this.size} elements, not 1`);
    return this.data[0]!;
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** The gradient as a dense array (sparse rows scattered into zeros); for tests and small tensors. */
  denseGrad(): Float32Array | undefined {
    if (!this.grad && !this.sparseGrad) return undefined;
    const out = this.grad ? this.grad.slice() : new Float32Array(this.size);
    this.sparseGrad?.addInto(out);
    return out;
  }

  /** Drops accumulated gradients (keeps the dense buffer, zeroed, for reuse). */
  zeroGrad(): void {
    if (this.grad) getBackend().fill(this.grad.length, 0, this.grad);
    this.sparseGrad?.clear();
  }

  /** A new leaf tensor with the same values, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape, false);
  }

  toString(): string {
    return `Tensor${fmt(this.shape)}${this.requiresGrad ? ' (requires grad)' : ''}`;
  }
}

/** Integer ids (token ids, labels, offsets) with a shape. Never carries gradients. */
export class IntTensor {
  readonly data: Int32Array;
  readonly shape: readonly number[];

  constructor(data: Int32Array, shape: Shape = [data.length]) {
    if (data.length !== sizeOf(shape)) {
      throw new OpError('intTensor', `data has ${data.length} elements but shape ${fmt(shape)} needs ${sizeOf(shape)}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get size(): number {
    return this.data.length;
  }
}

/** Ids as accepted by lookups: an IntTensor, or a flat Int32Array / number list of shape [n]. */
export type IdsLike = IntTensor | Int32Array | readonly number[];

export function toIntTensor(ids: IdsLike): IntTensor {
  if (ids instanceof IntTensor) return ids;
  return new IntTensor(ids instanceof Int32Array ? ids : Int32Array.from(ids));
}

// ------------------------------------------------------------------ creation

export interface TensorOptions {
  requiresGrad?: boolean;
}

/** A tensor from a flat list of values (copied) and a shape (default: [values.length]). */
export function tensor(values: ArrayLike<number>, shape?: Shape, opts: TensorOptions = {}): Tensor {
  const data = Float32Array.from(values);
  return new Tensor(data, shape ?? [data.length], opts.requiresGrad ?? false);
}

export function zeros(shape: Shape, opts: TensorOptions = {}): Tensor {
  return new Tensor(new Float32Array(sizeOf(shape)), shape, opts.requiresGrad ?? false);
}

export function full(shape: Shape, value: number, opts: TensorOptions = {}): Tensor {
  const t = zeros(shape, opts);
  if (value !== 0) getBackend().fill(t.size, value, t.data);
  return t;
}

export function ones(shape: Shape, opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Normal(0, std^2) values from a seeded generator. */
export function randn(shape: Shape, rng: Rng, std = 1, opts: TensorOptions = {}): Tensor {
  const t = zeros(shape, opts);
  rng.fillNormal(t.data, 0, std);
  return t;
}

/** Uniform [lo, hi) values from a seeded generator. */
export function uniform(shape: Shape, rng: Rng, lo: number, hi: number, opts: TensorOptions = {}): Tensor {
  const t = zeros(shape, opts);
  rng.fillUniform(t.data, lo, hi);
  return t;
}
