import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bertTensorsForHf, describeCheckpoint, readHfCheckpoint, writeHfCheckpoint } from '../../src/io/hfCheckpoint.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../src/io/safetensors.js';
import { InputError } from '../../src/errors.js';
import { sharedPath } from '../helpers.js';
import { pythonSkip, runReference } from '../reference/python.js';
import { TINY_VOCAB, tinyConfig, tinyWeights } from './tinyBert.js';
import { withTempDir } from './tempDir.js';


/** Rewrites dir/model.safetensors after `edit` changes its tensor map. */
async function editTensors(dir: string, edit: (m: Map<string, TensorToWrite>) => void): Promise<void> {
  const p = join(dir, 'model.safetensors');
  const f = await readSafetensors(p);
  const m = new Map<string, TensorToWrite>([...f.tensors].map(([k, v]) => [k, { shape: v.shape, data: v.data }]));
  edit(m);
  await writeSafetensors(p, m);
}

async function rejectsWith(p: Promise<unknown>, ...res: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    for (const re of res) assert.match(e.message, re);
    return true;
  });
}

const shared = sharedPath('models/bert-l4-h128-mlm');
test('reads the shared BertForMaskedLM checkpoint: bert. prefix, MLM head reported, pooler missing', { skip: shared.skip }, async () => {
  const ck = await readHfCheckpoint(shared.path!);
  assert.deepEqual(ck.config, {
    vocabSize: 30522, hiddenSize: 128, numLayers: 4, numHeads: 2, intermediateSize: 512, hiddenAct: 'gelu', maxPositions: 512,
    typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, padTokenId: 0,
  });
  assert.equal(ck.report.prefix, 'bert.');
  assert.deepEqual(ck.report.missing, ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']);
  assert.equal(ck.weights.pooler, undefined);
  assert.deepEqual(ck.report.heads.sort(), ['cls.predictions.bias', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.transform.dense.bias', 'cls.predictions.transform.dense.weight']);
  assert.deepEqual(ck.report.unexpected, []);
  assert.equal(ck.weights.layers.length, 4);
  assert.deepEqual(ck.weights.layers[3]!.output.weight.shape, [128, 512]);
  assert.deepEqual(ck.weights.embeddings.word.shape, [30522, 128]);
  assert.equal(ck.tokenizer.vocabSize, 30522);
  assert.equal(ck.tokenizer.doLowerCase, true);
  assert.match(describeCheckpoint(ck).join('\n'), /no pooler in the checkpoint .*: initialised when a pooled output is needed/);
});

test('round trip through writeHfCheckpoint, both name styles, with a pooler and a classifier head', withTempDir(async (dir) => {
  const c = tinyConfig();
  const w = tinyWeights(c, 7, true);
  for (const prefix of ['bert.', ''] as const) {
    const d = join(dir, prefix || 'bare');
    await writeHfCheckpoint(d, { config: c, weights: w, vocab: TINY_VOCAB, prefix, heads: new Map([['classifier.weight', { shape: [3, 8], data: new Float32Array(24) }]]) });
    const ck = await readHfCheckpoint(d);
    assert.equal(ck.report.prefix, prefix);
    assert.deepEqual(ck.config, c);
    assert.deepEqual(ck.weights, w);
    assert.deepEqual(ck.report.missing, []);
    assert.deepEqual(ck.report.heads, ['classifier.weight']);
    assert.deepEqual(ck.report.unexpected, []);
    const names = [...bertTensorsForHf(w, prefix).keys()];
    assert.ok(names.includes(`${prefix}encoder.layer.1.attention.output.LayerNorm.bias`));
  }
}));

test('a missing tensor names the file, the tensor and the shape it should have', withTempDir(async (dir) => {
  const c = tinyConfig();
  await writeHfCheckpoint(dir, { config: c, weights: tinyWeights(c), vocab: TINY_VOCAB });
  await editTensors(dir, (m) => m.delete('bert.encoder.layer.1.intermediate.dense.weight'));
  await rejectsWith(readHfCheckpoint(dir), /model\.safetensors/, /bert\.encoder\.layer\.1\.intermediate\.dense\.weight \[16, 8\]/, /missing 1 tensor/);
}));

test('a mis-shaped tensor names the file, the tensor and both shapes', withTempDir(async (dir) => {
  const c = tinyConfig();
  await writeHfCheckpoint(dir, { config: c, weights: tinyWeights(c), vocab: TINY_VOCAB });
  await editTensors(dir, (m) => m.set('bert.encoder.layer.0.output.dense.weight', { shape: [16, 8], data: new Float32Array(128) }));
  await rejectsWith(readHfCheckpoint(dir), /model\.safetensors \(field 'bert\.encoder\.layer\.0\.output\.dense\.weight'\)/, /shape \[16, 8\] but config\.json implies \[8, 16\]/, /intermediate_size 16/);
  // A config whose vocab_size disagrees with the embedding table is the same kind of error.
  const cfgPath = join(dir, 'config.json');
  await writeHfCheckpoint(dir, { config: c, weights: tinyWeights(c), vocab: TINY_VOCAB });
  writeFileSync(cfgPath, readFileSync(cfgPath, 'utf8').replace(`"vocab_size": ${TINY_VOCAB.length}`, '"vocab_size": 99'));
  await rejectsWith(readHfCheckpoint(dir), /word_embeddings\.weight/, /shape \[14, 8\] but config\.json implies \[99, 8\]/, /vocab_size 99/);
}));

test('a vocabulary that does not match the embedding rows is an error naming both sizes', withTempDir(async (dir) => {
  const c = tinyConfig();
  await writeHfCheckpoint(dir, { config: c, weights: tinyWeights(c), vocab: TINY_VOCAB });
  appendFileSync(join(dir, 'vocab.txt'), 'extra\n');
  await rejectsWith(readHfCheckpoint(dir), /vocab\.txt/, /15 entries but bert\.embeddings\.word_embeddings\.weight has 14 rows/);
  writeFileSync(join(dir, 'vocab.txt'), TINY_VOCAB.slice(0, 12).join('\n') + '\n');
  await rejectsWith(readHfCheckpoint(dir, { allowPaddedVocab: false }), /12 entries .* 14 rows/);
  const ck = await readHfCheckpoint(dir);
  assert.ok(ck.report.notes.some((n) => /smaller than the embedding table/.test(n)));
  // A tokenizer.json beside a matching vocab.txt is checked too (fast tokenizers prefer it).
  writeFileSync(join(dir, 'vocab.txt'), TINY_VOCAB.join('\n') + '\n');
  const vocab = Object.fromEntries(TINY_VOCAB.map((t, i) => [t, i]));
  const tj = { model: { type: 'WordPiece', vocab }, added_tokens: [{ id: TINY_VOCAB.length, content: '[NEW]' }] };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tj));
  await rejectsWith(readHfCheckpoint(dir), /tokenizer\.json: the vocabulary has 15 entries but .* 14 rows/);
  tj.added_tokens = [];
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tj));
  assert.equal((await readHfCheckpoint(dir)).tokenizer.vocabSize, 14);
}));

