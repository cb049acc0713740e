/**
 * Times one full training step of one BERT encoder layer: forward with dropout 0.1, MSE to a fixed
 * target, backward, AdamW. bench/torch_layer_step.py does exactly the same in PyTorch.
 */
import { AdamW, Rng, additiveMask, backward, mse, randn } from '../engine/index.js';
import { EncoderLayer } from '../models/transformer/encoderLayer.js';
import { median } from './stats.js';

export interface LayerShape {
  batch: number;
  seq: number;
  hidden: number;
  heads: number;
  intermediate: number;
}

/** Median wall time (ms) of `steps` training steps after two warm-up steps, on the current backend. */
export function layerStepMs(s: LayerShape, steps: number): number {
  const rng = new Rng(0);
  const layer = new EncoderLayer({ hiddenSize: s.hidden, numHeads: s.heads, intermediateSize: s.intermediate }, rng);
  layer.train();
  const opt = new AdamW(layer, { lr: 1e-4, weightDecay: 0.01 });
  const x = randn([s.batch, s.seq, s.hidden], rng);
  const target = randn([s.batch, s.seq, s.hidden], rng);
  const mask = additiveMask(new Int32Array(s.batch * s.seq).fill(1), [s.batch, s.seq]);
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t0 = process.hrtime.bigint();
    backward(mse(layer.forward(x, mask), target));
    opt.step();
    if (i >= 2) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}
