/** BiEncoder: shared or separate weights, scores, the in-batch loss, and a save/load round trip. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntTensor, Rng, backward, randn, reshape, tensor, type Tensor } from '../../src/engine/index.js';
import { writeHfCheckpoint } from '../../src/io/hfCheckpoint.js';
import { BertModel } from '../../src/models/bert/model.js';
import { BiEncoder } from '../../src/models/biEncoder.js';
import { plainEncode, sideVectors } from '../../src/models/inference.js';
import { Predictor } from '../../src/models/predictor.js';
import { loadTaskModel, saveTaskModel } from '../../src/models/taskModel.js';
import { tokenizeAll } from '../../src/models/textBatch.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { tinyConfig, VOCAB } from '../train/fixtures.js';

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'slimtext-bi-'));
  process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('shared weights list one encoder; separate weights list two', () => {
  const shared = new BiEncoder(new BertModel(tinyConfig(), { pooler: false }), undefined);
  assert.equal(shared.shared, true);
  assert.equal(shared.encoders().length, 1);
  const names = shared.namedParameters().map(([n]) => n);
  assert.ok(names.every((n) => n.startsWith('messageEncoder.')));
  const separate = new BiEncoder(new BertModel(tinyConfig(), { pooler: false }), new BertModel(tinyConfig(), { pooler: false, seed: 1 }));
  assert.equal(separate.parameterCount(), 2 * shared.parameterCount());
  assert.ok(separate.namedParameters().some(([n]) => n.startsWith('replyEncoder.')));
});

test('cosine scores are scaled cosines; the in-batch loss is low when each message matches its own reply', () => {
  const m = new BiEncoder(new BertModel(tinyConfig(), { pooler: false }), undefined, { score: 'cosine', scale: 10 });
  const last = tensor([3, 4, 0, 0, 1, 0], [2, 1, 3]);
  const mask = new IntTensor(Int32Array.of(1, 1), [2, 1]);
  const u = m.vectors(last, mask);
  assert.deepEqual(Array.from(u.data, (x) => Math.round(x * 1e6) / 1e6), [0.6, 0.8, 0, 0, 1, 0]);
  const s = m.scores(u, u);
  assert.deepEqual(Array.from(s.data, (x) => Math.round(x * 1e5) / 1e5), [10, 8, 8, 10]);
  const rng = new Rng(1);
  const a = randn([8, 16], rng, 1, { requiresGrad: true });
  const matched = m.inBatchLoss(m.vectors(reshape3(a), ones(8)), m.vectors(reshape3(a), ones(8))).item();
  const b = randn([8, 16], rng);
  const random = m.inBatchLoss(m.vectors(reshape3(a), ones(8)), m.vectors(reshape3(b), ones(8)));
  assert.ok(matched < 0.01, `matched loss ${matched}`);
  assert.ok(random.item() > 1, `random loss ${random.item()}`);
  backward(random);
  assert.ok(a.grad && a.grad.some((x) => x !== 0));
});

test('a saved bi-encoder loads back with its reply set and ranks replies as before', async () => {
  const src = tmp();
  const config = tinyConfig();
  const msg = new BertModel(config, { seed: 2, pooler: false });
  await writeHfCheckpoint(src, { config, weights: msg.toWeights(), vocab: VOCAB });
  const tokenizer = loadTokenizer(src);
  const model = new BiEncoder(msg, new BertModel(config, { seed: 3, pooler: false }), { pooling: 'mean', score: 'dot' });
  const responses = ['hello .', 'the cat', 'a big dog ?'];
  const out = tmp();
  await saveTaskModel(out, { task: 'reply', model, responses, tokenizer, maxLength: 10 }, { tokenizerFiles: [join(src, 'vocab.txt')] });
  const { model: tm } = await loadTaskModel(out);
  if (tm.task !== 'reply') throw new Error('expected a reply model');
  assert.deepEqual(tm.responses, responses);
  assert.equal(tm.model.shared, false);
  assert.equal(tm.model.pooling, 'mean');
  assert.equal(tm.model.score, 'dot');
  const set = tokenizeAll(tokenizer, responses, undefined, 10);
  assert.deepEqual(sideVectors(tm.model, 'reply', set, 2, plainEncode(0)), sideVectors(model, 'reply', set, 2, plainEncode(0)));
  const top = new Predictor(tm, { topK: 2 }).predict(['hi the dog', 'morning']);
  assert.equal(top.length, 2);
  assert.equal(top[0]!.length, 2);
  assert.ok(top.every((r) => r.every((x) => responses.includes(x.text)) && r[0]!.score >= r[1]!.score));
});

/** Sentence vectors (n, h) as one-token hidden states (n, 1, h), so mean and [CLS] pooling return them as they are. */
function reshape3(x: Tensor): Tensor {
  return reshape(x, [x.shape[0]!, 1, x.shape[1]!]);
}

function ones(n: number): IntTensor {
  return new IntTensor(new Int32Array(n).fill(1), [n, 1]);
}
