/**
 * Matrix products with transpose flags (so transposes are rarely materialised) and batching:
 *
 *   matmul(a, b, {transA, transB, alpha}) = alpha * op(a) @ op(b)
 *   a: (...batch, M, K) (stored (...batch, K, M) when transA)
 *   b: (...batch, K, N) (stored (...batch, N, K) when transB)
 *   out: (...batch, M, N)
 *
 * a and b have the same batch dimensions, or one of them has none (it is then shared by every
 * batch entry: a Linear layer on (B, T, H) input). A batched `a` times a plain `b` without transA is
 * run as one big GEMM over all rows.
 *
 * Backward (for C = op(A) op(B), dC given):
 *   dA += dC @ op(B)^T        (stored transposed back when transA)
 *   dB += op(A)^T @ dC        (likewise for transB)
 * A gradient buffer created by this backward is written by the GEMM directly (beta 0), not zeroed
 * first and added into.
 *
 * linear(x, W, b) = x W^T + b is one op: the bias is copied into the output rows and the GEMM adds
 * onto it (beta 1), which costs what zeroing the output would, instead of a separate add that
 * reads and writes the whole output again and allocates a second one.
 */
import type { Backend } from '../backend.js';
import { getBackend } from '../backends.js';
import { Tensor } from '../tensor.js';
import { gradTarget, needsGrad, record } from '../autograd.js';
import { add, reduceInto } from './elementwise.js';
import { OpError } from '../../errors.js';
import { fmt, sameShape, sizeOf } from '../shapes.js';
import { takeBuffer } from '../pool.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const alpha = opts.alpha ?? 1;
  const p = plan(a, b, transA, transB);
  const be = getBackend();
  const out = new Tensor(takeBuffer(sizeOf(p.outShape)), p.outShape);
  gemm(be, p, false, alpha, a.data, b.data, out.data);
  if (!needsGrad(a, b)) return out;
  return record('matmul', out, [a, b], (g) => matmulBackward(be, p, alpha, g, a, b));
}

/** x @ w^T + bias for a weight stored [out, in] as PyTorch stores it; x is (..., in). */
export function linear(x: Tensor, w: Tensor, bias?: Tensor): Tensor {
  // Anything but a plain [out] bias keeps the general broadcasting add.
  if (!bias || bias.ndim !== 1 || w.ndim !== 2 || bias.size !== w.shape[0]) {
    const y = matmul(x, w, { transB: true });
    return bias ? add(y, bias) : y;
  }
  const p = plan(x, w, false, true);
  const be = getBackend();
  const rows = p.M * p.batch;
  const out = new Tensor(takeBuffer(sizeOf(p.outShape)), p.outShape);
  // every row of out = bias, then out += x w^T
  be.copyStrided(Int32Array.of(rows, p.N), bias.data, Int32Array.of(0, 1), out.data, Int32Array.of(p.N, 1), 1, false);
  gemm(be, p, true, 1, x.data, w.data, out.data);
  if (!needsGrad(x, w, bias)) return out;
  return record('linear', out, [x, w, bias], (g) => {
    matmulBackward(be, p, 1, g, x, w);
    if (bias.requiresGrad) reduceInto('linear', g, [rows, p.N], bias, 1);
  });
}

// ------------------------------------------------------------------ implementation

interface Plan {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  batch: number;
  /** Element strides between batch entries (0: shared). */
  sA: number;
  sB: number;
  /** a is batched, b is shared and !transA: fold a's batch into rows, one GEMM. */
  folded: boolean;
  outShape: number[];
}

