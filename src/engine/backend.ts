/**
 * The kernel interface every backend implements (native C over OpenBLAS, portable WebAssembly).
 * This is the whole contract between the autograd engine and the machine: the engine never loops
 * over tensor elements itself, it calls these.
 *
 * Conventions (every backend, every kernel):
 * - Arrays are passed as typed-array views; a kernel reads/writes from index 0 of the view it gets
 *   (callers use `subarray` for offsets, which is free). Sizes are given explicitly; a kernel never
 *   infers a size from an array's length, but may check that arrays are long enough.
 * - Matrices are row-major.
 * - Forward kernels OVERWRITE their outputs. Kernels named `*Backward` ACCUMULATE (+=) into their
 *   gradient outputs, so a tensor used twice gets the sum of both gradients without a temporary.
 *   A gradient output given as `null` is skipped (frozen parameter: no work is done for it).
 * - Results must agree between backends to relative error 1e-4 (float32); reductions may sum in a
 *   different order. Randomness (dropout) is counter-based so both backends draw the same numbers.
 * - Kernels may use up to `threads()` threads; results must not depend on the thread count except
 *   for float summation order.
 */

export type F32 = Float32Array;
export type I32 = Int32Array;

/** Element-wise binary ops with broadcasting. */
export const BinaryOp = { Add: 0, Sub: 1, Mul: 2, Div: 3 } as const;
export type BinaryOp = (typeof BinaryOp)[keyof typeof BinaryOp];

/**
 * Element-wise unary ops. Backward formulas (given x, y = f(x), dy):
 * Relu: dy*(x>0); Tanh: dy*(1-y^2); Gelu (exact erf form, as BERT uses:
 * 0.5*x*(1+erf(x/sqrt 2))): dy*(Phi(x) + x*phi(x)); Exp: dy*y; Log: dy/x; Neg: -dy;
 * Sqrt: dy*0.5/y; Square: dy*2x; Sigmoid: dy*y*(1-y); Abs: dy*sign(x).
 */
export const UnaryOp = { Relu: 0, Tanh: 1, Gelu: 2, Exp: 3, Log: 4, Neg: 5, Sqrt: 6, Square: 7, Sigmoid: 8, Abs: 9 } as const;
export type UnaryOp = (typeof UnaryOp)[keyof typeof UnaryOp];

/** Strided loops handle up to this many dimensions; callers merge/pad shapes to fit. */
export const MAX_DIMS = 6;

export interface Backend {
  readonly name: 'native' | 'wasm';

  /** Threads the kernels may use (default: all cores, 2 here). */
  threads(): number;
  setThreads(n: number): void;

  // ---------------------------------------------------------------- matrix products

  /**
   * Batched GEMM, row-major: for b in [0, batch):
   *   C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b]
   * op(A[b]) is (M, K), op(B[b]) is (K, N), C[b] is (M, N).
   * A[b] starts at a[b*strideA] and has row stride lda (as stored: lda >= K if !transA, >= M if
   * transA); likewise B with ldb, C with ldc (>= N). strideX = 0 reuses one matrix for every batch.
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    a: F32, lda: number, strideA: number,
    b: F32, ldb: number, strideB: number,
    beta: number, c: F32, ldc: number, strideC: number,
    batch: number,
  ): void;

  // ---------------------------------------------------------------- element-wise

  /**
   * out[i] (=|+=) a[ia] op b[ib] over an index space `shape` (ndim <= MAX_DIMS, row-major order of
   * out, which is contiguous). aStrides/bStrides are in elements, 0 on broadcast dimensions.
   * accumulate=false overwrites out, true adds into it.
   */
  binary(op: BinaryOp, shape: I32, a: F32, aStrides: I32, b: F32, bStrides: I32, out: F32, accumulate: boolean): void;

  /**
   * Strided copy or accumulate: for every index i in `shape`,
   *   dst[i . dstStrides] (=|+=) alpha * src[i . srcStrides].
   * Serves transpose/permute/slice/concat (materialise a view) and, with dstStrides 0 on some
   * dimensions and accumulate=true, sum-reduction (the backward of broadcasting).
   */
  copyStrided(shape: I32, src: F32, srcStrides: I32, dst: F32, dstStrides: I32, alpha: number, accumulate: boolean): void;