test('extra tensors, half a pooler, integer weights, other model types and .bin-only folders', withTempDir(async (dir) => {
  const c = tinyConfig();
  const w = tinyWeights(c);
  await writeHfCheckpoint(dir, { config: c, weights: w, vocab: TINY_VOCAB });
  await editTensors(dir, (m) => {
    m.set('bert.encoder.layer.2.output.dense.bias', { shape: [8], data: new Float32Array(8) });
    m.set('bert.embeddings.position_ids', { shape: [1, 16], data: new Int32Array(16) });
    m.set('something.else', { shape: [1], data: new Float32Array(1) });
  });
  const ck = await readHfCheckpoint(dir);
  assert.deepEqual(ck.report.unexpected.sort(), ['bert.encoder.layer.2.output.dense.bias', 'something.else']);
  assert.deepEqual(ck.report.ignored, ['bert.embeddings.position_ids']);
  assert.match(describeCheckpoint(ck).join('\n'), /unexpected tensors, ignored: .*layer\.2/);

  await editTensors(dir, (m) => m.set('bert.pooler.dense.weight', { shape: [8, 8], data: new Float32Array(64) }));
  await rejectsWith(readHfCheckpoint(dir), /bert\.pooler\.dense\.bias/, /half pooler/);

  await writeHfCheckpoint(dir, { config: c, weights: w, vocab: TINY_VOCAB });
  await editTensors(dir, (m) => m.set('bert.embeddings.LayerNorm.bias', { shape: [8], data: new Int32Array(8) }));
  await rejectsWith(readHfCheckpoint(dir), /LayerNorm\.bias/, /dtype I32 where a float tensor/);

  const cfgPath = join(dir, 'config.json');
  const cfg = readFileSync(cfgPath, 'utf8');
  writeFileSync(cfgPath, cfg.replace('"model_type": "bert"', '"model_type": "roberta"'));
  await rejectsWith(readHfCheckpoint(dir), /config\.json \(field 'model_type'\): 'roberta' is not supported/);
  writeFileSync(cfgPath, cfg.replace('"num_attention_heads": 2', '"num_attention_heads": 3'));
  await rejectsWith(readHfCheckpoint(dir), /hidden_size 8 is not a multiple of num_attention_heads 3/);
  writeFileSync(cfgPath, cfg.replace(/"hidden_size": 8,/, ''));
  await rejectsWith(readHfCheckpoint(dir), /field 'hidden_size'\): missing/);
  writeFileSync(cfgPath, cfg);

  renameSync(join(dir, 'model.safetensors'), join(dir, 'pytorch_model.bin'));
  await rejectsWith(readHfCheckpoint(dir), /pytorch_model\.bin but no model\.safetensors/);
}));

