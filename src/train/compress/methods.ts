/**
 * Post-hoc table compression: one dense table in, one compressed table out, for every method
 * of `slimtext compress` (pruning, which changes the vocabulary, lives in prune.ts). All settings
 * and their defaults are in `CompressSettings`; settings that do not fit the table are refused
 * with an error naming the flag and the sizes.
 */
import { getBackend } from '../../engine/index.js';
import { InputError, OpError } from '../../errors.js';
import { DenseNgramTable } from '../../models/danTable.js';
import { CodesTable, checkPq } from '../../models/tables/codes.js';
import { LowRankTable, checkRank } from '../../models/tables/lowRank.js';
import { QuantTable, checkQuantShape } from '../../models/tables/quantized.js';
import type { EmbeddingTable } from '../../models/tables/table.js';
import { kmeans } from './kmeans.js';
import { GUMBEL_DEFAULTS, learnCodes } from './gumbelCodes.js';

export const METHODS = ['f16', 'int8', 'int4', 'lowrank', 'pq', 'codes', 'prune', 'int8-linear'] as const;
export type Method = (typeof METHODS)[number];
/** The methods that replace the embedding table (prune changes its rows, int8-linear the encoder: int8Linear.ts). */
export type TableMethod = Exclude<Method, 'prune' | 'int8-linear'>;

export interface CompressSettings {
  /** lowrank: rank of u [rows, rank] @ v [rank, dim]. */
  rank: number;
  /** pq: width of each sub-vector (fastText's -dsub, default 2). */
  pqDsub: number;
  /** pq: bits per sub-vector code, 2^bits centroids (fastText: 8). */
  pqBits: number;
  /**
   * pq: quantise each row's norm apart with its own 1-D codebook of QNORM_WORDS norms and fit the
   * sub-vector codebooks on unit-length rows (fastText's -qnorm).
   */
  qnorm: boolean;
  /** codes: M codebooks and 2^bits codewords each. */
  codebooks: number;
  codeBits: number;
  /** codes: how the codes are found: learned with Gumbel-softmax (gumbelCodes.ts) or residual k-means. */
  codesFit: 'gumbel' | 'kmeans';
  /** codes, gumbel: optimisation steps of the code learner. */
  codesSteps: number;
  /** k-means iterations and sample (fastText: 25 iterations, 256 x 256 points). */
  kmeansIters: number;
  kmeansSample: number;
  /** prune: rows to keep, ranked by `pruneBy`; the rest fall out to `pruneBuckets` hash buckets (0: skipped). */
  pruneKeep: number;
  pruneBy: 'norm' | 'frequency' | 'gradient';
  pruneBuckets: number;
  seed: number;
}

export const DEFAULT_SETTINGS: Readonly<CompressSettings> = Object.freeze({
  rank: 16, pqDsub: 2, pqBits: 8, qnorm: false, codebooks: 16, codeBits: 5, codesFit: 'kmeans', codesSteps: GUMBEL_DEFAULTS.steps, kmeansIters: 15, kmeansSample: 65536,
  pruneKeep: 50_000, pruneBy: 'norm', pruneBuckets: 0, seed: 0,
});

/** Norms in the 1-D codebook of --qnorm (one-byte codes, as fastText). */
export const QNORM_WORDS = 256;

/** Parses `int8,pq` into methods, refusing unknown names, repeats, and prune after a table method. */
export function parseMethods(spec: string): Method[] {
  const ms = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (ms.length === 0) throw new OpError('--method', `needs one or more of ${METHODS.join(', ')}`);
  for (const m of ms) if (!(METHODS as readonly string[]).includes(m)) throw new OpError('--method', `unknown method '${m}' (known: ${METHODS.join(', ')})`);
  const table = ms.filter((m) => m !== 'prune' && m !== 'int8-linear');
  if (table.length > 1) throw new OpError('--method', `${table.join(' and ')} both replace the table; combine at most one of them with prune (e.g. prune,pq)`);
  if (ms.filter((m) => m !== 'int8-linear').indexOf('prune') > 0) throw new OpError('--method', 'prune must come first (prune,pq): it chooses the rows the other method then compresses');
  if (new Set(ms).size !== ms.length) throw new OpError('--method', `a method is named twice in ${spec}`);
  return ms as Method[];
}

