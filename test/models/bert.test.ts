import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertModel, loadBert, padBatch } from '../../src/models/bert/model.js';
import { bertTensorsForHf, readHfCheckpoint, writeHfCheckpoint } from '../../src/io/hfCheckpoint.js';
import { IntTensor, gradcheck, noGrad, setBackend } from '../../src/engine/index.js';
import { TINY_VOCAB, tinyConfig, tinyWeights } from '../io/tinyBert.js';
import { pythonSkip, runReference } from '../reference/python.js';
import { bertTestBackends, maxAbsDiff } from './bertBackends.js';
import { withTempDir } from '../io/tempDir.js';


test('parameter names are exactly the Hugging Face names, and loading copies every value', withTempDir(async (dir) => {
  const c = tinyConfig();
  const w = tinyWeights(c, 3, true);
  await writeHfCheckpoint(dir, { config: c, weights: w, vocab: TINY_VOCAB });
  const ck = await readHfCheckpoint(dir);
  const { model, notes } = BertModel.fromCheckpoint(ck);
  assert.deepEqual(notes, []);
  const names = model.namedParameters().map(([n]) => n).sort();
  assert.deepEqual(names, [...bertTensorsForHf(w, '').keys()].sort());
  // toWeights gives back exactly the checkpoint's values.
  assert.deepEqual(model.toWeights(), w);
  const bare = new BertModel(c, { pooler: false });
  assert.ok(!bare.namedParameters().some(([n]) => n.startsWith('pooler.')));
  // Dropping the bottom layer renumbers names and the saved checkpoint has one layer fewer.
  model.encoder.layer.splice(0, 1);
  assert.equal(model.currentConfig().numLayers, 1);
  assert.ok(model.namedParameters().some(([n]) => n === 'encoder.layer.0.output.dense.weight'));
  assert.ok(!model.namedParameters().some(([n]) => n.startsWith('encoder.layer.1.')));
  await writeHfCheckpoint(`${dir}/dropped`, { config: model.currentConfig(), weights: model.toWeights(), vocab: TINY_VOCAB });
  const dropped = await readHfCheckpoint(`${dir}/dropped`);
  assert.equal(dropped.weights.layers.length, 1);
  assert.deepEqual(dropped.weights.layers[0], w.layers[1]);
}));