test('reads Python-written checkpoints: sharded, bare names, gamma/beta, F16 and BF16', { skip: pythonSkip(['numpy']) }, withTempDir(async (dir) => {
  const variants: Array<[string, string[]]> = [
    ['sharded', ['--shards', '3', '--pooler', '--mlm-head']],
    ['bare-old', ['--prefix', 'none', '--old-ln-names', '--pooler']],
    ['f16', ['--dtype', 'F16']],
    ['bf16', ['--dtype', 'BF16', '--layers', '1']],
  ];
  for (const [name, args] of variants) {
    const d = join(dir, name);
    runReference('make_tiny_bert.py', [d, ...args]);
    const ck = await readHfCheckpoint(d);
    assert.equal(ck.weights.layers.length, name === 'bf16' ? 1 : 2, name);
    assert.equal(ck.config.hiddenSize, 32);
    assert.equal(ck.tokenizer.vocabSize, ck.weights.embeddings.word.shape[0]);
    assert.deepEqual(ck.report.unexpected, [], name);
    if (name === 'sharded') {
      assert.ok(ck.weights.pooler);
      assert.equal(ck.report.heads.length, 5);
    }
    if (name === 'bare-old') {
      assert.equal(ck.report.prefix, '');
      assert.ok(ck.report.notes.some((n) => /gamma\/beta/.test(n)), ck.report.notes.join('; '));
    }
    if (name === 'f16') assert.ok(ck.report.notes.some((n) => /tensors: F16 converted to float32/.test(n)), ck.report.notes.join('; '));
    if (name === 'bf16') assert.ok(ck.report.notes.some((n) => /BF16 converted/.test(n)));
    // Converted values agree with an independent reading of the same file (numpy).
    if (name === 'f16') {
      const f = JSON.parse(runReference('st_dump.py', [join(d, 'model.safetensors')])) as { tensors: Record<string, { values: number[] }> };
      const key = `${ck.report.prefix}encoder.layer.0.attention.self.key.weight`;
      assert.deepEqual([...ck.weights.layers[0]!.key.weight.data], f.tensors[key]!.values);
    }
  }
}));
