/**
 * The DAN's serving path: raw text -> logits with every buffer (n-gram ids, offsets, the averaged
 * embedding, the hidden layer, the logits) allocated once and reused, and the work done by
 * backend kernels straight into those buffers (no autograd tape, no tensors). The only garbage a
 * request makes is the word split's strings. Buffers grow (once) when a longer text or a bigger
 * batch comes; results are views into them, valid until the next call. Not shared between
 * threads: make one predictor per thread.
 *
 *   ids (nnz) + offsets (B+1) -> bag (B, dim) -> hid = tanh(bag W1^T + b1) (B, H) -> out = hid W2^T + b2 (B, C)
 */
import { UnaryOp } from '../engine/backend.js';
import { getBackend, type Backend } from '../engine/index.js';
import { maxIds, type NgramFeaturizer } from '../text/featurizer.js';
import type { DanModel } from './dan.js';

export class DanPredictor {
  readonly numLabels: number;
  private readonly be: Backend;
  private ids = new Int32Array(1024);
  private offsets = new Int32Array(65);
  private bag: Float32Array;
  private hid: Float32Array;
  private out: Float32Array;
  private capacity = 64;
  // Shape and strides of the bias broadcast (B, width): shape[0] is set per call.
  private readonly biasShape = Int32Array.of(1, 1);
  private readonly biasSrc = Int32Array.of(0, 1);
  private readonly biasDst = Int32Array.of(1, 1);

  constructor(private readonly model: DanModel, private readonly featurizer: NgramFeaturizer) {
    this.be = getBackend();
    this.numLabels = model.config.numLabels;
    this.bag = new Float32Array(this.capacity * model.config.dim);
    this.hid = new Float32Array(this.capacity * Math.max(1, model.config.hidden));
    this.out = new Float32Array(this.capacity * this.numLabels);
  }

  /** Logits of one text (a view of length C, valid until the next call). */
  logitsOne(text: string): Float32Array {
    const words = this.featurizer.words(text);
    this.reserveIds(maxIds(words.length, this.featurizer.maxN));
    this.offsets[1] = this.featurizer.featurizeWords(words, this.ids);
    this.run(1);
    return this.out.subarray(0, this.numLabels);
  }

  /** The predicted class id of one text. */
  labelOne(text: string): number {
    this.logitsOne(text);
    return argmax(this.out, 0, this.numLabels);
  }

  /** Logits of a batch (a view, (n x C) row-major, valid until the next call). */
  logitsBatch(texts: readonly string[]): Float32Array {
    const n = texts.length;
    this.reserveRows(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const words = this.featurizer.words(texts[i]!);
      const need = maxIds(words.length, this.featurizer.maxN);
      this.reserveIds(k + need);
      k += this.featurizer.featurizeWords(words, k === 0 ? this.ids : this.ids.subarray(k));
      this.offsets[i + 1] = k;
    }
    this.run(n);
    return this.out.subarray(0, n * this.numLabels);
  }

  /** Predicted class ids of a batch, written into `out` (length >= texts.length). */
  labelsBatch(texts: readonly string[], out: Int32Array): Int32Array {
    const logits = this.logitsBatch(texts);
    for (let i = 0; i < texts.length; i++) out[i] = argmax(logits, i * this.numLabels, this.numLabels);
    return out;
  }

  private run(n: number): void {
    const m = this.model;
    const { dim, hidden } = m.config;
    m.table.bagMeanInto(n, this.ids, this.offsets, this.bag);
    let x = this.bag;
    let width = dim;
    if (m.hidden) {
      this.dense(n, x, width, m.hidden.weight.data, m.hidden.bias.data, hidden, this.hid);
      this.be.unary(UnaryOp.Tanh, n * hidden, this.hid, this.hid);
      x = this.hid;
      width = hidden;
    }
    this.dense(n, x, width, m.output.weight.data, m.output.bias.data, this.numLabels, this.out);
  }

  /** y (n, outW) = x (n, inW) W^T + b, W stored (outW, inW). */
  private dense(n: number, x: Float32Array, inW: number, w: Float32Array, b: Float32Array, outW: number, y: Float32Array): void {
    this.biasShape[0] = n;
    this.biasShape[1] = outW;
    this.biasDst[0] = outW;
    this.be.copyStrided(this.biasShape, b, this.biasSrc, y, this.biasDst, 1, false);
    this.be.gemm(false, true, n, outW, inW, 1, x, inW, 0, w, inW, 0, 1, y, outW, 0, 1);
  }

  private reserveIds(n: number): void {
    if (n <= this.ids.length) return;
    const grown = new Int32Array(Math.max(n, this.ids.length * 2));
    grown.set(this.ids);
    this.ids = grown;
  }

  private reserveRows(n: number): void {
    if (n <= this.capacity) return;
    const c = Math.max(n, this.capacity * 2);
    const { dim, hidden } = this.model.config;
    this.capacity = c;
    this.offsets = new Int32Array(c + 1);
    this.bag = new Float32Array(c * dim);
    this.hid = new Float32Array(c * Math.max(1, hidden));
    this.out = new Float32Array(c * this.numLabels);
  }
}

// Once per prediction, over C values: not a tensor hot loop.
function argmax(x: Float32Array, start: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (x[start + c]! > x[start + best]!) best = c;
  return best;
}
