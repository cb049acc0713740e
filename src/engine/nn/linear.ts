/**
 * Linear: y = x W^T + b with W stored [out, in] as PyTorch stores it; x (..., in) -> (..., out).
 * Default initialisation is PyTorch's (uniform +-1/sqrt(in)); `std` gives BERT's normal(0, std)
 * with zero bias.
 */
import { Module, Parameter } from './module.js';
import type { Tensor } from '../tensor.js';
import type { Rng } from '../random.js';
import { linear } from '../ops/matmul.js';

export interface LinearOptions {
  bias?: boolean;
  /** Normal(0, std) weights and zero bias instead of the uniform default. */
  std?: number;
}

/**
 * A weight saved as int8 (per output channel: weight[n, k] = codes[n, k] * scales[n]); the weight
 * parameter then holds exactly those dequantised values, so every reader of it sees the model as
 * saved, and the int8 inference path packs the codes as they are instead of re-quantising.
 */
export interface Int8Weight {
  codes: Int8Array;
  scales: Float32Array;
}

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | undefined;
  /** The saved int8 form of `weight`; dropped when the module goes into training mode (training changes the weight). */
  int8: Int8Weight | undefined;

  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Rng, opts: LinearOptions = {}) {
    super();
    this.weight = new Parameter(new Float32Array(outFeatures * inFeatures), [outFeatures, inFeatures], 'weight');
    this.bias = opts.bias === false ? undefined : new Parameter(new Float32Array(outFeatures), [outFeatures], 'bias');
    if (opts.std !== undefined) {
      rng.fillNormal(this.weight.data, 0, opts.std);
    } else {
      const bound = 1 / Math.sqrt(inFeatures);
      rng.fillUniform(this.weight.data, -bound, bound);
      if (this.bias) rng.fillUniform(this.bias.data, -bound, bound);
    }
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override train(on = true): this {
    if (on) this.int8 = undefined;
    return super.train(on);
  }
}