  /** y[i] = f(x[i]) for i < n. */
  unary(op: UnaryOp, n: number, x: F32, y: F32): void;
  /** dx[i] += f'(x[i]) * dy[i], with y = f(x) given for ops whose derivative uses it. */
  unaryBackward(op: UnaryOp, n: number, x: F32, y: F32, dy: F32, dx: F32): void;

  /** y[i] = alpha * x[i] + beta * y[i] for i < n (beta = 0 ignores y's old contents, even NaN). */
  axpby(n: number, alpha: number, x: F32, beta: number, y: F32): void;
  /** x[i] = value for i < n. */
  fill(n: number, value: number, x: F32): void;

  // ---------------------------------------------------------------- reductions

  /** Sum of x[0..n). Accumulates in double precision. */
  sum(n: number, x: F32): number;
  /** Sum of x[i]*y[i] (double accumulation). */
  dot(n: number, x: F32, y: F32): number;
  /** Sum of squares (for gradient-norm clipping); double accumulation. */
  sumSquares(n: number, x: F32): number;
  /** True iff every x[i] is finite. */
  allFinite(n: number, x: F32): boolean;

  // ---------------------------------------------------------------- row-wise (last dimension)

  /** y = softmax(x) over each row of length cols. */
  softmax(rows: number, cols: number, x: F32, y: F32): void;
  /** dx += y * (dy - sum_j(dy*y)) per row. */
  softmaxBackward(rows: number, cols: number, y: F32, dy: F32, dx: F32): void;
  /** y = log_softmax(x) per row. */
  logSoftmax(rows: number, cols: number, x: F32, y: F32): void;
  /** dx += dy - exp(y) * sum_j(dy) per row (y is the log-softmax output). */
  logSoftmaxBackward(rows: number, cols: number, y: F32, dy: F32, dx: F32): void;

  /**
   * Layer norm over rows of length cols: y = (x - mean) * rstd * gamma + beta, biased variance.
   * Writes mean[rows] and rstd[rows] = 1/sqrt(var + eps) for the backward.
   */
  layerNorm(rows: number, cols: number, x: F32, gamma: F32, beta: F32, eps: number, y: F32, mean: F32, rstd: F32): void;
  /** Accumulates dx, dgamma, dbeta (each may be null). */
  layerNormBackward(
    rows: number, cols: number, x: F32, gamma: F32, mean: F32, rstd: F32, dy: F32,
    dx: F32 | null, dgamma: F32 | null, dbeta: F32 | null,
  ): void;

  // ---------------------------------------------------------------- embeddings (sparse)

  /**
   * out[i, :] = table[ids[i], :] for i < n; table has `dim` columns and `rows` rows.
   * Throws (never reads out of bounds) if an id is outside [0, rows); the message names the id.
   */
  gather(n: number, dim: number, rows: number, table: F32, ids: I32, out: F32): void;
  /** dst[idx[i], :] += alpha * src[i, :] for i < n (duplicates in idx accumulate). */
  indexAdd(n: number, dim: number, src: F32, idx: I32, alpha: number, dst: F32): void;

  /**
   * Embedding bag, mean mode: for bag b < nBags with ids[offsets[b] .. offsets[b+1]):
   *   out[b, :] = mean of table[ids[j], :]  (an empty bag gives zeros).
   * Throws on an id outside [0, rows).
   */
  embeddingBagMean(nBags: number, dim: number, rows: number, table: F32, ids: I32, offsets: I32, out: F32): void;
  /**
   * Backward of embeddingBagMean into a compact (sparse) gradient: for every bag b and every j in
   * its range, gradRows[slot[j], :] += dy[b, :] / count_b. `slot` maps each id occurrence to its
   * row in gradRows (the caller coalesces duplicate ids into one slot).
   */
  embeddingBagMeanBackward(nBags: number, dim: number, offsets: I32, slot: I32, dy: F32, gradRows: F32): void;

