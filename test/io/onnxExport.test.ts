/**
 * ONNX export checked by onnxruntime-node: logits (and the encoder's last hidden state) within
 * 1e-4 of slimtext's on a padded batch of different lengths, for the pooler and mean-pooling
 * classifiers and the pretrained shared BERT; HF input names; dynamic batch and sequence axes; the
 * tokenizer files and config.json written beside it; DAN models refused with a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../../src/engine/index.js';
import { loadAnyModel } from '../../src/models/anyModel.js';
import { classifierLogits, plainEncode } from '../../src/models/inference.js';
import { padRows, tokenizeAll } from '../../src/models/textBatch.js';
import { writeOnnx } from '../../src/io/onnx/export.js';
import { danFolder, sharedTransformerFolder, tinyTransformerFolder } from '../runtime/fixtures.js';
import { tempDir } from '../train/fixtures.js';

const TEXTS = ['hello the cat', 'a red fish on the big dog and the small bird .', 'hi', 'cats ? dogs', ''];

async function check(dir: string, t: { diagnostic: (s: string) => void }, texts = TEXTS): Promise<void> {
  const ort = await import('onnxruntime-node');
  const tm = await loadAnyModel(dir);
  if (!('tokenizer' in tm) || tm.task !== 'classify') throw new Error('expected a classifier');
  const out = join(tempDir('slimtext-onnx-'), 'model.onnx');
  const r = await writeOnnx(out, tm, { source: dir });
  for (const f of ['config.json', 'tokenizer_config.json']) assert.ok(existsSync(join(out, '..', f)), f);
  assert.ok(existsSync(join(out, '..', 'vocab.txt')) || existsSync(join(out, '..', 'tokenizer.json')));
  assert.equal(JSON.parse(readFileSync(join(out, '..', 'config.json'), 'utf8')).id2label['0'], tm.labels[0]);
  const session = await ort.InferenceSession.create(out);
  assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
  assert.deepEqual(session.outputNames, ['logits']);
  const set = tokenizeAll(tm.tokenizer, texts, undefined, tm.maxLength);
  const rows = Int32Array.from(texts.map((_, i) => i));
  const batch = padRows(set, rows, tm.tokenizer.padId);
  const [B, T] = batch.ids.shape as [number, number];
  const i64 = (a: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(Array.from(a, BigInt)), [B, T]);
  const feeds = { input_ids: i64(batch.ids.data), attention_mask: i64(batch.attentionMask.data), token_type_ids: i64(batch.tokenTypes?.data ?? new Int32Array(B * T)) };
  const got = (await session.run(feeds)).logits!.data as Float32Array;
  const want = classifierLogits(tm.model, set, 64, plainEncode(tm.tokenizer.padId));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  t.diagnostic(`${dir}: ${r.bytes} bytes, max |logit difference| ${worst.toExponential(2)} over (${B}, ${T})`);
  assert.ok(worst < 1e-4, `max logit difference ${worst}`);
  // The encoder alone.
  const encOut = join(tempDir('slimtext-onnx-'), 'encoder.onnx');
  await writeOnnx(encOut, tm, { encoderOnly: true });
  const enc = await ort.InferenceSession.create(encOut);
  const last = (await enc.run(feeds)).last_hidden_state!;
  assert.deepEqual(last.dims, [B, T, tm.model.bert.config.hiddenSize]);
  const ref = noGrad(() => tm.model.bert.encode(tm.model.bert.embed(batch), tm.model.bert.maskFor(batch))).data;
  let w2 = 0;
  const ld = last.data as Float32Array;
  for (let i = 0; i < ref.length; i++) if (batch.attentionMask.data[Math.floor(i / tm.model.bert.config.hiddenSize)]) w2 = Math.max(w2, Math.abs(ld[i]! - ref[i]!));
  assert.ok(w2 < 1e-4, `max hidden-state difference ${w2}`);
  // Another batch size and sequence length through the same session (dynamic axes).
  const one = tokenizeAll(tm.tokenizer, [texts[0]!], undefined, tm.maxLength);
  const b1 = padRows(one, Int32Array.of(0), 0);
  const T1 = b1.ids.shape[1]!;
  const f1 = (a: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(Array.from(a, BigInt)), [1, T1]);
  const l1 = (await session.run({ input_ids: f1(b1.ids.data), attention_mask: f1(b1.attentionMask.data), token_type_ids: f1(new Int32Array(T1)) })).logits!.data as Float32Array;
  for (let c = 0; c < tm.labels.length; c++) assert.ok(Math.abs(l1[c]! - want[c]!) < 1e-4);
}

test('ONNX export (pooler on [CLS]) runs in onnxruntime-node with slimtext logits', async (t) => {
  await check(await tinyTransformerFolder('cls'), t);
});

test('ONNX export (mean pooling) runs in onnxruntime-node with slimtext logits', async (t) => {
  await check(await tinyTransformerFolder('mean', 8), t);
});

test('ONNX export of a classifier with a compressed (PQ) word table: the dense reconstruction', async (t) => {
  await check(await tinyTransformerFolder('mean', 13, 'pq'), t);
});

test('ONNX export of a classifier over the pretrained shared BERT', async (t) => {
  const dir = await sharedTransformerFolder();
  if (!dir) return t.skip('../shared/models/bert-l4-h128-mlm is missing');
  await check(dir, t, ['book a table for two at seven', 'what is my account balance', 'unbelievable!', 'play jazz', '']);
});

test('ONNX export refuses DAN students and existing files', async () => {
  const dan = await loadAnyModel(await danFolder('dense'));
  await assert.rejects(writeOnnx(join(tempDir('slimtext-onnx-'), 'x.onnx'), dan), /ONNX export takes transformer classifiers; this is a DAN student/);
  const dir = await tinyTransformerFolder('cls');
  const out = join(tempDir('slimtext-onnx-'), 'm.onnx');
  await writeOnnx(out, await loadAnyModel(dir));
  await assert.rejects(writeOnnx(out, await loadAnyModel(dir)), /already exists; pass --overwrite/);
});
