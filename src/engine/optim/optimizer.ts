/**
 * What every optimiser shares: the named parameters it updates, the learning rate (fixed or from a
 * schedule), the step counter, and gradient bookkeeping. Gradients accumulate over any number of
 * backward calls (gradient accumulation) and are consumed by step(), which clears them after the
 * update unless `keepGrads` is set.
 *
 * A parameter with both a dense and a sparse gradient (an embedding table also used in a dense op,
 * e.g. tied output weights) has its sparse rows folded into the dense gradient first.
 */
import type { Tensor } from '../tensor.js';
import { Module } from '../nn/module.js';

export type ParamsLike = Module | Iterable<readonly [string, Tensor]> | readonly Tensor[];

export interface NamedParam {
  readonly name: string;
  readonly p: Tensor;
}

export interface OptimizerOptions {
  /** Learning rate (or the peak a schedule scales); default depends on the optimiser. */
  lr?: number;
  /** lr for update k (counting from 0); overrides `lr` when given. */
  schedule?: (step: number) => number;
  /** Leave gradients in place after step() (default false: step consumes them). */
  keepGrads?: boolean;
}

export abstract class Optimizer {
  readonly params: readonly NamedParam[];
  /** The learning rate of the last (or, before any step, the next) update. */
  lr: number;
  /** Number of step() calls so far. */
  stepCount = 0;
  private readonly schedule: ((step: number) => number) | undefined;
  private readonly keepGrads: boolean;

  constructor(params: ParamsLike, defaultLr: number, opts: OptimizerOptions) {
    this.params = namedParams(params);
    this.schedule = opts.schedule;
    this.keepGrads = opts.keepGrads ?? false;
    this.lr = opts.schedule ? opts.schedule(0) : opts.lr ?? defaultLr;
  }

  /** Applies one update to every parameter that has a gradient, then clears the gradients. */
  step(): void {
    if (this.schedule) this.lr = this.schedule(this.stepCount);
    for (const np of this.params) {
      const p = np.p;
      if (!p.requiresGrad) continue;
      foldSparseIntoDense(p);
      if (p.grad) this.updateDense(np, p.grad);
      else if (p.sparseGrad && p.sparseGrad.count > 0) this.updateRows(np, p.sparseGrad.ids, p.sparseGrad.rows);
    }
    this.stepCount++;
    if (!this.keepGrads) this.zeroGrad();
  }

  zeroGrad(): void {
    for (const { p } of this.params) p.zeroGrad();
  }

  /** Update from a dense gradient g (same size as p). */
  protected abstract updateDense(np: NamedParam, g: Float32Array): void;
  /** Update only rows `ids` of a (rows, dim) table from their gradient rows. */
  protected abstract updateRows(np: NamedParam, ids: Int32Array, rows: Float32Array): void;
}

/** (name, tensor) pairs from a module, pairs, or a bare list (named param0, param1, ...). */
export function namedParams(params: ParamsLike): NamedParam[] {
  if (params instanceof Module) return params.namedParameters().map(([name, p]) => ({ name, p }));
  const out: NamedParam[] = [];
  let i = 0;
  for (const e of params as Iterable<Tensor | readonly [string, Tensor]>) {
    if (Array.isArray(e)) out.push({ name: e[0] as string, p: e[1] as Tensor });
    else out.push({ name: `param${i}`, p: e as Tensor });
    i++;
  }
  return out;
}

/** Row width of a table parameter (its last dimension). */
export function rowDim(p: Tensor): number {
  return p.shape[p.ndim - 1] ?? 1;
}

/** A zeroed buffer the size of p (optimiser state). */
export function stateLike(p: Tensor): Float32Array {
  return new Float32Array(p.size);
}

/** Adds a parameter's sparse gradient rows into its dense gradient, when it has both. */
export function foldSparseIntoDense(p: Tensor): void {
  if (p.grad && p.sparseGrad && p.sparseGrad.count > 0) {
    p.sparseGrad.addInto(p.grad);
    p.sparseGrad.clear();
  }
}