/** Checks every setting against a table of rows x dim before any work starts. */
export function checkSettings(method: Method, rows: number, dim: number, s: CompressSettings): void {
  if (method === 'int8' || method === 'int4') checkQuantShape(`--method ${method}`, dim, method === 'int8' ? 8 : 4);
  if (method === 'lowrank') checkRank('--rank', s.rank, dim);
  if (method === 'pq') {
    if (!(Number.isInteger(s.pqDsub) && s.pqDsub >= 1 && dim % s.pqDsub === 0)) throw new OpError('--pq-dsub', `sub-vectors of ${s.pqDsub} do not divide the table width ${dim}`);
    checkPq(dim, dim / s.pqDsub);
    codewords('--pq-bits', s.pqBits, rows);
    if (s.qnorm && s.pqBits > 8) throw new OpError('--qnorm', `needs one-byte pq codes (--pq-bits at most 8), got --pq-bits ${s.pqBits}`);
    if (s.qnorm && rows < QNORM_WORDS) throw new OpError('--qnorm', `${QNORM_WORDS} norm centroids need at least as many rows; the table has ${rows}`);
  }
  if (s.qnorm && method !== 'pq') throw new OpError('--qnorm', `quantises the norms of pq rows; it does not go with --method ${method}`);
  if (method === 'codes') {
    if (!(Number.isInteger(s.codebooks) && s.codebooks >= 1 && s.codebooks <= 256)) throw new OpError('--codebooks', `must be 1..256, got ${s.codebooks}`);
    codewords('--code-bits', s.codeBits, rows);
  }
}

function codewords(flag: string, bits: number, rows: number): number {
  if (!(Number.isInteger(bits) && bits >= 1 && bits <= 16)) throw new OpError(flag, `must be 1..16 bits, got ${bits}`);
  const K = 2 ** bits;
  if (K > rows) throw new OpError(flag, `${bits} bits make ${K} centroids, more than the table's ${rows} rows`);
  return K;
}

/**
 * Compresses a dense table with one method (not prune). `weights` (one per row, optional) makes
 * the fit task-aware: k-means and the low-rank fit weigh each row by how often the task's data
 * uses it, so the centroids go where the task looks rather than to rows it never reads.
 */
export function compressTable(table: EmbeddingTable, method: TableMethod, s: CompressSettings, weights?: Float32Array): EmbeddingTable {
  if (table.kind !== 'dense') throw new InputError('--method', undefined, undefined, `the model's table is already ${table.kind}; ${method} needs a dense table: compress the uncompressed model instead`);
  const { rows, dim } = table;
  checkSettings(method, rows, dim, s);
  const w = table.toDense();
  switch (method) {
    case 'f16':
      return new DenseNgramTable(rows, dim, { data: w, storeDtype: 'F16' });
    case 'int8':
    case 'int4':
      return QuantTable.quantize(w, rows, dim, method === 'int8' ? 8 : 4);
    case 'lowrank':
      return lowRank(w, rows, dim, s.rank, weights);
    case 'pq': {
      const M = dim / s.pqDsub, K = 2 ** s.pqBits, d = s.pqDsub;
      const codes = K <= 256 ? new Uint8Array(rows * M) : new Int32Array(rows * M);
      const books = new Float32Array(M * K * d);
      // toDense() may be the table's own storage: normalise a copy.
      const unit = s.qnorm ? w.slice() : w;
      const norms = s.qnorm ? quantNorms(unit, rows, dim, s, weights) : undefined;
      for (let m = 0; m < M; m++) {
        const r = kmeans(unit, rows, d, K, { stride: dim, col: m * d, iters: s.kmeansIters, sample: s.kmeansSample, seed: s.seed + m, ...fitWeights(weights, K) });
        books.set(r.centroids, m * K * d);
        for (let i = 0; i < rows; i++) codes[i * M + m] = r.codes[i]!;
      }
      return new CodesTable('pq', rows, dim, M, K, codes, books, norms);
    }
    case 'codes': {
      if (s.codesFit === 'gumbel') return learnCodes(w, rows, dim, { books: s.codebooks, words: 2 ** s.codeBits, steps: s.codesSteps, seed: s.seed, weights });
      // Additive codes fitted greedily: each codebook quantises what the previous ones left (residual k-means).
      const M = s.codebooks, K = 2 ** s.codeBits;
      const resid = w.slice();
      const codes = K <= 256 ? new Uint8Array(rows * M) : new Int32Array(rows * M);
      const books = new Float32Array(M * K * dim);
      const be = getBackend();
      for (let m = 0; m < M; m++) {
        const r = kmeans(resid, rows, dim, K, { iters: s.kmeansIters, sample: s.kmeansSample, seed: s.seed + m, ...fitWeights(weights, K) });
        books.set(r.centroids, m * K * dim);
        for (let i = 0; i < rows; i++) {
          const c = r.codes[i]!;
          codes[i * M + m] = c;
          be.axpby(dim, -1, r.centroids.subarray(c * dim), 1, resid.subarray(i * dim));
        }
      }
      return new CodesTable('codes', rows, dim, M, K, codes, books);
    }
  }
}

