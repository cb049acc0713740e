/** The functions assembly/index.ts exports (all arguments are numbers: byte addresses, sizes, scalars). */
export interface KernelExports {
  heapBase(): number;
  gemmScratchBytes(): number;
  gemm(
    transA: number, transB: number, M: number, N: number, K: number, alpha: number,
    a: number, lda: number, strideA: number, b: number, ldb: number, strideB: number,
    beta: number, c: number, ldc: number, strideC: number,
    b0: number, b1: number, m0: number, m1: number, n0: number, n1: number, scratch: number,
  ): void;
  unary(op: number, n: number, x: number, y: number): void;
  unaryBackward(op: number, n: number, x: number, y: number, dy: number, dx: number): void;
  axpby(n: number, alpha: number, x: number, beta: number, y: number): void;
  binary(op: number, dims: number, a: number, b: number, out: number, accumulate: number): void;
  copyStrided(dims: number, src: number, dst: number, alpha: number, accumulate: number): void;
  sum(n: number, x: number): number;
  dot(n: number, x: number, y: number): number;
  sumSquares(n: number, x: number): number;
  allFinite(n: number, x: number): number;
  softmax(rows: number, cols: number, x: number, y: number): void;
  softmaxBackward(rows: number, cols: number, y: number, dy: number, dx: number): void;
  logSoftmax(rows: number, cols: number, x: number, y: number): void;
  logSoftmaxBackward(rows: number, cols: number, y: number, dy: number, dx: number): void;
  layerNorm(rows: number, cols: number, x: number, gamma: number, beta: number, eps: number, y: number, mean: number, rstd: number): void;
  layerNormBackward(
    rows: number, cols: number, x: number, gamma: number, mean: number, rstd: number, dy: number,
    dx: number, dgamma: number, dbeta: number,
  ): void;
  checkIds(ids: number, n: number, rows: number): number;
  maxI32(p: number, n: number): number;
  checkOffsets(nBags: number, offsets: number, nIds: number): number;
  embeddingBagMean(nBags: number, dim: number, rows: number, offsets: number, out: number): void;
  embeddingBagMeanBackward(nBags: number, dim: number, offsets: number, slot: number, dy: number, gradRows: number): void;
  indexAdd(n: number, dim: number, src: number, slot: number, alpha: number, dst: number): void;
  dequantRows(n: number, dim: number, bits: number, q: number, sb: number, out: number): void;
  quantBagMean(nBags: number, dim: number, bits: number, q: number, sb: number, offsets: number, acc: number, out: number): void;
  codesBagMean(kind: number, nBags: number, dim: number, M: number, K: number, books: number, codes: number, scale: number, offsets: number, out: number): void;
  codesBagMeanBackward(kind: number, nBags: number, dim: number, M: number, K: number, codes: number, scale: number, offsets: number, dy: number, grad: number): void;
  nearestCentroids(n: number, d: number, K: number, x: number, c: number, cn: number, out: number): void;
  uniqueIds(ids: number, n: number, slot: number, uniq: number, table: number, cap: number): number;
  adam(n: number, p: number, g: number, m: number, v: number, lr: number, b1: number, b2: number, eps: number, wd: number, bc1: number, bc2: number): void;
  dropout(n: number, i0: number, threshold: number, seed: number, scale: number, x: number, y: number, mask: number): void;
  // inference (assembly/infer.ts)
  biasGelu(rows: number, cols: number, bias: number, x: number): void;
  addBias(rows: number, cols: number, bias: number, x: number): void;
  sumLayerNorm(rows: number, cols: number, a: number, b: number, c: number, gamma: number, beta: number, eps: number, out: number): void;
  residualLayerNorm(rows: number, cols: number, x: number, bias: number, res: number, gamma: number, beta: number, eps: number, out: number): void;
  attentionPacked(s0: number, s1: number, offsets: number, heads: number, d: number, qkv: number, ctx: number, scratch: number): void;
  q8Quantize(N: number, K: number, w: number, codes: number, scales: number): void;
  q8PackCodes(N: number, K: number, codes: number, packed: number, colsum: number): void;
  q8QuantizeRows(m0: number, m1: number, K: number, Kp: number, x: number, qa: number, sa: number): void;
  q8Gemm(M: number, N: number, K: number, Kp: number, qa: number, sa: number, packed: number, scales: number, bias: number, y: number, p0: number, p1: number): void;
}
