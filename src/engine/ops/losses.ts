/**
 * Losses, each returning a [] scalar:
 *   crossEntropy(logits (..., C), labels (...))           mean over rows of -log softmax(logits)[label]
 *   klDiv(student (..., C), teacher (..., C), {T})         T^2 * mean over rows of KL(p_teacher || softmax(student/T))
 *   mse(a, b)                                              mean of (a - b)^2 (same shapes)
 *   cosineSimilarity(a (..., D), b (..., D)) -> (...)      row-wise a.b / (|a| |b|)
 *
 * crossEntropy is fused (log-softmax kernel + gather of the label entries; its backward is one
 * logSoftmaxBackward with dy = -1/rows at the labels). mse is one op over existing kernels (the
 * difference is kept privately; loss = dot(d, d) / n; da = 2g/n d, db = -2g/n d), since regression
 * to hidden states runs it over whole activations. The others are compositions of ops, whose
 * gradients are already checked one by one; they are not hot enough to deserve kernels.
 */
import { getBackend } from '../backends.js';
import { Tensor, toIntTensor, type IdsLike } from '../tensor.js';
import { BinaryOp } from '../backend.js';
import { gradOf, gradTarget, needsGrad, record } from '../autograd.js';
import { OpError } from '../../errors.js';
import { fmt, sameShape } from '../shapes.js';
import { giveBack, takeBuffer } from '../pool.js';
import { rowsCols, logSoftmax } from './softmax.js';
import { addScalar, exp, log, mul, scale, sqrt, square, sub, div } from './elementwise.js';
import { sum } from './reduce.js';

export function crossEntropy(logits: Tensor, labelsLike: IdsLike): Tensor {
  const labels = toIntTensor(labelsLike).data;
  const { rows, cols } = rowsCols('crossEntropy', logits);
  if (labels.length !== rows) {
    throw new OpError('crossEntropy', `logits ${fmt(logits.shape)} have ${rows} rows but ${labels.length} labels were given`);
  }
  // Flat index of each row's label entry; checked here because an out-of-range label would
  // otherwise silently pick an entry of the next row.
  const idx = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const y = labels[r]!;
    if (!(y >= 0 && y < cols)) throw new OpError('crossEntropy', `label ${y} at row ${r} is outside [0, ${cols}) for logits ${fmt(logits.shape)}`);
    idx[r] = r * cols + y;
  }
  const be = getBackend();
  const logp = new Float32Array(logits.size);
  be.logSoftmax(rows, cols, logits.data, logp);
  const picked = new Float32Array(rows);
  be.gather(rows, 1, logits.size, logp, idx, picked);
  const out = new Tensor(Float32Array.of(-be.sum(rows, picked) / rows), []);
  if (!needsGrad(logits)) return out;
  return record('crossEntropy', out, [logits], (g) => {
    const dy = new Float32Array(logits.size);
    const ones = new Float32Array(rows);
    be.fill(rows, 1, ones);
    be.indexAdd(rows, 1, ones, idx, -g[0]! / rows, dy);
    be.logSoftmaxBackward(rows, cols, logp, dy, gradOf(logits));
  });
}

export interface KlOptions {
  /** Softening temperature T (default 1); the loss is scaled by T^2 as in Hinton et al. */
  temperature?: number;
  /** Whether `teacher` holds logits (softened by T here) or probabilities (used as given). */
  teacherIs?: 'logits' | 'probs';
}

export function klDiv(student: Tensor, teacher: Tensor, opts: KlOptions = {}): Tensor {
  const T = opts.temperature ?? 1;
  if (!(T > 0)) throw new OpError('klDiv', `temperature ${T} must be positive`);
  if (!sameShape(student.shape, teacher.shape)) {
    throw new OpError('klDiv', `student ${fmt(student.shape)} and teacher ${fmt(teacher.shape)} shapes differ`);
  }
  const { rows } = rowsCols('klDiv', student);
  const logq = logSoftmax(T === 1 ? student : scale(student, 1 / T));
  let p: Tensor;
  let logp: Tensor;
  if ((opts.teacherIs ?? 'logits') === 'logits') {
    logp = logSoftmax(T === 1 ? teacher : scale(teacher, 1 / T));
    p = exp(logp);
  } else {
    p = teacher;
    // The tiny offset keeps 0 * log 0 at 0 instead of NaN; it is far below float32 resolution of 1.
    logp = log(addScalar(p, 1e-30));
  }
  return scale(sum(mul(p, sub(logp, logq))), (T * T) / rows);
}

export function mse(a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new OpError('mse', `shapes ${fmt(a.shape)} and ${fmt(b.shape)} differ`);
  const be = getBackend();
  const n = a.size;
  const flat = Int32Array.of(n);
  const one = Int32Array.of(1);
  const d = takeBuffer(n);
  be.binary(BinaryOp.Sub, flat, a.data, one, b.data, one, d, false);
  const out = new Tensor(Float32Array.of(be.dot(n, d, d) / n), []);
  if (!needsGrad(a, b)) {
    giveBack(d);
    return out;
  }
  return record('mse', out, [a, b], (g) => {
    const s = (2 * g[0]!) / n;
    for (const [x, sign] of [[a, 1], [b, -1]] as const) {
      if (!x.requiresGrad) continue;
      const t = gradTarget(x);
      be.axpby(n, sign * s, d, t.fresh ? 0 : 1, t.buf);
    }
  }, () => giveBack(d));
}

export function cosineSimilarity(a: Tensor, b: Tensor, eps = 1e-8): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new OpError('cosineSimilarity', `shapes ${fmt(a.shape)} and ${fmt(b.shape)} differ`);
  const dot = sum(mul(a, b), -1);
  const norms = mul(sum(square(a), -1), sum(square(b), -1));
  return div(dot, sqrt(addScalar(norms, eps * eps)));
}
