/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter) on dense gradients, and lazy Adam on sparse
 * ones: for an embedding table only the rows a batch touched are updated (backend.adamRows), so
 * the cost of a step follows the batch, not the vocabulary. Moments are full-size per parameter;
 * each parameter counts its own steps for bias correction.
 *
 * Weight decay skips parameters whose full name matches `noDecay` (by default biases and
 * LayerNorm/layer-norm parameters, as BERT fine-tuning recipes do).
 */
import { getBackend } from '../backends.js';
import { Optimizer, rowDim, stateLike, type NamedParam, type OptimizerOptions, type ParamsLike } from './optimizer.js';

export interface AdamWOptions extends OptimizerOptions {
  betas?: readonly [number, number];
  eps?: number;
  /** Decoupled weight decay (default 0.01). */
  weightDecay?: number;
  /** Parameters exempt from weight decay, by full dotted name. */
  noDecay?: RegExp | ((name: string) => boolean);
}

/** Biases and layer-norm parameters: `*.bias`, `*LayerNorm*`, `*layer_norm*`, `*layernorm*`. */
export const DEFAULT_NO_DECAY = /(^|\.)bias$|layernorm|layer_norm/i;

interface AdamState {
  m: Float32Array;
  v: Float32Array;
  t: number;
  decay: number;
}

export class AdamW extends Optimizer {
  readonly b1: number;
  readonly b2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly noDecay: (name: string) => boolean;
  private readonly state = new Map<NamedParam, AdamState>();

  constructor(params: ParamsLike, opts: AdamWOptions = {}) {
    super(params, 1e-3, opts);
    [this.b1, this.b2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    const nd = opts.noDecay ?? DEFAULT_NO_DECAY;
    this.noDecay = typeof nd === 'function' ? nd : (name) => nd.test(name);
  }

  /** Whether weight decay applies to the parameter with this full name. */
  decays(name: string): boolean {
    return this.weightDecay !== 0 && !this.noDecay(name);
  }

  protected updateDense(np: NamedParam, g: Float32Array): void {
    const s = this.stateOf(np);
    s.t++;
    getBackend().adam(np.p.size, np.p.data, g, s.m, s.v, this.lr, this.b1, this.b2, this.eps, s.decay, s.t);
  }

  protected updateRows(np: NamedParam, ids: Int32Array, rows: Float32Array): void {
    const s = this.stateOf(np);
    s.t++;
    getBackend().adamRows(ids.length, rowDim(np.p), ids, rows, np.p.data, s.m, s.v, this.lr, this.b1, this.b2, this.eps, s.decay, s.t);
  }

  private stateOf(np: NamedParam): AdamState {
    let s = this.state.get(np);
    if (!s) {
      s = { m: stateLike(np.p), v: stateLike(np.p), t: 0, decay: this.decays(np.name) ? this.weightDecay : 0 };
      this.state.set(np, s);
    }
    return s;
  }
}
