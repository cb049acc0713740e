/**
 * slimtext/runtime against slimtext itself: for every model kind (DAN over each table format, with
 * and without buckets / hidden layer; BERT classifiers with the pooler and with mean pooling; f32
 * and f16 exports) the runtime's labels and scores equal `slimtext predict`'s (the Predictor) on
 * the same model folder, for ordinary, unicode, empty and very long texts. Bad bundles are refused
 * with errors that say what is wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAnyModel } from '../../src/models/anyModel.js';
import { Predictor } from '../../src/models/predictor.js';
import { encodeSlimBundle } from '../../src/io/slimBundle.js';
import { loadBundle, singleTask, BundleError, type SlimModel } from '../../src/runtime/index.js';
import { crc32, decodeFrontCoded, encodeFrontCoded, halfToFloat } from '../../src/runtime/format.js';
import { halfTable } from '../../src/io/half.js';
import { spawnSync } from 'node:child_process';
import zlib from 'node:zlib';
import { words } from '../../src/runtime/text.js';
import { bertWords } from '../../src/text/bertNormalizer.js';
import { DAN_KINDS, TEXTS, danFolder, sharedTransformerFolder, tinyTransformerFolder } from './fixtures.js';

/** Runtime scores equal the Predictor's for every label of every text. */
async function assertSameAsPredict(dir: string, opts: { dtype?: 'f32' | 'f16'; tol?: number; texts?: readonly string[]; wasm?: boolean } = {}): Promise<SlimModel> {
  const tm = await loadAnyModel(dir);
  const bytes = encodeSlimBundle(tm, { dtype: opts.dtype ?? 'f32' });
  const rt = singleTask(await loadBundle(bytes, { wasm: opts.wasm }));
  const texts = opts.texts ?? TEXTS;
  const labels = 'labels' in tm ? tm.labels : [];
  const want = new Predictor(tm, { topK: labels.length }).predict(texts as string[]);
  const tol = opts.tol ?? 2e-5;
  texts.forEach((t, i) => {
    const got = rt.predict(t);
    const w = want[i]!;
    const where = `${dir} text ${i} (${JSON.stringify(t.slice(0, 40))})`;
    assert.equal(got.length, w.length, where);
    const score = new Map(w.map((x) => [x.text, x.score]));
    for (const g of got) assert.ok(Math.abs(g.score - score.get(g.label)!) <= tol, `${where}: ${g.label} ${g.score} vs ${score.get(g.label)}`);
    if (w[0]!.score - w[1]!.score > 4 * tol) assert.equal(got[0]!.label, w[0]!.text, `${where}: top label`);
  });
  return rt;
}

for (const kind of DAN_KINDS) {
  test(`DAN (${kind} table): runtime predictions equal slimtext predict, with the WebAssembly kernel and without`, async () => {
    const dir = await danFolder(kind);
    const rt = await assertSameAsPredict(dir);
    assert.equal((rt as unknown as { net: { wasm: boolean } }).net.wasm, true, 'Node has WebAssembly SIMD: the kernel runs');
    await assertSameAsPredict(dir, { wasm: false });
  });
}

const IN_KERNEL = { 'pq-qnorm': 'norm-quantised pq table: the kernel sums the scaled rows', int8: 'int8 table: the kernel sums the dequantised rows', int4: 'int4 table: the kernel sums the dequantised rows' } as const;
for (const [kind, what] of Object.entries(IN_KERNEL) as [keyof typeof IN_KERNEL, string][]) test(`DAN (${what}); kernel, plain-JS and DanPredictor logits agree within 1e-5`, async () => {
  const texts = [...TEXTS, ...asciiTexts(100, 3)];
  for (const opts of [{ seed: 21 }, { buckets: 0, hidden: 0, seed: 22 }]) {
    const dir = await danFolder(kind, opts);
    const tm = await loadAnyModel(dir);
    assert.ok('dan' in tm, 'a DAN model');
    const bytes = encodeSlimBundle(tm);
    const net = (m: SlimModel) => (m as unknown as { net: { wasm: boolean; tableInKernel: boolean } }).net;
    const fast = singleTask(await loadBundle(bytes));
    const js = singleTask(await loadBundle(bytes, { wasm: false }));
    assert.equal(net(fast).tableInKernel, true, `the ${kind} table is summed in the kernel, not by the JS reader`);
    assert.equal(net(js).tableInKernel, false);
    const engine = tm.dan.predictor();
    for (const t of texts) {
      const a = fast.logits(t), b = js.logits(t), e = engine.logitsOne(t);
      for (let c = 0; c < a.length; c++) {
        const where = `${JSON.stringify(t.slice(0, 40))} label ${c}`;
        assert.ok(Math.abs(a[c]! - e[c]!) <= 1e-5, `kernel ${a[c]} vs DanPredictor ${e[c]}: ${where}`);
        // The plain-JS reader sums in f64, the kernels in f32 in the same order: over the 9,000 ids of the 3,000-word text they part by ~3e-5.
        assert.ok(Math.abs(b[c]! - e[c]!) <= (t.length > 10_000 ? 1e-4 : 1e-5), `plain JS ${b[c]} vs DanPredictor ${e[c]}: ${where}`);
      }
    }
  }
});

