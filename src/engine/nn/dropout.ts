/** Dropout as a module: active only in training mode, a fresh seed per call from its own Rng. */
import { Module } from './module.js';
import type { Tensor } from '../tensor.js';
import type { Rng } from '../random.js';
import { dropout } from '../ops/dropout.js';

export class Dropout extends Module {
  private readonly rng: Rng;

  constructor(readonly p: number, rng: Rng) {
    super();
    this.rng = rng.fork();
  }

  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? dropout(x, this.p, this.rng.seed()) : x;
  }

  /**
   * For an op that applies this dropout itself (residualLayerNorm): the seed forward would use
   * now, drawn from the same generator, or undefined when forward would do nothing.
   */
  nextSeed(): number | undefined {
    return this.training && this.p > 0 ? this.rng.seed() : undefined;
  }
}
