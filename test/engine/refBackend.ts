/**
 * TEST-ONLY ORACLE: a plain-JS implementation of the whole `Backend` interface, written for
 * obviousness, not speed (scalar loops, double-precision accumulation). Kernel tests and op
 * gradient checks compare the real backends against it; never use it outside tests.
 * Its `name` is cast to 'native' only because the interface admits no third name.
 */
import { BinaryOp, UnaryOp, hashUniform, MAX_DIMS, type Backend, type F32, type I32 } from '../../src/engine/backend.js';

export const refBackend: Backend = {
  name: 'ref' as unknown as 'native',

  threads: () => refThreads,
  setThreads(n: number): void {
    refThreads = Math.max(1, Math.floor(n));
  },

  gemm(transA, transB, M, N, K, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch) {
    for (let bi = 0; bi < batch; bi++) {
      const oa = bi * strideA, ob = bi * strideB, oc = bi * strideC;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) {
            const av = transA ? a[oa + k * lda + i] : a[oa + i * lda + k];
            const bv = transB ? b[ob + j * ldb + k] : b[ob + k * ldb + j];
            s += av * bv;
          }
          const ci = oc + i * ldc + j;
          // BLAS semantics: beta = 0 means C's old contents (even NaN) are not read.
          c[ci] = alpha * s + (beta === 0 ? 0 : beta * c[ci]);
        }
      }
    }
  },

  binary(op, shape, a, aStrides, b, bStrides, out, accumulate) {
    let o = 0;
    forEachIndex(shape, (idx) => {
      const av = a[offset(idx, aStrides)], bv = b[offset(idx, bStrides)];
      const r = binaryOp(op, av, bv);
      out[o] = accumulate ? out[o] + r : r;
      o++;
    });
  },

  copyStrided(shape, src, srcStrides, dst, dstStrides, alpha, accumulate) {
    forEachIndex(shape, (idx) => {
      const d = offset(idx, dstStrides);
      const v = alpha * src[offset(idx, srcStrides)];
      dst[d] = accumulate ? dst[d] + v : v;
    });
  },

  unary(op, n, x, y) {
    for (let i = 0; i < n; i++) y[i] = unaryOp(op, x[i]);
  },

  unaryBackward(op, n, x, y, dy, dx) {
    for (let i = 0; i < n; i++) dx[i] += unaryGrad(op, x[i], y[i]) * dy[i];
  },

  axpby(n, alpha, x, beta, y) {
    for (let i = 0; i < n; i++) y[i] = alpha * x[i] + (beta === 0 ? 0 : beta * y[i]);
  },

  fill(n, value, x) {
    for (let i = 0; i < n; i++) x[i] = value;
  },

  sum(n, x) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i];
    return s;
  },

  dot(n, x, y) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * y[i];
    return s;
  },

  sumSquares(n, x) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return s;
  },

  allFinite(n, x) {
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) return false;
    return true;
  },

  softmax(rows, cols, x, y) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) mx = Math.max(mx, x[o + j]);
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(x[o + j] - mx);
      for (let j = 0; j < cols; j++) y[o + j] = Math.exp(x[o + j] - mx) / s;
    }
  },

  softmaxBackward(rows, cols, y, dy, dx) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += dy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] += y[o + j] * (dy[o + j] - s);
    }
  },

  logSoftmax(rows, cols, x, y) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) mx = Math.max(mx, x[o + j]);
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(x[o + j] - mx);
      const lse = mx + Math.log(s);
      for (let j = 0; j < cols; j++) y[o + j] = x[o + j] - lse;
    }
  },

  logSoftmaxBackward(rows, cols, y, dy, dx) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += dy[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] += dy[o + j] - Math.exp(y[o + j]) * s;
    }
  },

  layerNorm(rows, cols, x, gamma, beta, eps, y, mean, rstd) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += x[o + j];
      const mu = s / cols;
      let v = 0;
      for (let j = 0; j < cols; j++) v += (x[o + j] - mu) ** 2;
      const rs = 1 / Math.sqrt(v / cols + eps);
      for (let j = 0; j < cols; j++) y[o + j] = (x[o + j] - mu) * rs * gamma[j] + beta[j];
      mean[r] = mu;
      rstd[r] = rs;
    }
  },

  layerNormBackward(rows, cols, x, gamma, mean, rstd, dy, dx, dgamma, dbeta) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const mu = mean[r], rs = rstd[r];
      // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), with g = dy * gamma.
      let sg = 0, sgx = 0;
      for (let j = 0; j < cols; j++) {
        const xhat = (x[o + j] - mu) * rs;
        const g = dy[o + j] * gamma[j];
        sg += g;
        sgx += g * xhat;
        if (dgamma) dgamma[j] += dy[o + j] * xhat;
        if (dbeta) dbeta[j] += dy[o + j];
      }
      if (dx) {
        const mg = sg / cols, mgx = sgx / cols;
        for (let j = 0; j < cols; j++) {
          const xhat = (x[o + j] - mu) * rs;
          dx[o + j] += rs * (dy[o + j] * gamma[j] - mg - xhat * mgx);
        }
      }
    }
  },

  gather(n, dim, rows, table, ids, out) {
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      checkId('gather', id, rows);
      for (let j = 0; j < dim; j++) out[i * dim + j] = table[id * dim + j];
    }
  },

  indexAdd(n, dim, src, idx, alpha, dst) {
    for (let i = 0; i < n; i++) {
      const r = idx[i];
      for (let j = 0; j < dim; j++) dst[r * dim + j] += alpha * src[i * dim + j];
    }
  },

  embeddingBagMean(nBags, dim, rows, table, ids, offsets, out) {
    for (let b = 0; b < nBags; b++) {
      const lo = offsets[b], hi = offsets[b + 1];
      const acc = new Float64Array(dim);
      for (let k = lo; k < hi; k++) {
        const id = ids[k];
        checkId('embeddingBagMean', id, rows);
        for (let j = 0; j < dim; j++) acc[j] += table[id * dim + j];
      }
      const cnt = hi - lo;
      for (let j = 0; j < dim; j++) out[b * dim + j] = cnt > 0 ? acc[j] / cnt : 0;
    }
  },

  embeddingBagMeanBackward(nBags, dim, offsets, slot, dy, gradRows) {
    for (let b = 0; b < nBags; b++) {
      const lo = offsets[b], hi = offsets[b + 1];
      const cnt = hi - lo;
      for (let k = lo; k < hi; k++) {
        const s = slot[k];
        for (let j = 0; j < dim; j++) gradRows[s * dim + j] += dy[b * dim + j] / cnt;
      }
    }
  },

  dequantGather(n, dim, bits, rows, q, scaleBias, ids, out) {
    const bytes = new Uint8Array(q.buffer, q.byteOffset, q.byteLength);
    const rowBytes = (dim * bits) / 8;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      checkId('dequantGather', id, rows);
      for (let j = 0; j < dim; j++) {
        const code = bits === 8 ? bytes[id * rowBytes + j] : (bytes[id * rowBytes + (j >> 1)] >> (4 * (j & 1))) & 15;
        out[i * dim + j] = scaleBias[2 * id] * code + scaleBias[2 * id + 1];
      }
    }
  },

  quantBagMean(nBags, dim, bits, rows, q, scaleBias, ids, offsets, out) {
    const row = new Float32Array(dim);
    for (let b = 0; b < nBags; b++) {
      const lo = offsets[b], hi = offsets[b + 1];
      const acc = new Float64Array(dim);
      for (let k = lo; k < hi; k++) {
        refBackend.dequantGather(1, dim, bits, rows, q, scaleBias, ids.subarray(k, k + 1), row);
        for (let j = 0; j < dim; j++) acc[j] += row[j];
      }
      const cnt = hi - lo;
      for (let j = 0; j < dim; j++) out[b * dim + j] = cnt > 0 ? acc[j] / cnt : 0;
    }
  },

  codesBagMean(kind, nBags, dim, rows, books, words, codes, codebooks, rowScale, ids, offsets, out) {
    const sub = kind === 0 ? dim / books : dim;
    for (let b = 0; b < nBags; b++) {
      const lo = offsets[b], hi = offsets[b + 1];
      const acc = new Float64Array(dim);
      for (let k = lo; k < hi; k++) {
        const id = ids[k];
        checkId('codesBagMean', id, rows);
        const s = rowScale ? rowScale[id] : 1;
        for (let m = 0; m < books; m++) {
          const c = codes[id * books + m];
          if (c >= words) throw new Error(`codesBagMean: code ${c} >= ${words}`);
          for (let j = 0; j < sub; j++) acc[(kind === 0 ? m * sub : 0) + j] += s * codebooks[(m * words + c) * sub + j];
        }
      }
      const cnt = hi - lo;
      for (let j = 0; j < dim; j++) out[b * dim + j] = cnt > 0 ? acc[j] / cnt : 0;
    }
  },

  codesBagMeanBackward(kind, nBags, dim, rows, books, words, codes, rowScale, ids, offsets, dy, gradBooks) {
    const sub = kind === 0 ? dim / books : dim;
    for (let b = 0; b < nBags; b++) {
      const lo = offsets[b], hi = offsets[b + 1];
      for (let k = lo; k < hi; k++) {
        const id = ids[k];
        checkId('codesBagMeanBackward', id, rows);
        const s = (rowScale ? rowScale[id] : 1) / (hi - lo);
        for (let m = 0; m < books; m++) {
          const c = codes[id * books + m];
          for (let j = 0; j < sub; j++) gradBooks[(m * words + c) * sub + j] += s * dy[b * dim + (kind === 0 ? m * sub : 0) + j];
        }
      }
    }
  },

  nearestCentroids(n, d, K, x, c, out) {
    for (let i = 0; i < n; i++) {
      let best = Infinity, arg = 0;
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (x[i * d + j] - c[k * d + j]) ** 2;
        if (s < best) {
          best = s;
          arg = k;
        }
      }
      out[i] = arg;
    }
  },

  dropout(n, p, seed, x, y, mask) {
    const scale = 1 / (1 - p);
    for (let i = 0; i < n; i++) {
      const m = hashUniform(seed, i) >= p ? scale : 0;
      mask[i] = m;
      y[i] = x[i] * m;
    }
  },

  adam(n, p, g, m, v, lr, b1, b2, eps, wd, t) {
    for (let i = 0; i < n; i++) adamOne(i, i, p, g, m, v, lr, b1, b2, eps, wd, t);
  },

  adamRows(nRows, dim, rowIds, gradRows, p, m, v, lr, b1, b2, eps, wd, t) {
    for (let r = 0; r < nRows; r++) {
      const base = rowIds[r] * dim;
      for (let j = 0; j < dim; j++) adamOne(base + j, r * dim + j, p, gradRows, m, v, lr, b1, b2, eps, wd, t);
    }
  },
};