/** Random printable-ASCII texts (the runtime's char-code word scan) mixing known words, punctuation, digits, case and runs of spaces. */
function asciiTexts(n: number, seed: number): string[] {
  let x = seed;
  const r = (k: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % k;
  const pieces = ['book', 'a', 'Table', 'for', 'two', 'RED', 'fish', 'jazz', 'play', 'balance', 'my', 'tokyo', "can't", 'x1', '42', ' ', '  ', ',', '.', '!?', '-', '@', '[', ']', '{', '}', '~', '`', '_', '^', '\\', '/', ':', ';', '"', "'", 'e-mail', 'zz'];
  return Array.from({ length: n }, () => Array.from({ length: 1 + r(25) }, () => pieces[r(pieces.length)]).join(r(3) ? ' ' : ''));
}

test('DAN: random ASCII texts predict as slimtext does (word scan, n-gram hash table, buckets), kernel or not', async () => {
  const texts = asciiTexts(300, 7);
  for (const t of texts.slice(0, 50)) assert.deepEqual(words(t, true), bertWords(t, { lowercase: true }));
  for (const kind of ['pq', 'dense'] as const) {
    const dir = await danFolder(kind, { seed: 11 });
    await assertSameAsPredict(dir, { texts });
    await assertSameAsPredict(dir, { texts, wasm: false });
  }
  await assertSameAsPredict(await danFolder('pq', { buckets: 0, hidden: 0, seed: 12 }), { texts });
});

test('the inlined WebAssembly kernel is the one its source compiles to', () => {
  const r = spawnSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `src/runtime/kernelBytes.ts is stale: run npm run build:wasm (${r.stdout}${r.stderr})`);
});

test('f16 widening: every half bit pattern, aligned or not, as the io layer decodes it', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const odd = new Uint8Array(65536 * 2 + 1);
  odd.set(new Uint8Array(all.buffer), 1);
  const want = halfTable();
  for (const b of [new Uint8Array(all.buffer), odd.subarray(1)]) {
    const got = halfToFloat(b, 65536);
    for (let h = 0; h < 65536; h++) if (!Object.is(got[h], want[h])) assert.fail(`half 0x${h.toString(16)}: ${got[h]} vs ${want[h]}`);
  }
});

test("CRC-32 (slicing by 8, in JS and in the WebAssembly kernel) equals zlib", () => {
  const b = new Uint8Array(100_003).map((_, i) => (i * 7919 + (i >> 7)) & 255);
  for (const n of [0, 1, 7, 8, 9, 63, 4096, 16_384, 65_537, 100_003]) assert.equal(crc32(b.subarray(0, n)), zlib.crc32(b.subarray(0, n)), `${n} bytes`);
});

test('DAN without buckets or hidden layer: runtime predictions equal slimtext predict', async () => {
  await assertSameAsPredict(await danFolder('dense', { buckets: 0, hidden: 0, seed: 5 }));
  await assertSameAsPredict(await danFolder('int8', { buckets: 0, hidden: 7, seed: 6 }));
});

test('BERT classifier (pooler on [CLS]): runtime predictions equal slimtext predict', async () => {
  await assertSameAsPredict(await tinyTransformerFolder('cls'));
});

test('BERT classifier (mean pooling): runtime predictions equal slimtext predict', async () => {
  await assertSameAsPredict(await tinyTransformerFolder('mean', 8));
});

for (const kind of ['int8', 'int4', 'pq', 'codes', 'lowrank', 'f16'] as const) {
  test(`BERT classifier with a compressed (${kind}) word table: runtime predictions equal slimtext predict`, async () => {
    await assertSameAsPredict(await tinyTransformerFolder('cls', 12, kind));
  });
}

test('BERT classifier exported at f16: half the bytes, scores within 1e-2', async () => {
  const dir = await tinyTransformerFolder('cls', 11);
  const tm = await loadAnyModel(dir);
  const f32 = encodeSlimBundle(tm).length;
  const f16 = encodeSlimBundle(tm, { dtype: 'f16' }).length;
  assert.ok(f16 < 0.6 * f32, `${f16} vs ${f32}`);
  await assertSameAsPredict(dir, { dtype: 'f16', tol: 1e-2 });
});

