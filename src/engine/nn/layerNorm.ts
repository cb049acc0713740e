/** LayerNorm over the last dimension with parameters named as Hugging Face names them (weight, bias). */
import { Module, Parameter } from './module.js';
import type { Tensor } from '../tensor.js';
import { layerNorm } from '../ops/layerNorm.js';

export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  /** eps defaults to BERT's 1e-12. */
  constructor(readonly dim: number, readonly eps = 1e-12) {
    super();
    this.weight = new Parameter(new Float32Array(dim).fill(1), [dim], 'weight');
    this.bias = new Parameter(new Float32Array(dim), [dim], 'bias');
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
