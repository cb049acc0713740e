/**
 * SGD with optional momentum and (coupled, L2-style as PyTorch) weight decay on dense gradients;
 * plain SGD on sparse rows (p[ids] -= lr * rows via indexAdd), which is what Hogwild-style
 * embedding training wants: untouched rows cost nothing.
 */
import { getBackend } from '../backends.js';
import { Optimizer, rowDim, stateLike, type NamedParam, type OptimizerOptions, type ParamsLike } from './optimizer.js';

export interface SgdOptions extends OptimizerOptions {
  momentum?: number;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly buf = new Map<NamedParam, Float32Array>();

  constructor(params: ParamsLike, opts: SgdOptions = {}) {
    super(params, 0.01, opts);
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  protected updateDense(np: NamedParam, g: Float32Array): void {
    const be = getBackend();
    const { p } = np;
    if (this.weightDecay !== 0) be.axpby(p.size, this.weightDecay, p.data, 1, g);
    let d = g;
    if (this.momentum !== 0) {
      let b = this.buf.get(np);
      if (!b) {
        b = stateLike(p);
        be.axpby(p.size, 1, g, 0, b);
        this.buf.set(np, b);
      } else {
        be.axpby(p.size, 1, g, this.momentum, b);
      }
      d = b;
    }
    be.axpby(p.size, -this.lr, d, 1, p.data);
  }

  protected updateRows(np: NamedParam, ids: Int32Array, rows: Float32Array): void {
    getBackend().indexAdd(ids.length, rowDim(np.p), rows, ids, -this.lr, np.p.data);
  }
}