test('pretrained BERT (30k WordPiece vocabulary): runtime predictions equal slimtext predict', async (t) => {
  const dir = await sharedTransformerFolder();
  if (!dir) return t.skip('../shared/models/bert-l4-h128-mlm is missing');
  await assertSameAsPredict(dir, { texts: [...TEXTS.slice(0, 9), 'unbelievably tokenization-heavy hyperparameters, re-examined', TEXTS[9]!.slice(0, 2000)], tol: 1e-4 });
});

test('the runtime splits words exactly as slimtext does', () => {
  const extra = ['Hello,World!!', 'e-mail: a@b.com (x) [y] {z}', '¿Qué? «Bien» — 「東京」', 'tab\there\r\nnew\u2028line', 'ＦＵＬＬＷＩＤＴＨ ﬁ ligature', 'Ǆ ǅ ǆ İstanbul ß'];
  for (const t of [...TEXTS, ...extra]) {
    assert.deepEqual(words(t, true), bertWords(t, { lowercase: true }), JSON.stringify(t));
    assert.deepEqual(words(t, false), bertWords(t, { lowercase: false }), JSON.stringify(t));
  }
});

test('front coding round-trips sorted strings, unicode included', () => {
  const s = ['', 'a', 'ab', 'abc', 'abd', 'b', 'café', 'cafés', '東京', '東京都', '𠀀'].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.deepEqual(decodeFrontCoded(encodeFrontCoded(s), s.length, 'x'), s);
});

test('bad bundles: truncated, corrupted, newer version, wrong bytes: clear errors', async () => {
  const good = encodeSlimBundle(await loadAnyModel(await danFolder('int8', { seed: 3 })));
  await loadBundle(good);
  await assert.rejects(loadBundle(good.subarray(0, good.length - 10)), (e: Error) => e instanceof BundleError && /truncated/.test(e.message));
  await assert.rejects(loadBundle(good.subarray(0, 30)), (e: Error) => e instanceof BundleError && /truncated/.test(e.message));
  await assert.rejects(loadBundle(good.subarray(0, 5)), (e: Error) => e instanceof BundleError && /too short/.test(e.message));
  for (const at of [200, Math.floor(good.length / 2), good.length - 6]) {
    const bad = good.slice();
    bad[at] ^= 0x10;
    await assert.rejects(loadBundle(bad), (e: Error) => e instanceof BundleError && /corrupted|checksum/.test(e.message), `flip at ${at}`);
  }
  const newer = good.slice();
  new DataView(newer.buffer).setUint32(8, 99, true);
  new DataView(newer.buffer).setUint32(newer.length - 4, crc32(newer.subarray(0, newer.length - 4)), true);
  await assert.rejects(loadBundle(newer), /format version 99 is newer than this runtime reads/);
  const longer = new Uint8Array(good.length + 3);
  longer.set(good);
  await assert.rejects(loadBundle(longer), /trailing data/);
  await assert.rejects(loadBundle(new TextEncoder().encode('{"not": "a bundle", "padding": "...................."}')), /bad magic/);
  await assert.rejects(loadBundle(new Uint8Array(1000)), /bad magic/);
  await assert.rejects(loadBundle('model.slim' as unknown as Uint8Array), /needs the bundle's bytes/);
  await assert.rejects(loadBundle(null as unknown as Uint8Array), /needs the bundle's bytes/);
  // A bundle the writer itself made inconsistent (checksum right, manifest wrong) is refused too.
  const m = good.slice();
  const mlen = new DataView(m.buffer).getUint32(12, true);
  const text = new TextDecoder().decode(m.subarray(16, 16 + mlen)).replace('"kind":"int8"', '"kind":"int9"');
  m.set(new TextEncoder().encode(text), 16);
  new DataView(m.buffer).setUint32(m.length - 4, crc32(m.subarray(0, m.length - 4)), true);
  await assert.rejects(loadBundle(m), /table kind "int9"/);
});

test('empty and very long texts answer sensibly; ArrayBuffer input; top-k; batch', async () => {
  const rt = singleTask(await loadBundle(encodeSlimBundle(await loadAnyModel(await danFolder('pq', { seed: 4 }))).slice().buffer));
  for (const t of ['', ' ', TEXTS[9]!.repeat(20)]) {
    const p = rt.predict(t);
    assert.equal(p.length, 4);
    assert.ok(Math.abs(p.reduce((s, x) => s + x.score, 0) - 1) < 1e-9 && p.every((x) => Number.isFinite(x.score)));
  }
  assert.equal(rt.predict('book a table', { topK: 2 }).length, 2);
  assert.deepEqual(rt.predictBatch(['book a table', 'jazz']), [rt.predict('book a table'), rt.predict('jazz')]);
  assert.throws(() => rt.predict(undefined as unknown as string), /needs a string/);
  const bert = singleTask(await loadBundle(encodeSlimBundle(await loadAnyModel(await tinyTransformerFolder('cls')))));
  const long = bert.predict('hello the cat '.repeat(5000));
  assert.ok(long.every((x) => Number.isFinite(x.score)));
});
