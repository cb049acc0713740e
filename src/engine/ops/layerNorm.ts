/**
 * Layer norm over the last dimension (biased variance, as BERT and PyTorch):
 *   x (..., C), gamma (C), beta (C) -> y (..., C) = (x - mean) * rstd * gamma + beta
 * Forward saves per-row mean and rstd; the backward kernel accumulates dx, dgamma, dbeta and
 * skips whichever does not need a gradient (a frozen LayerNorm costs only dx).
 */
import { getBackend } from '../backends.js';
import { Tensor } from '../tensor.js';
import { gradOrNull, needsGrad, record } from '../autograd.js';
import { OpError } from '../../errors.js';
import { fmt } from '../shapes.js';
import { rowsCols } from './softmax.js';

export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-12): Tensor {
  const { rows, cols } = rowsCols('layerNorm', x);
  if (gamma.size !== cols || beta.size !== cols) {
    throw new OpError('layerNorm', `gamma ${fmt(gamma.shape)} and beta ${fmt(beta.shape)} must have ${cols} elements to normalise x ${fmt(x.shape)}`);
  }
  const be = getBackend();
  const out = new Tensor(new Float32Array(x.size), x.shape);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  be.layerNorm(rows, cols, x.data, gamma.data, beta.data, eps, out.data, mean, rstd);
  if (!needsGrad(x, gamma, beta)) return out;
  return record('layerNorm', out, [x, gamma, beta], (g) => {
    be.layerNormBackward(rows, cols, x.data, gamma.data, mean, rstd, g, gradOrNull(x), gradOrNull(gamma), gradOrNull(beta));
  });
}
