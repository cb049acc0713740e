/**
 * Layer norm over the last dimension (biased variance, as BERT and PyTorch):
 *   x (..., C), gamma (C), beta (C) -> y (..., C) = (x - mean) * rstd * gamma + beta
 * Forward saves per-row mean and rstd; the backward kernel accumulates dx, dgamma, dbeta and
 * skips whichever does not need a gradient (a frozen LayerNorm costs only dx).
 *
 * residualLayerNorm(x, r, ...) = layerNorm(dropout(x) + r): a post-LN transformer's residual join
 * as one op, so dropout(x) and the sum stay private (pooled, freed with the graph) and only y is
 * allocated for the caller. Backward: ds = layerNormBackward; dr += ds; dx += ds * keep/(1-p).
 */
import { BinaryOp, type Backend } from '../backend.js';
import { getBackend } from '../backends.js';
import { Tensor } from '../tensor.js';
import { adoptGrad, gradOrNull, gradTarget, needsGrad, record } from '../autograd.js';
import { giveBack, takeBuffer, takeZeroed } from '../pool.js';
import { OpError } from '../../errors.js';
import { fmt, sameShape } from '../shapes.js';
import { rowsCols } from './softmax.js';

export interface ResidualLayerNormOptions {
  /** Dropout on x before the residual is added (training only). */
  dropout?: number;
  seed?: number;
}

export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-12): Tensor {
  const { rows, cols } = checkParams('layerNorm', x, gamma, beta);
  const be = getBackend();
  const out = new Tensor(takeBuffer(x.size), x.shape);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  be.layerNorm(rows, cols, x.data, gamma.data, beta.data, eps, out.data, mean, rstd);
  if (!needsGrad(x, gamma, beta)) return out;
  return record('layerNorm', out, [x, gamma, beta], (g) => {
    be.layerNormBackward(rows, cols, x.data, gamma.data, mean, rstd, g, gradOrNull(x), gradOrNull(gamma), gradOrNull(beta));
  });
}

/** layerNorm(dropout(x) + residual) for x and residual of the same shape (..., C). */
export function residualLayerNorm(
  x: Tensor, residual: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-12, opts: ResidualLayerNormOptions = {},
): Tensor {
  const op = 'residualLayerNorm';
  if (!sameShape(x.shape, residual.shape)) throw new OpError(op, `x ${fmt(x.shape)} and residual ${fmt(residual.shape)} shapes differ`);
  const { rows, cols } = checkParams(op, x, gamma, beta);
  const p = opts.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new OpError('dropout', `probability ${p} must be in [0, 1)`);
  if (p > 0 && opts.seed === undefined) throw new OpError(op, 'dropout needs a seed');
  const be = getBackend();
  const n = x.size;
  // sum = dropout(x) + residual, then y = layerNorm(sum)
  const sum = takeBuffer(n);
  let keep: Float32Array | undefined;
  if (p > 0) {
    keep = takeBuffer(n);
    be.dropout(n, p, opts.seed! >>> 0, x.data, sum, keep);
    elementwise(be, BinaryOp.Add, n, sum, residual.data, sum, false);
  } else {
    elementwise(be, BinaryOp.Add, n, x.data, residual.data, sum, false);
  }
  const out = new Tensor(takeBuffer(n), x.shape);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  be.layerNorm(rows, cols, sum, gamma.data, beta.data, eps, out.data, mean, rstd);
  const release = () => {
    giveBack(sum);
    giveBack(keep);
  };
  if (!needsGrad(x, residual, gamma, beta)) {
    release();
    return out;
  }
  return record(op, out, [x, residual, gamma, beta], (g) => {
    const ds = x.requiresGrad || residual.requiresGrad ? takeZeroed(n, (m, b) => be.fill(m, 0, b)) : null;
    be.layerNormBackward(rows, cols, sum, gamma.data, mean, rstd, g, ds, gradOrNull(gamma), gradOrNull(beta));
    if (!ds) return;
    if (x.requiresGrad) {
      const t = gradTarget(x);
      if (keep) elementwise(be, BinaryOp.Mul, n, ds, keep, t.buf, !t.fresh);
      else be.axpby(n, 1, ds, t.fresh ? 0 : 1, t.buf);
    }
    // ds is this closure's own buffer: the residual may keep it as its gradient
    if (residual.requiresGrad) adoptGrad(residual, ds);
    if (residual.grad !== ds) giveBack(ds);
  }, release);
}

function checkParams(op: string, x: Tensor, gamma: Tensor, beta: Tensor): { rows: number; cols: number } {
  const rc = rowsCols(op, x);
  if (gamma.size !== rc.cols || beta.size !== rc.cols) {
    throw new OpError(op, `gamma ${fmt(gamma.shape)} and beta ${fmt(beta.shape)} must have ${rc.cols} elements to normalise x ${fmt(x.shape)}`);
  }
  return rc;
}

// out[i] (+)= a[i] op b[i] over n contiguous elements.
function elementwise(be: Backend, op: BinaryOp, n: number, a: Float32Array, b: Float32Array, out: Float32Array, acc: boolean): void {
  const one = Int32Array.of(1);
  be.binary(op, Int32Array.of(n), a, one, b, one, out, acc);
}