  /**
   * Dequantising gather over a row-wise quantised table (int8 / int4 codes, unsigned):
   *   out[i, c] = scaleBias[2 id] * code(id, c) + scaleBias[2 id + 1],  id = ids[i].
   * `q` holds the codes packed little-endian, rows of dim*bits/32 words (dim*bits must be a
   * multiple of 32); int4 packs two codes a byte, column 2k in the low nibble. bits is 8 or 4.
   * Throws on an id outside [0, rows).
   */
  dequantGather(n: number, dim: number, bits: number, rows: number, q: I32, scaleBias: F32, ids: I32, out: F32): void;
  /**
   * Bag means straight from a row-wise quantised table (codes as dequantGather reads them), no
   * rows written out: out[b, :] = mean over ids[offsets[b] .. offsets[b+1]) of
   * scaleBias[2 id] * code(id, :) + scaleBias[2 id + 1] (an empty bag gives zeros). Throws on an
   * id outside [0, rows). No backward: int8 / int4 codes and scales are frozen, a model holding
   * such a table trains its other parameters only (QuantTable).
   */
  quantBagMean(nBags: number, dim: number, bits: number, rows: number, q: I32, scaleBias: F32, ids: I32, offsets: I32, out: F32): void;

  /**
   * Bag means straight from a table of one-byte codes (no expanded rows): kind 0 = product
   * quantisation, row(r) = concat over m < books of codebooks[m*words + codes[r*books + m]]
   * (codewords dim/books wide); kind 1 = additive codes, row(r) = sum over m of the same
   * (codewords dim wide). Each row is scaled by rowScale[r] when rowScale is given (quantised
   * norms). out[b, :] = mean over ids[offsets[b] .. offsets[b+1]) of rowScale[id] * row(id)
   * (an empty bag gives zeros). Throws on an id outside [0, rows) or a code >= words.
   */
  codesBagMean(
    kind: number, nBags: number, dim: number, rows: number, books: number, words: number,
    codes: Uint8Array, codebooks: F32, rowScale: F32 | null, ids: I32, offsets: I32, out: F32,
  ): void;
  /**
   * Backward of codesBagMean into the codebooks' dense gradient [books*words, codeword width]:
   * gradBooks[m*words + codes[id*books + m], :] += rowScale[id] * dy[b, slice m (pq) or all] / count_b.
   */
  codesBagMeanBackward(
    kind: number, nBags: number, dim: number, rows: number, books: number, words: number,
    codes: Uint8Array, rowScale: F32 | null, ids: I32, offsets: I32, dy: F32, gradBooks: F32,
  ): void;
  /** k-means assignment: out[i] = argmin_k |x[i, :] - c[k, :]|^2 (first k on ties), x [n, d], c [K, d]. */
  nearestCentroids(n: number, d: number, K: number, x: F32, c: F32, out: I32): void;

  // ---------------------------------------------------------------- randomness

  /**
   * Inverted dropout with a counter-based RNG: element i is kept iff
   * uniform(seed, i) >= p, where uniform is `hashUniform` below. mask[i] = keep ? 1/(1-p) : 0,
   * y[i] = x[i] * mask[i]. (The backward is a Mul with mask.)
   */
  dropout(n: number, p: number, seed: number, x: F32, y: F32, mask: F32): void;

  // ---------------------------------------------------------------- optimisers

  /**
   * AdamW step on n dense parameters (decoupled weight decay), step t >= 1:
   *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
   *   p -= lr * ( (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps) + wd * p )
   */
  adam(n: number, p: F32, g: F32, m: F32, v: F32, lr: number, b1: number, b2: number, eps: number, wd: number, t: number): void;
  /**
   * Lazy (sparse) Adam: the same update applied only to rows rowIds[0..nRows) of a (*, dim) table,
   * with gradRows[r, :] the gradient of row rowIds[r] (ids unique). m and v are full-size tables.
   */
  adamRows(
    nRows: number, dim: number, rowIds: I32, gradRows: F32, p: F32, m: F32, v: F32,
    lr: number, b1: number, b2: number, eps: number, wd: number, t: number,
  ): void;

  /**
   * Fused inference-only kernels (no backward: nothing here is on the tape). A backend that lacks
   * them gets the same results composed from the kernels above (src/engine/infer/kernels.ts).
   */
  readonly infer?: InferKernels;
}

/**
 * The steps of a tape-free BERT forward pass over PACKED tokens: a batch is the sum of its real
 * lengths in rows (no padding), and `offsets` (nSeq + 1 entries) marks where each sequence starts.
 * Row-wise kernels may write in place (out may alias x or residual).
 */
