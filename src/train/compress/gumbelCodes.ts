/**
 * Compositional codes learned end to end (Shu & Nakayama, ICLR 2018, "Compressing Word Embeddings
 * via Deep Compositional Code Learning"):
 *
 *   learnCodes(w [rows, dim], rows, dim, opts) -> CodesTable ('codes': M codebooks x K codewords)
 *
 * An encoder maps each row to M categorical choices of K codewords
 *   h = tanh(W1 x + b1)   (M*K/2)      logits = W2 h + b2   (M, K)
 * each choice a Gumbel-softmax sample at temperature tau, one-hot in the forward pass and soft in
 * the backward one (straight-through); the chosen codewords of the M codebooks sum to the
 * reconstruction, and encoder and codebooks train together (Adam) on the squared error, over rows
 * sampled in proportion to their weights when given (how often the task's data uses each row: the
 * task-aware part), else uniformly. The codes are then frozen to small integers (the argmax of each
 * row's logits, no noise) and the codebooks kept, so `--mode joint` goes on training the codebooks
 * with the task. Unlike residual k-means (methods.ts), all M codebooks are fitted jointly.
 *
 * The matrix products run in the engine's kernels; the per-step noise, argmax and one-hot are
 * O(batch x M x K) bookkeeping beside them.
 */
import { AdamW, Linear, Parameter, Rng, Tensor, add, backward, matmul, mse, noGrad, reshape, scale, softmax, tanh } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import { CodesTable } from '../../models/tables/codes.js';

export interface GumbelOptions {
  /** M codebooks of K codewords each. */
  books: number;
  words: number;
  /** Optimisation steps and rows per step. */
  steps?: number;
  batch?: number;
  lr?: number;
  /** Gumbel-softmax temperature (the paper's 1.0). */
  tau?: number;
  seed?: number;
  /** Row weights (e.g. frequencies in the task's data): rows are drawn in proportion to them. */
  weights?: Float32Array;
  /** Called now and then with the step and the mean squared error of the last batch. */
  progress?: (step: number, loss: number) => void;
}

export const GUMBEL_DEFAULTS = Object.freeze({ steps: 1000, batch: 256, lr: 3e-3, tau: 1 });

export function learnCodes(w: Float32Array, rows: number, dim: number, opts: GumbelOptions): CodesTable {
  const M = opts.books, K = opts.words;
  if (!(Number.isInteger(M) && M >= 1)) throw new OpError('--codebooks', `needs at least 1 codebook, got ${M}`);
  if (!(Number.isInteger(K) && K >= 2 && K <= 65536)) throw new OpError('--code-bits', `needs 2 to 65536 codewords a codebook, got ${K}`);
  if (w.length !== rows * dim) throw new OpError('learnCodes', `a ${rows} x ${dim} table needs ${rows * dim} values, got ${w.length}`);
  const steps = opts.steps ?? GUMBEL_DEFAULTS.steps;
  const B = Math.min(opts.batch ?? GUMBEL_DEFAULTS.batch, rows);
  const tau = opts.tau ?? GUMBEL_DEFAULTS.tau;
  const rng = new Rng(opts.seed ?? 0);
  const hidden = Math.max(8, (M * K) >> 1);
  const enc1 = new Linear(dim, hidden, rng, { std: Math.sqrt(1 / dim) });
  const enc2 = new Linear(hidden, M * K, rng, { std: Math.sqrt(1 / hidden) });
  // Codewords start small and random: the sum of M of them should start near the rows' scale.
  const rms = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / Math.max(1, w.length));
  const init = new Float32Array(M * K * dim);
  rng.fillNormal(init, 0, rms / Math.sqrt(M));
  const codebooks = new Parameter(init, [M * K, dim], 'codebooks');
  const params: [string, Parameter][] = [...enc1.namedParameters().map(([n, p]) => [`enc1.${n}`, p] as [string, Parameter]), ...enc2.namedParameters().map(([n, p]) => [`enc2.${n}`, p] as [string, Parameter]), ['codebooks', codebooks]];
  const opt = new AdamW(params, { lr: opts.lr ?? GUMBEL_DEFAULTS.lr, weightDecay: 0, lazy: false });
  const draw = rowSampler(rows, opts.weights, rng);

  const x = new Float32Array(B * dim);
  const noise = new Float32Array(B * M * K);
  for (let step = 0; step < steps; step++) {
    for (let b = 0; b < B; b++) {
      const r = draw();
      x.set(w.subarray(r * dim, (r + 1) * dim), b * dim);
    }
    const xt = new Tensor(x.slice(), [B, dim]);
    const logits = reshape(enc2.forward(tanh(enc1.forward(xt))), [B * M, K]);
    rng.fillUniform(noise, 1e-10, 1 - 1e-7);
    for (let i = 0; i < noise.length; i++) noise[i] = -Math.log(-Math.log(noise[i]!));
    const soft = softmax(scale(add(logits, new Tensor(noise.slice(), [B * M, K])), 1 / tau));
    // Straight-through: the forward value is the one-hot of the sample, the gradient the soft one's.
    const toHard = new Float32Array(soft.size);
    for (let i = 0; i < B * M; i++) {
      const row = soft.data.subarray(i * K, (i + 1) * K);
      const best = argmax(row);
      for (let k = 0; k < K; k++) toHard[i * K + k] = (k === best ? 1 : 0) - row[k]!;
    }
    const onehot = add(soft, new Tensor(toHard, [B * M, K]));
    const recon = matmul(reshape(onehot, [B, M * K]), codebooks);
    const loss = mse(recon, xt);
    backward(loss);
    opt.step();
    if (opts.progress && (step % 50 === 0 || step === steps - 1)) opts.progress(step, loss.data[0]!);
  }

  // Freeze: each row's code is the argmax of its logits (no noise).
  const codes = K <= 256 ? new Uint8Array(rows * M) : new Int32Array(rows * M);
  noGrad(() => {
    for (let start = 0; start < rows; start += 1024) {
      const n = Math.min(1024, rows - start);
      const logits = enc2.forward(tanh(enc1.forward(new Tensor(w.slice(start * dim, (start + n) * dim), [n, dim])))).data;
      for (let i = 0; i < n * M; i++) codes[start * M + i] = argmax(logits.subarray(i * K, (i + 1) * K));
    }
  });
  return new CodesTable('codes', rows, dim, M, K, codes, codebooks.data.slice());
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
}

/** A draw of row ids: in proportion to `weights` (cumulative sums, binary search), else uniform. */
function rowSampler(rows: number, weights: Float32Array | undefined, rng: Rng): () => number {
  let total = 0;
  if (weights) for (let i = 0; i < rows; i++) total += Math.max(0, weights[i]!);
  if (!weights || !(total > 0)) return () => rng.int(rows);
  const cum = new Float64Array(rows);
  let s = 0;
  for (let i = 0; i < rows; i++) cum[i] = s += Math.max(0, weights[i]!);
  return () => {
    const u = rng.next() * s;
    let lo = 0, hi = rows - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}