/**
 * fastText's -qnorm: each row's norm becomes a one-byte code into a 1-D k-means codebook of
 * QNORM_WORDS norms, and `w` is normalised in place (zero rows stay zero) for the PQ fit.
 */
function quantNorms(w: Float32Array, rows: number, dim: number, s: CompressSettings, weights: Float32Array | undefined): { codes: Uint8Array; book: Float32Array } {
  const be = getBackend();
  const n = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = w.subarray(r * dim, (r + 1) * dim);
    n[r] = Math.sqrt(be.sumSquares(dim, row));
    if (n[r]! > 0) be.axpby(dim, 0, row, 1 / n[r]!, row);
  }
  const r = kmeans(n, rows, 1, QNORM_WORDS, { iters: s.kmeansIters, sample: s.kmeansSample, seed: s.seed + 7919, ...fitWeights(weights, QNORM_WORDS) });
  return { codes: Uint8Array.from(r.codes), book: r.centroids };
}

/** Row weights for k-means, unless too few rows carry weight to fit K centroids (then unweighted). */
function fitWeights(weights: Float32Array | undefined, K: number): { weights?: Float32Array } {
  if (!weights) return {};
  let used = 0;
  for (const v of weights) if (v > 0) used++;
  return used >= K ? { weights } : {};
}

/**
 * The best rank-r approximation (truncated SVD): eigenvectors of the small Gram matrix W^T W
 * [dim, dim] (gemm), by cyclic Jacobi; then u = W V_r, v = V_r^T. Jacobi is a plain loop on a
 * dim x dim matrix (dim <= 1024), not on the table.
 */
function lowRank(w: Float32Array, rows: number, dim: number, rank: number, weights?: Float32Array): LowRankTable {
  const be = getBackend();
  const g32 = new Float32Array(dim * dim);
  // Weighted: the Gram of rows scaled by sqrt(weight) (rows the task never uses do not steer the basis).
  let a = w;
  if (weights) {
    a = new Float32Array(w.length);
    for (let i = 0; i < rows; i++) be.axpby(dim, Math.sqrt(weights[i]!), w.subarray(i * dim), 0, a.subarray(i * dim));
  }
  be.gemm(true, false, dim, dim, rows, 1, a, dim, 0, a, dim, 0, 0, g32, dim, 0, 1);
  const { values, vectors } = jacobiEigen(Float64Array.from(g32), dim);
  const order = Array.from({ length: dim }, (_, i) => i).sort((a, b) => values[b]! - values[a]!);
  const vt = new Float32Array(rank * dim); // rows: top eigenvectors
  for (let k = 0; k < rank; k++) for (let j = 0; j < dim; j++) vt[k * dim + j] = vectors[j * dim + order[k]!]!;
  const u = new Float32Array(rows * rank);
  be.gemm(false, true, rows, rank, dim, 1, w, dim, 0, vt, dim, 0, 0, u, rank, 0, 1);
  return new LowRankTable(rows, dim, rank, u, vt);
}

/** Eigen-decomposition of a symmetric n x n matrix (cyclic Jacobi); vectors in columns. */
export function jacobiEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) (i === j ? (diag += a[i * n + j]! ** 2) : (off += a[i * n + j]! ** 2));
    if (off <= 1e-22 * diag) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!, akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!, aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!, vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}