export interface InferKernels {
  /** x = gelu(x + bias) per row of length cols (erf GELU; bias null: x = gelu(x)). */
  biasGelu(rows: number, cols: number, bias: F32 | null, x: F32): void;
  /** x += bias per row. */
  addBias(rows: number, cols: number, bias: F32, x: F32): void;
  /** out = layerNorm(x + bias + residual) per row (bias may be null); out may alias x or residual. */
  residualLayerNorm(rows: number, cols: number, x: F32, bias: F32 | null, residual: F32, gamma: F32, beta: F32, eps: number, out: F32): void;
  /** out[i] = layerNorm(word[ids[i]] + position[positionIds[i]] + tokenType[tokenTypeIds[i]]); throws on an id out of range. */
  embedLayerNorm(
    n: number, dim: number, word: F32, ids: I32, position: F32, positionIds: I32, tokenType: F32, tokenTypeIds: I32,
    gamma: F32, beta: F32, eps: number, out: F32,
  ): void;
  /**
   * Self-attention per sequence over its real rows: qkv is (rows, 3*heads*d) holding Q | K | V
   * (heads interleaved, as a Linear writes them); for every sequence s and head h,
   * ctx[s, :, h] = softmax(Q K^T / sqrt(d)) V over that sequence's rows only. ctx is (rows, heads*d).
   */
  attentionPacked(nSeq: number, offsets: I32, heads: number, headDim: number, qkv: F32, ctx: F32): void;
  /**
   * int8 dynamic quantisation (optional: a backend without it runs fp32). q8Pack quantises a
   * (N, K) weight per output channel (scale max|w|/127, round to nearest even, clamp +-127) into
   * `packed` (q8PackedLength(N, K) int32s, an opaque layout), `scales` (N) and `colsum` (N, the sum
   * of each channel's int8 weights).
   */
  q8Pack?(N: number, K: number, weight: F32, packed: I32, scales: F32, colsum: I32): void;
  /**
   * y (M, N) = x (M, K) through a packed weight: each row of x is quantised on the fly to
   * u = rint(x * 127/max|x|) + 128 (u8), int32 acc = sum_k u*w, then
   * y = float(acc - 128*colsum) * (max|x|/127) * scale + bias (bias may be null).
   */
  q8Gemm?(M: number, N: number, K: number, x: F32, packed: I32, scales: F32, colsum: I32, bias: F32 | null, y: F32): void;
  /**
   * q8Pack in two steps, for int8 weights saved in a model folder (compress --method int8-linear):
   * q8Quantize writes the codes (N, K) row-major and the scales exactly as q8Pack rounds them, and
   * q8PackCodes lays saved codes out as q8Pack does (no rounding: loading does not re-quantise).
   */
  q8Quantize?(N: number, K: number, weight: F32, codes: Int8Array, scales: F32): void;
  q8PackCodes?(N: number, K: number, codes: Int8Array, packed: I32, colsum: I32): void;
  /** Which int8 microkernel runs here ('avx512-vnni', 'avx2' or 'portable'). */
  q8Kernel?(): string;
  /**
   * fp32 with the weight packed once (optional; for few rows, where a BLAS call spends its time
   * re-packing the weight): f32Pack lays a (N, K) weight out in f32PackedLength(N, K) floats,
   * f32GemmPacked computes y (M, N) = x (M, K) W^T + bias (bias may be null).
   */
  f32Pack?(N: number, K: number, weight: F32, packed: F32): void;
  f32GemmPacked?(M: number, N: number, K: number, x: F32, packed: F32, bias: F32 | null, y: F32): void;
}

/** Floats a packed fp32 weight of N output channels and K inputs takes (panels of 32 channels). */
export function f32PackedLength(N: number, K: number): number {
  return Math.ceil(N / 32) * 32 * K;
}

/** Int32s a packed int8 weight of N output channels and K inputs takes (panels of 32 channels, k in fours). */
export function q8PackedLength(N: number, K: number): number {
  return Math.ceil(N / 32) * 32 * Math.ceil(K / 4);
}

/**
 * The counter-based RNG shared by every backend (and written identically in C and AssemblyScript):
 * a 32-bit integer hash of (seed, i) mapped to [0, 1). Kept here as the reference definition.
 *   h = seed ^ (i * 0x9E3779B9); h ^= h >>> 16; h *= 0x85EBCA6B; h ^= h >>> 13; h *= 0xC2B2AE35;
 *   h ^= h >>> 16; uniform = (h >>> 8) / 2^24
 * (all arithmetic mod 2^32; i is the element index as uint32).
 */
export function hashUniform(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i >>> 0, 0x9e3779b9)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 8) / 16777216;
}
