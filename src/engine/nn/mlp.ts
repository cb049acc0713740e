/** A multi-layer perceptron: Linear layers with an activation (and optional dropout) between them. */
import { Module } from './module.js';
import { Linear } from './linear.js';
import { Dropout } from './dropout.js';
import type { Tensor } from '../tensor.js';
import type { Rng } from '../random.js';
import { gelu, relu, tanh } from '../ops/elementwise.js';

export type Activation = 'relu' | 'tanh' | 'gelu';
const activations: Record<Activation, (x: Tensor) => Tensor> = { relu, tanh, gelu };

export interface MlpOptions {
  activation?: Activation;
  /** Dropout after each hidden activation (default 0). */
  dropout?: number;
}

export class MLP extends Module {
  readonly layers: Linear[];
  readonly dropout: Dropout;
  private readonly act: (x: Tensor) => Tensor;

  /** sizes = [in, hidden..., out]; no activation after the last layer. */
  constructor(sizes: readonly number[], rng: Rng, opts: MlpOptions = {}) {
    super();
    this.layers = sizes.slice(1).map((n, i) => new Linear(sizes[i]!, n, rng));
    this.dropout = new Dropout(opts.dropout ?? 0, rng);
    this.act = activations[opts.activation ?? 'relu'];
  }

  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((l, i) => {
      h = l.forward(h);
      if (i < this.layers.length - 1) h = this.dropout.forward(this.act(h));
    });
    return h;
  }
}