let refThreads = 1;

function adamOne(
  pi: number, gi: number, p: F32, g: F32, m: F32, v: F32,
  lr: number, b1: number, b2: number, eps: number, wd: number, t: number,
): void {
  const gv = g[gi];
  const mv = b1 * m[pi] + (1 - b1) * gv;
  const vv = b2 * v[pi] + (1 - b2) * gv * gv;
  m[pi] = mv;
  v[pi] = vv;
  const mhat = mv / (1 - b1 ** t);
  const vhat = vv / (1 - b2 ** t);
  p[pi] -= lr * (mhat / (Math.sqrt(vhat) + eps) + wd * p[pi]);
}

function checkId(kernel: string, id: number, rows: number): void {
  if (!(id >= 0 && id < rows)) throw new RangeError(`${kernel}: id ${id} out of range for a table of ${rows} rows`);
}

/** Calls fn with every multi-index of shape, in row-major order. */
function forEachIndex(shape: I32, fn: (idx: number[]) => void): void {
  const nd = shape.length;
  if (nd > MAX_DIMS) throw new RangeError(`ndim ${nd} > MAX_DIMS ${MAX_DIMS}`);
  for (let d = 0; d < nd; d++) if (shape[d] === 0) return;
  const idx = new Array<number>(nd).fill(0);
  for (;;) {
    fn(idx);
    let d = nd - 1;
    while (d >= 0) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

function offset(idx: number[], strides: I32): number {
  let o = 0;
  for (let d = 0; d < idx.length; d++) o += idx[d] * strides[d];
  return o;
}

function binaryOp(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case BinaryOp.Add: return a + b;
    case BinaryOp.Sub: return a - b;
    case BinaryOp.Mul: return a * b;
    case BinaryOp.Div: return a / b;
  }
}

/**
 * Normal CDF Phi(x) = erfc(-x/sqrt2)/2 to ~1e-12 relative, tails included (JS has no Math.erf;
 * going through erfc keeps Phi of very negative x from cancelling to 1 - 1).
 */
function phi(x: number): number {
  const z = -x / Math.SQRT2;
  return 0.5 * (z >= 0 ? erfcPos(z) : 2 - erfcPos(-z));
}

/** erfc(z) for z >= 0: 1 - Maclaurin series of erf below 3, the continued fraction of erfc above. */
function erfcPos(z: number): number {
  if (z < 3) {
    let term = z, s = z;
    const z2 = z * z;
    for (let k = 1; k < 200; k++) {
      term *= -z2 / k;
      const add = term / (2 * k + 1);
      s += add;
      if (Math.abs(add) < 1e-17 * Math.abs(s)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * s;
  }
  // erfc(z) = exp(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), evaluated bottom-up.
  let f = z;
  for (let k = 60; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

function unaryOp(op: UnaryOp, x: number): number {
  switch (op) {
    case UnaryOp.Relu: return x > 0 ? x : 0;
    case UnaryOp.Tanh: return Math.tanh(x);
    case UnaryOp.Gelu: return x * phi(x);
    case UnaryOp.Exp: return Math.exp(x);
    case UnaryOp.Log: return Math.log(x);
    case UnaryOp.Neg: return -x;
    case UnaryOp.Sqrt: return Math.sqrt(x);
    case UnaryOp.Square: return x * x;
    case UnaryOp.Sigmoid: return 1 / (1 + Math.exp(-x));
    case UnaryOp.Abs: return Math.abs(x);
  }
}

/** f'(x), given x and y = f(x). */
function unaryGrad(op: UnaryOp, x: number, y: number): number {
  switch (op) {
    case UnaryOp.Relu: return x > 0 ? 1 : 0;
    case UnaryOp.Tanh: return 1 - y * y;
    case UnaryOp.Gelu: {
      const pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
      return phi(x) + x * pdf;
    }
    case UnaryOp.Exp: return y;
    case UnaryOp.Log: return 1 / x;
    case UnaryOp.Neg: return -1;
    case UnaryOp.Sqrt: return 0.5 / y;
    case UnaryOp.Square: return 2 * x;
    case UnaryOp.Sigmoid: return y * (1 - y);
    case UnaryOp.Abs: return x > 0 ? 1 : x < 0 ? -1 : 0;
  }
}
