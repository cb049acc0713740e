/**
 * `compress --method int8-linear`: a transformer classifier's encoder linear layers saved as int8.
 * The saved folder predicts exactly what `--quantize int8` predicts on the fp32 folder (same codes,
 * packed as saved, no re-quantisation), round-trips through save/load, combines with a table
 * method, is reported by inspect and eval --json, and bad uses are refused naming the flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BertModel } from '../../../src/models/bert/model.js';
import { SequenceClassifier } from '../../../src/models/classifier.js';
import { classifierLogits, plainEncode, tapedEncode } from '../../../src/models/inference.js';
import { inspectModel } from '../../../src/models/inspect.js';
import { loadTaskModel, saveTaskModel, tokenizerFilesIn, type ClassifierTaskModel } from '../../../src/models/taskModel.js';
import { tokenizeAll } from '../../../src/models/textBatch.js';
import { hasInt8 } from '../../../src/models/bert/int8.js';
import { FastBert } from '../../../src/models/bert/fastForward.js';
import { writeHfCheckpoint } from '../../../src/io/hfCheckpoint.js';
import { readSafetensorsHeader } from '../../../src/io/safetensors.js';
import { loadTokenizer } from '../../../src/text/tokenizer.js';
import { compressModel } from '../../../src/train/compress/compress.js';
import { Rng } from '../../../src/engine/index.js';
import { spawnSync } from 'node:child_process';
import { runCli } from '../../cli/inProcess.js';
import { repoRoot } from '../../helpers.js';
import { classData, tempDir, tinyConfig, VOCAB } from '../fixtures.js';

const texts = ['hello the cat', 'a red fish on the big dog', 'hi', 'the small bird on the red fish . morning ?'];

async function classifier(): Promise<string> {
  const src = join(tempDir(), 'ckpt');
  const config = tinyConfig({ hiddenSize: 64, numHeads: 4, intermediateSize: 128 });
  const bert = new BertModel(config, { seed: 4, pooler: false });
  // random biases and LayerNorms too, so every part of the layer is exercised
  const rng = new Rng(9);
  for (const [name, p] of bert.namedParameters()) if (name.endsWith('.bias')) rng.fillNormal(p.data, 0, 0.1);
  await writeHfCheckpoint(src, { config, weights: bert.toWeights(), vocab: VOCAB });
  const tokenizer = loadTokenizer(src);
  const model = new SequenceClassifier(bert, { numLabels: 2, seed: 5, pooling: 'mean' });
  const out = join(tempDir(), 'clf');
  await saveTaskModel(out, { task: 'classify', model, labels: ['animal', 'greeting'], tokenizer, maxLength: 16 }, { tokenizerFiles: [join(src, 'vocab.txt')] });
  return out;
}

async function load(dir: string): Promise<ClassifierTaskModel> {
  const { model: tm } = await loadTaskModel(dir);
  if (tm.task !== 'classify') throw new Error('expected a classifier');
  return tm;
}

function logitsOf(tm: ClassifierTaskModel, quantize: 'none' | 'int8' = 'none', taped = false): Float32Array {
  const set = tokenizeAll(tm.tokenizer, texts, undefined, tm.maxLength);
  return classifierLogits(tm.model, set, 3, taped ? tapedEncode(0) : plainEncode(0, { quantize }));
}

test('int8-linear: saved int8 predicts exactly what --quantize int8 does on the fp32 folder; round trip; inspect', async () => {
  const fp32 = await classifier();
  const i8 = join(tempDir(), 'i8');
  const rep = await compressModel({ model: fp32, methods: 'int8-linear', out: i8 });
  assert.equal(rep.mode, 'posthoc');
  assert.equal(rep.after.embedding_bytes, rep.before.embedding_bytes, 'the word table is left as it was');
  // int8 codes plus one f32 scale per output channel: a quarter of the fp32 bytes plus 4/K
  const ratio = rep.after.linear_bytes / rep.before.linear_bytes;
  assert.ok(ratio > 0.25 && ratio < 0.3, `linear bytes ${rep.before.linear_bytes} -> ${rep.after.linear_bytes}`);

  const want = logitsOf(await load(fp32), 'int8');
  const tm = await load(i8);
  assert.ok(hasInt8(tm.model.bert));
  const fast = FastBert.prepare(tm.model.bert);
  assert.equal(fast.int8Source(), 'saved', 'a saved int8 model runs int8 without being asked');
  assert.deepEqual(logitsOf(tm), want, 'saved int8 = --quantize int8 on the fp32 folder');
  assert.deepEqual(logitsOf(tm, 'int8'), want, '--quantize int8 on a saved int8 folder changes nothing');

  // the fp32 parameters hold the dequantised weights: the taped forward runs the model as saved
  const taped = logitsOf(tm, 'none', true);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(taped[i]! - want[i]!) < 0.05, `taped ${taped[i]} vs int8 ${want[i]}`);

  // round trip: save the loaded model again, same bytes of codes, same predictions
  const again = join(tempDir(), 'again');
  await saveTaskModel(again, tm, { tokenizerFiles: tokenizerFilesIn(i8) });
  assert.deepEqual(logitsOf(await load(again)), want);
  const { manifest } = await loadTaskModel(again);
  const header = await readSafetensorsHeader(join(again, manifest.weights));
  const q = header.tensors.get('bert.encoder.layer.0.attention.self.query.weight_int8');
  assert.equal(q?.dtype, 'I8');
  assert.deepEqual(q?.shape, [64, 64]);
  assert.equal(header.tensors.get('bert.encoder.layer.0.attention.self.query.weight'), undefined, 'no fp32 copy saved');
  assert.equal(header.tensors.get('bert.encoder.layer.0.attention.self.query.weight_scale')?.dtype, 'F32');
  assert.equal(typeof manifest.architecture.int8_linear, 'string');

  const info = await inspectModel(i8);
  assert.equal(info.linear_format, 'int8');
  assert.equal(info.linear_bytes, rep.after.linear_bytes);
  assert.equal((await inspectModel(fp32)).linear_format, 'fp32');

  // training mode drops the codes (training changes the weights they stood for)
  tm.model.train(true);
  assert.equal(hasInt8(tm.model.bert), false);
});

test('int8-linear combines with a table method; predict, eval --json and serve-side loading agree', async () => {
  const fp32 = await classifier();
  const dir = tempDir();
  const both = join(dir, 'pq-int8');
  const r = await runCli(['compress', '--model', fp32, '--method', 'pq,int8-linear', '--pq-dsub', '8', '--pq-bits', '3', '--kmeans-iters', '3', '--out', both, '--json']);
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out);
  assert.ok(rep.after.embedding_bytes < rep.before.embedding_bytes / 2, JSON.stringify(rep));
  assert.ok(rep.after.linear_bytes < rep.before.linear_bytes / 3, JSON.stringify(rep));
  const info = await inspectModel(both);
  assert.equal((info.table as { kind: string }).kind, 'pq');
  assert.equal(info.linear_format, 'int8');
  assert.deepEqual((info.compression as { methods: string[] }).methods, ['pq', 'int8-linear']);

  // predict on the saved folder = predict --quantize int8 on the fp32 folder (same JSON)
  const i8 = join(dir, 'i8');
  assert.equal((await runCli(['compress', '--model', fp32, '--method', 'int8-linear', '--out', i8])).code, 0);
  const predict = (args: string[]): string => {
    const fromSource = import.meta.url.endsWith('.ts');
    const argv = fromSource ? ['--import', 'tsx', join(repoRoot, 'scripts', 'dev-cli.ts')] : [join(repoRoot, 'bin', 'slimtext.js')];
    const p = spawnSync(process.execPath, [...argv, 'predict', ...args, '--json', '--top-k', '2'], { input: `${texts.join('\n')}\n`, encoding: 'utf8', cwd: repoRoot });
    assert.equal(p.status, 0, p.stderr);
    return p.stdout;
  };
  assert.equal(predict(['--model', i8]), predict(['--model', fp32, '--quantize', 'int8']));

  const data = join(dir, 'test.tsv');
  await writeFile(data, texts.map((t, i) => `${t}\t${i % 2 ? 'greeting' : 'animal'}`).join('\n') + '\n');
  const e8 = JSON.parse((await runCli(['eval', '--model', i8, '--data', data, '--json'])).out);
  const eq = JSON.parse((await runCli(['eval', '--model', fp32, '--data', data, '--json', '--quantize', 'int8'])).out);
  const e32 = JSON.parse((await runCli(['eval', '--model', fp32, '--data', data, '--json'])).out);
  assert.equal(e8.accuracy, eq.accuracy);
  assert.equal(e8.linear_format, 'int8');
  assert.equal(e8.int8, 'saved');
  assert.equal(eq.int8, 'at-load');
  assert.equal(e32.int8, 'none');
  assert.ok(e8.linear_bytes < e32.linear_bytes / 3);
});

test('int8-linear: bad uses are refused naming the flag', async () => {
  const fp32 = await classifier();
  const dir = tempDir();
  const i8 = join(dir, 'i8');
  await compressModel({ model: fp32, methods: 'int8-linear', out: i8 });
  await assert.rejects(compressModel({ model: i8, methods: 'int8-linear', out: join(dir, 'x') }), /--method.*already int8.*compress the fp32 model \(its fp32 source: /);
  await assert.rejects(compressModel({ model: fp32, methods: 'int8-linear,int8-linear', out: join(dir, 'y') }), /--method.*named twice/);
  const train = classData(32, 8);
  await assert.rejects(compressModel({ model: i8, methods: 'pq', mode: 'joint', train, out: join(dir, 'z'), settings: { pqDsub: 8, pqBits: 3, kmeansIters: 2 } }), /--mode.*joint trains the model.*int8/);
  // joint training of a table, then int8-linear on the trained weights
  const joint = join(dir, 'joint');
  const rj = await compressModel({ model: fp32, methods: 'pq,int8-linear', mode: 'joint', train, epochs: 1, lr: 1e-2, out: joint, settings: { pqDsub: 8, pqBits: 3, kmeansIters: 2 } });
  assert.equal(rj.training!.epochs.length, 1);
  assert.equal((await inspectModel(joint)).linear_format, 'int8');
  assert.ok(hasInt8((await load(joint)).model.bert));
  // a table method on an int8 model post-hoc keeps the int8 encoder
  const pq = join(dir, 'pq');
  await compressModel({ model: i8, methods: 'pq', out: pq, settings: { pqDsub: 8, pqBits: 3, kmeansIters: 2 } });
  assert.equal((await inspectModel(pq)).linear_format, 'int8');

  // a DAN has no encoder
  const rows = join(dir, 'd.tsv');
  await writeFile(rows, Array.from({ length: 200 }, (_, i) => `w${i % 17} red w${i % 5}\t${i % 2 ? 'a' : 'b'}`).join('\n') + '\n');
  const dan = join(dir, 'dan');
  const d = await runCli(['distill', '--train', rows, '--out', dan, '--dim', '8', '--hidden', '8', '--max-n', '1', '--epochs', '1', '--workers', '1', '--quiet']);
  assert.equal(d.code, 0, d.err);
  const r = await runCli(['compress', '--model', dan, '--method', 'int8-linear', '--out', join(dir, 'dan8')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /--method.*int8-linear.*DAN student/);
});