test('a missing pooler is initialised (normal(0, initializer_range), zero bias) and reported', withTempDir(async (dir) => {
  const c = tinyConfig({ hiddenSize: 16, numHeads: 4 });
  await writeHfCheckpoint(dir, { config: c, weights: tinyWeights(c, 4, false), vocab: TINY_VOCAB, configExtra: { initializer_range: 0.5 } });
  const { model, notes, checkpoint } = await loadBert(dir, { seed: 11 });
  assert.deepEqual(checkpoint.report.missing, ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']);
  assert.match(notes.join('\n'), /no pooler: initialised it \(normal\(0, 0\.5\), seed 11\)/);
  const pw = model.pooler!.dense.weight.data;
  const std = Math.sqrt(pw.reduce((s, v) => s + v * v, 0) / pw.length);
  assert.ok(std > 0.35 && std < 0.65, `pooler weight std ${std}`);
  assert.ok(model.pooler!.dense.bias!.data.every((v) => v === 0));
  const again = await loadBert(dir, { seed: 11 });
  assert.deepEqual(again.model.pooler!.dense.weight.data, pw, 'same seed, same pooler');
}));

for (const [name, backend] of bertTestBackends()) {
  test(`[${name}] padding does not change the unpadded tokens' outputs`, withTempDir(async (dir) => {
    setBackend(backend);
    const c = tinyConfig();
    await writeHfCheckpoint(dir, { config: c, weights: tinyWeights(c, 5, true), vocab: TINY_VOCAB });
    const { model } = await loadBert(dir);
    model.eval();
    const a = [2, 5, 6, 7, 8, 5, 9, 3];
    const b = [2, 10, 11, 3];
    const alone = noGrad(() => model.forward({ ids: new IntTensor(Int32Array.from(b), [1, b.length]) }));
    const both = noGrad(() => model.forward(padBatch([a, b])));
    const H = c.hiddenSize;
    const T = a.length;
    const rowB = both.lastHiddenState.data.subarray(T * H, T * H + b.length * H);
    assert.ok(maxAbsDiff(rowB, alone.lastHiddenState.data) < 1e-5);
    assert.ok(maxAbsDiff(both.pooled!.data.subarray(H, 2 * H), alone.pooled!.data) < 1e-5);
    // Without the mask the padding would leak in: the check above can fail.
    const unmasked = noGrad(() => model.forward({ ids: padBatch([a, b]).ids }));
    assert.ok(maxAbsDiff(unmasked.lastHiddenState.data.subarray(T * H, T * H + b.length * H), alone.lastHiddenState.data) > 1e-3);
  }));

  test(`[${name}] gradients through the whole encoder match finite differences`, withTempDir(async (dir) => {
    setBackend(backend);
    const c = tinyConfig({ hiddenSize: 8, intermediateSize: 8, numLayers: 2, maxPositions: 8 });
    await writeHfCheckpoint(dir, { config: c, weights: tinyWeights(c, 9, true), vocab: TINY_VOCAB });
    const { model } = await loadBert(dir);
    model.eval();
    const input = { ...padBatch([[2, 5, 6, 3], [2, 7, 3]]), tokenTypes: new IntTensor(Int32Array.from([0, 0, 1, 1, 0, 1, 1, 0]), [2, 4]) };
    const p = new Map(model.namedParameters());
    const checked = ['encoder.layer.0.attention.self.query.weight', 'encoder.layer.0.attention.self.key.bias', 'encoder.layer.1.intermediate.dense.weight',
      'embeddings.LayerNorm.weight', 'embeddings.token_type_embeddings.weight', 'embeddings.word_embeddings.weight', 'pooler.dense.weight'].map((n) => p.get(n)!);
    const r = gradcheck(() => {
      const o = model.forward(input);
      return o.pooled!;
    }, checked, { eps: 1e-2, rtol: 5e-2, atol: 2e-3, maxPerInput: 12 });
    assert.ok(r.ok, r.failures.join('\n'));
    const r2 = gradcheck(() => model.forward(input).lastHiddenState, [p.get('encoder.layer.1.output.dense.weight')!, p.get('encoder.layer.0.attention.output.LayerNorm.bias')!], { eps: 1e-2, rtol: 5e-2, atol: 2e-3, maxPerInput: 12 });
    assert.ok(r2.ok, r2.failures.join('\n'));
  }));

  test(`[${name}] matches the PyTorch reference (bert_ref.py) on a Python-made checkpoint, padded batch with segments`, { skip: pythonSkip(['torch', 'numpy']) }, withTempDir(async (dir) => {
    setBackend(backend);
    runReference('make_tiny_bert.py', [dir, '--layers', '3', '--pooler', '--prefix', 'none', '--old-ln-names', '--seed', '3']);
    const { model } = await loadBert(dir);
    model.eval();
    const ids = [[3, 20, 21, 22, 23, 24, 4, 30, 31, 4], [3, 11, 12, 4, 0, 0, 0, 0, 0, 0], [3, 40, 4, 50, 51, 52, 4, 0, 0, 0]];
    const mask = ids.map((r) => r.map((v, i) => (i === 0 || v !== 0 ? 1 : 0)));
    const types = [[0, 0, 0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]];
    const flat = (m: number[][]): IntTensor => new IntTensor(Int32Array.from(m.flat()), [m.length, m[0]!.length]);
    const out = noGrad(() => model.forward({ ids: flat(ids), attentionMask: flat(mask), tokenTypes: flat(types) }));
    const ref = JSON.parse(runReference('bert_ref.py', [dir], JSON.stringify({ ids, attention_mask: mask, token_type_ids: types }))) as { last_hidden_state: number[][][]; pooler_output: number[][] };
    const dh = maxAbsDiff(out.lastHiddenState.data, ref.last_hidden_state.flat(2));
    const dp = maxAbsDiff(out.pooled!.data, ref.pooler_output.flat());
    assert.ok(dh < 1e-4 && dp < 1e-4, `max |diff|: hidden ${dh}, pooled ${dp}`);
  }));
}
