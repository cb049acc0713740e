/**
 * The post-LN encoder layer: Hugging Face parameter names, a training step (dropout on, mask on)
 * that passes a finite-difference gradient check w.r.t. the input and every parameter on every
 * backend, masking, learning, and agreement with an independent PyTorch layer when
 * /usr/bin/python3 has torch.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  AdamW, Rng, additiveMask, backward, crossEntropy, gradcheck, linear, noGrad, reshape, uniform,
} from '../../src/engine/index.js';
import { EncoderLayer, type EncoderLayerConfig } from '../../src/models/transformer/encoderLayer.js';
import { backendsUnderTest, withBackend } from '../engine/backendsUnderTest.js';

const config: EncoderLayerConfig = { hiddenSize: 8, numHeads: 2, intermediateSize: 12, hiddenDropout: 0.1, attentionDropout: 0.1, layerNormEps: 1e-5 };
const B = 2, T = 3;
const mask = () => additiveMask([1, 1, 1, 1, 1, 0], [B, T]);

test('parameter names are Hugging Face BERT layer names, Linear weights [out, in]', () => {
  const layer = new EncoderLayer(config, new Rng(0));
  const names = layer.namedParameters('bert.encoder.layer.0').map(([n, p]) => `${n} [${p.shape.join(', ')}]`);
  assert.deepEqual(names, [
    'bert.encoder.layer.0.attention.self.query.weight [8, 8]', 'bert.encoder.layer.0.attention.self.query.bias [8]',
    'bert.encoder.layer.0.attention.self.key.weight [8, 8]', 'bert.encoder.layer.0.attention.self.key.bias [8]',
    'bert.encoder.layer.0.attention.self.value.weight [8, 8]', 'bert.encoder.layer.0.attention.self.value.bias [8]',
    'bert.encoder.layer.0.attention.output.dense.weight [8, 8]', 'bert.encoder.layer.0.attention.output.dense.bias [8]',
    'bert.encoder.layer.0.attention.output.LayerNorm.weight [8]', 'bert.encoder.layer.0.attention.output.LayerNorm.bias [8]',
    'bert.encoder.layer.0.intermediate.dense.weight [12, 8]', 'bert.encoder.layer.0.intermediate.dense.bias [12]',
    'bert.encoder.layer.0.output.dense.weight [8, 12]', 'bert.encoder.layer.0.output.dense.bias [8]',
    'bert.encoder.layer.0.output.LayerNorm.weight [8]', 'bert.encoder.layer.0.output.LayerNorm.bias [8]',
  ]);
  assert.throws(() => new EncoderLayer({ ...config, numHeads: 3 }, new Rng(0)), /EncoderLayer: hidden size 8 is not divisible by 3 heads/);
});

for (const { name, backend } of backendsUnderTest) {
  describe(`encoder layer on ${name}`, () => {
    test('a training step (dropout and mask on) passes a gradient check on every parameter', () => withBackend(backend, () => {
      const rng = new Rng(3);
      // init std 0.3 rather than 0.02 so every parameter has a gradient well above float32 noise
      const layer = new EncoderLayer({ ...config, initStd: 0.3 }, rng);
      // LayerNorm weights away from 1 and biases away from 0, so their gradients are exercised generally
      for (const [n, p] of layer.namedParameters()) if (n.includes('LayerNorm')) rng.fillUniform(p.data, n.endsWith('weight') ? 0.5 : -0.5, n.endsWith('weight') ? 1.5 : 0.5);
      const x = uniform([B, T, 8], rng, -1, 1, { requiresGrad: true });
      const head = uniform([3, 8], rng, -1, 1);
      const labels = [0, 2, 1, 1, 0, 2];
      const loss = () => {
        layer.reseed(17); // the same dropout masks on every evaluation
        const y = layer.forward(x, mask());
        return crossEntropy(linear(reshape(y, [B * T, 8]), head), labels);
      };
      const r = gradcheck(loss, [x, ...layer.parameters()], { maxPerInput: 12 });
      if (process.env.GRADCHECK_VERBOSE) console.log('encoder gradcheck', r.worst, r.skipped, r.checked);
      assert.ok(r.ok, `worst ${r.worst.toFixed(3)}, skipped ${r.skipped}/${r.checked}\n${r.failures.join('\n')}`);
      for (const p of layer.parameters()) assert.ok(p.grad, 'every parameter got a gradient');
    }));

    test('padded positions do not change the other positions; eval mode is deterministic', () => withBackend(backend, () => {
      const layer = new EncoderLayer(config, new Rng(4)).eval();
      const x = uniform([B, T, 8], new Rng(5), -1, 1);
      const y1 = noGrad(() => layer.forward(x, mask())).toArray();
      x.data.fill(9, (B * T - 1) * 8); // change only the padded token (batch 1, position 2)
      const y2 = noGrad(() => layer.forward(x, mask())).toArray();
      assert.deepEqual(y2.slice(0, (B * T - 1) * 8), y1.slice(0, (B * T - 1) * 8));
      assert.notDeepEqual(y2.slice((B * T - 1) * 8), y1.slice((B * T - 1) * 8));
    }));

    test('a few AdamW steps lower the loss', () => withBackend(backend, () => {
      const rng = new Rng(6);
      const layer = new EncoderLayer({ ...config, hiddenDropout: 0, attentionDropout: 0 }, rng);
      const x = uniform([B, T, 8], rng, -1, 1);
      const head = uniform([3, 8], rng, -1, 1);
      const opt = new AdamW(layer, { lr: 0.01 });
      const losses: number[] = [];
      for (let s = 0; s < 20; s++) {
        const loss = crossEntropy(linear(reshape(layer.forward(x, mask()), [B * T, 8]), head), [0, 2, 1, 1, 0, 2]);
        losses.push(loss.item());
        backward(loss);
        opt.step();
      }
      assert.ok(losses.at(-1)! < 0.5 * losses[0]!, `${losses[0]} -> ${losses.at(-1)}`);
    }));
  });
}

// An independent PyTorch post-LN BERT layer (written from the BERT paper / HF modeling_bert).
const torchLayer = `
import json, sys, math, torch
d = json.load(sys.stdin)
P = {k: torch.tensor(v, dtype=torch.float64) for k, v in d['params'].items()}
x = torch.tensor(d['x'], dtype=torch.float64); m = torch.tensor(d['mask'], dtype=torch.float64)
B, T, H = x.shape; h = d['heads']; dh = H // h
lin = lambda t, n: t @ P[n + '.weight'].T + P[n + '.bias']
ln = lambda t, n: torch.nn.functional.layer_norm(t, (H,), P[n + '.weight'], P[n + '.bias'], d['eps'])
split = lambda t: t.view(B, T, h, dh).permute(0, 2, 1, 3)
q, k, v = (split(lin(x, 'attention.self.' + n)) for n in ('query', 'key', 'value'))
s = q @ k.transpose(-1, -2) / math.sqrt(dh) + (1 - m)[:, None, None, :] * -10000.0
ctx = (torch.softmax(s, -1) @ v).permute(0, 2, 1, 3).reshape(B, T, H)
a = ln(lin(ctx, 'attention.output.dense') + x, 'attention.output.LayerNorm')
i = torch.nn.functional.gelu(lin(a, 'intermediate.dense'))
y = ln(lin(i, 'output.dense') + a, 'output.LayerNorm')
print(json.dumps(y.flatten().tolist()))
`;

const python = '/usr/bin/python3';
const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

test('eval-mode output matches an independent PyTorch layer (max abs diff < 1e-4)', { skip: hasTorch ? false : `needs ${python} with torch` }, () => {
  const layer = new EncoderLayer({ ...config, initStd: 0.2 }, new Rng(8)).eval();
  const rng = new Rng(9);
  for (const [n, p] of layer.namedParameters()) if (n.includes('LayerNorm')) rng.fillUniform(p.data, 0.5, 1.5);
  const x = uniform([B, T, 8], rng, -1, 1);
  const m = [1, 1, 1, 1, 1, 0];
  const ours = noGrad(() => layer.forward(x, additiveMask(m, [B, T]))).toArray();
  const params: Record<string, number[][] | number[]> = {};
  for (const [n, p] of layer.namedParameters()) {
    params[n] = p.ndim === 2 ? Array.from({ length: p.shape[0]! }, (_, r) => Array.from(p.data.subarray(r * p.shape[1]!, (r + 1) * p.shape[1]!))) : p.toArray();
  }
  const xs = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Array.from(x.data.subarray((b * T + t) * 8, (b * T + t + 1) * 8))));
  const input = JSON.stringify({ params, x: xs, mask: [m.slice(0, T), m.slice(T)], heads: 2, eps: 1e-5 });
  const r = spawnSync(python, ['-c', torchLayer], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as number[];
  const diff = Math.max(...want.map((w, i) => Math.abs(w - ours[i]!)));
  assert.ok(diff < 1e-4, `max abs diff ${diff}`);
  if (process.env.GRADCHECK_VERBOSE) console.log('torch max abs diff', diff);
  assert.equal(want.length, ours.length);
});