function plan(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Plan {
  const what = () => `a ${fmt(a.shape)}${transA ? ' (transposed)' : ''}, b ${fmt(b.shape)}${transB ? ' (transposed)' : ''}`;
  if (a.ndim < 2 || b.ndim < 2) throw new OpError('matmul', `needs at least 2-D operands, got ${what()}`);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const Kb = transB ? bc : br;
  const N = transB ? br : bc;
  if (K !== Kb) throw new OpError('matmul', `inner dimensions differ (${K} vs ${Kb}): ${what()}`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  let batchShape: number[];
  if (batchA.length > 0 && batchB.length > 0) {
    if (!sameShape(batchA, batchB)) throw new OpError('matmul', `batch dimensions differ: ${what()}`);
    batchShape = batchA;
  } else {
    batchShape = batchA.length > 0 ? batchA : batchB;
  }
  const batch = sizeOf(batchShape);
  const sA = batchA.length > 0 ? M * K : 0;
  const sB = batchB.length > 0 ? K * N : 0;
  const folded = batchA.length > 0 && batchB.length === 0 && !transA;
  return { transA, transB, M, N, K, batch, sA, sB, folded, outShape: [...batchShape, M, N] };
}

// C (+)= alpha op(A) op(B) for every batch entry.
function gemm(be: Backend, p: Plan, acc: boolean, alpha: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  const { transA, transB, M, N, K } = p;
  const lda = transA ? M : K;
  const ldb = transB ? K : N;
  if (p.folded) {
    be.gemm(false, transB, M * p.batch, N, K, alpha, a, lda, 0, b, ldb, 0, acc ? 1 : 0, c, N, 0, 1);
  } else {
    be.gemm(transA, transB, M, N, K, alpha, a, lda, p.sA, b, ldb, p.sB, acc ? 1 : 0, c, N, M * N, p.batch);
  }
}

function matmulBackward(be: Backend, p: Plan, alpha: number, g: Float32Array, a: Tensor, b: Tensor): void {
  if (a.requiresGrad) {
    const t = gradTarget(a);
    gradA(be, p, alpha, g, b.data, t.buf, t.fresh ? 0 : 1);
  }
  if (b.requiresGrad) {
    const t = gradTarget(b);
    gradB(be, p, alpha, g, a.data, t.buf, t.fresh ? 0 : 1);
  }
}

// dA (stored as A is) = alpha * dC op(B)^T + beta * dA.
function gradA(be: Backend, p: Plan, alpha: number, g: Float32Array, b: Float32Array, da: Float32Array, beta: number): void {
  const { transA, transB, M, N, K } = p;
  const ldb = transB ? K : N;
  if (p.folded) {
    // (rows, K) += (rows, N) @ op(B)^T
    be.gemm(false, !transB, M * p.batch, K, N, alpha, g, N, 0, b, ldb, 0, beta, da, K, 0, 1);
    return;
  }
  if (p.sA === 0 && p.batch > 1) {
    // A is shared by every batch entry: sum the per-entry gradients one entry at a time.
    for (let i = 0; i < p.batch; i++) {
      gradA(be, { ...p, batch: 1, sB: 0 }, alpha, g.subarray(i * M * N), b.subarray(i * p.sB), da, i === 0 ? beta : 1);
    }
    return;
  }
  if (!transA) {
    // dA (M, K) += dC (M, N) @ op(B)^T
    be.gemm(false, !transB, M, K, N, alpha, g, N, M * N, b, ldb, p.sB, beta, da, K, M * K, p.batch);
  } else {
    // dA stored (K, M) += op(B) (K, N) @ dC^T
    be.gemm(transB, true, K, M, N, alpha, b, ldb, p.sB, g, N, M * N, beta, da, M, M * K, p.batch);
  }
}

// dB (stored as B is) = alpha * op(A)^T dC + beta * dB.
function gradB(be: Backend, p: Plan, alpha: number, g: Float32Array, a: Float32Array, db: Float32Array, beta: number): void {
  const { transA, transB, M, N, K } = p;
  const lda = transA ? M : K;
  if (p.folded) {
    const rows = M * p.batch;
    if (!transB) be.gemm(true, false, K, N, rows, alpha, a, K, 0, g, N, 0, beta, db, N, 0, 1);
    else be.gemm(true, false, N, K, rows, alpha, g, N, 0, a, K, 0, beta, db, K, 0, 1);
    return;
  }
  if (p.sB === 0 && p.batch > 1) {
    for (let i = 0; i < p.batch; i++) {
      gradB(be, { ...p, batch: 1, sA: 0 }, alpha, g.subarray(i * M * N), a.subarray(i * p.sA), db, i === 0 ? beta : 1);
    }
    return;
  }
  if (!transB) {
    // dB (K, N) += op(A)^T (K, M) @ dC (M, N)
    be.gemm(!transA, false, K, N, M, alpha, a, lda, p.sA, g, N, M * N, beta, db, N, K * N, p.batch);
  } else {
    // dB stored (N, K) += dC^T (N, M) @ op(A) (M, K)
    be.gemm(true, transA, N, K, M, alpha, g, N, M * N, a, lda, p.sA, beta, db, K, K * N, p.batch);
  }
}
