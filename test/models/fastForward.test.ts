import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BertModel, padBatch } from '../../src/models/bert/model.js';
import { FastBert } from '../../src/models/bert/fastForward.js';
import { IntTensor, inferKernels, noGrad, q8PackedLength, Rng, setBackend, loadBackend, type Backend } from '../../src/engine/index.js';
import type { BertConfig } from '../../src/io/hfCheckpoint.js';
import { repoRoot } from '../helpers.js';
import { bertTestBackends, maxAbsDiff } from './bertBackends.js';

const CONFIG: BertConfig = {
  vocabSize: 60, hiddenSize: 48, numLayers: 3, numHeads: 4, intermediateSize: 96, hiddenAct: 'gelu',
  maxPositions: 40, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, padTokenId: 0,
};

/** A random model whose biases and LayerNorms are random too (the init leaves them 0 and 1). */
function randomModel(seed: number): BertModel {
  const m = new BertModel(CONFIG, { seed });
  const rng = new Rng(seed + 1);
  for (const [name, p] of m.namedParameters()) {
    if (name.endsWith('.bias')) rng.fillNormal(p.data, 0, 0.1);
    if (name.endsWith('LayerNorm.weight')) rng.fillNormal(p.data, 1, 0.1);
    if (name.includes('.weight') && !name.includes('LayerNorm')) rng.fillNormal(p.data, 0, 0.1);
  }
  m.train(false);
  return m;
}

const SEQS = [[2, 5, 9, 11, 3], [2, 7, 3], [2, 40, 41, 42, 43, 44, 45, 46, 3], [2, 3], [2, 13, 3]];

function batchOf(seqs: number[][], types = false) {
  const { ids, attentionMask } = padBatch(seqs, 0);
  const T = ids.shape[1]!;
  const tt = new Int32Array(ids.data.length);
  if (types) seqs.forEach((s, b) => tt.fill(1, b * T + Math.floor(s.length / 2), b * T + s.length));
  return { ids, attentionMask, tokenTypes: new IntTensor(tt, [seqs.length, T]), lengths: Int32Array.from(seqs, (s) => s.length) };
}

/** max |fast - taped| over real token positions, and max |fast| at padding. */
function compare(model: BertModel, fast: FastBert, seqs: number[][], types = false): { diff: number; pad: number } {
  const batch = batchOf(seqs, types);
  const T = batch.ids.shape[1]!;
  const H = CONFIG.hiddenSize;
  const taped = noGrad(() => model.encode(model.embed(batch), model.maskFor(batch))).data;
  const got = fast.lastHidden(batch).data;
  let diff = 0;
  let pad = 0;
  seqs.forEach((s, b) => {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * H;
      if (t < s.length) diff = Math.max(diff, maxAbsDiff(got.subarray(o, o + H), taped.subarray(o, o + H)));
      else for (let j = 0; j < H; j++) pad = Math.max(pad, Math.abs(got[o + j]!));
    }
  });
  return { diff, pad };
}

for (const [name, backend] of bertTestBackends()) {
  test(`[${name}] the fused fp32 path equals the taped forward within 1e-5 (ragged batch, pairs, one text)`, () => {
    setBackend(backend);
    const model = randomModel(3);
    const fast = FastBert.prepare(model, { backend });
    const ragged = compare(model, fast, SEQS, true);
    assert.ok(ragged.diff < 1e-5, `ragged batch: max |diff| ${ragged.diff}`);
    assert.equal(ragged.pad, 0, 'padding rows are zeros');
    const one = compare(model, fast, [SEQS[2]!]);
    assert.ok(one.diff < 1e-5, `one text: max |diff| ${one.diff}`);
    // more than 64 rows: the BLAS route of the linear layers (fewer rows take the packed-weight kernel)
    const many = Array.from({ length: 24 }, (_, i) => [2, ...Array.from({ length: 3 + (i % 7) }, (_, j) => 4 + ((i * 7 + j) % 50)), 3]);
    const big = compare(model, fast, many, true);
    assert.ok(big.diff < 1e-5, `${many.reduce((s, x) => s + x.length, 0)} rows: max |diff| ${big.diff}`);
    // buffers kept from the bigger batch must not leak into a smaller one
    const again = compare(model, fast, SEQS.slice(0, 2));
    assert.ok(again.diff < 1e-5, `second batch: max |diff| ${again.diff}`);
  });

  test(`[${name}] the kernels composed from generic ones (a backend without fused kernels) also equal the taped forward`, () => {
    setBackend(backend);
    const model = randomModel(3);
    const plain = Object.create(backend, { infer: { value: undefined } }) as Backend;
    const fast = FastBert.prepare(model, { backend: plain });
    const r = compare(model, fast, SEQS, true);
    assert.ok(r.diff < 1e-5, `composed: max |diff| ${r.diff}`);
  });

  test(`[${name}] layer ranges compose: encode(0, 1) then (1, 3) equals (0, 3), input untouched`, () => {
    setBackend(backend);
    const model = randomModel(4);
    const fast = FastBert.prepare(model, { backend });
    const e = fast.embed(batchOf(SEQS));
    const before = e.data.slice();
    const whole = fast.encode(e, 0, 3);
    const split = fast.encode(fast.encode(e, 0, 1), 1, 3);
    assert.deepEqual(e.data, before, 'encode leaves its input alone');
    assert.ok(maxAbsDiff(whole.data, split.data) < 1e-6);
    assert.throws(() => fast.encode(e, 2, 4), /outside the model's 3 layers/);
  });

  test(`[${name}] an id outside the vocabulary is a clear error`, () => {
    setBackend(backend);
    const fast = FastBert.prepare(randomModel(5), { backend });
    assert.throws(() => fast.lastHidden(batchOf([[2, 99, 3]])), /99/);
  });
}

// ------------------------------------------------------------------ int8 (native and wasm)

const native = ((): Backend | undefined => {
  try {
    return loadBackend('native');
  } catch {
    return undefined;
  }
})();
const nativeSkip = native?.infer?.q8Gemm ? false : 'the native addon (with its int8 kernels) is not built';
const wasm = ((): Backend | undefined => {
  try {
    return loadBackend('wasm');
  } catch {
    return undefined;
  }
})();
/** Every backend here with int8 kernels. */
const int8Backends = ([['native', native], ['wasm', wasm]] as const).filter((b): b is readonly ['native' | 'wasm', Backend] => b[1]?.infer?.q8Gemm !== undefined);

/** Round half to even, as C's nearbyintf in the default rounding mode. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The quantisation scheme of InferKernels.q8Gemm written out in plain JS (float32 steps). */
function q8Reference(M: number, N: number, K: number, x: Float32Array, w: Float32Array, bias: Float32Array): Float32Array {
  const f = Math.fround;
  const wq = new Int32Array(N * K);
  const sw = new Float32Array(N);
  const colsum = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(w[n * K + k]!));
    const inv = amax > 0 ? f(127 / amax) : 0;
    sw[n] = f(amax / 127);
    for (let k = 0; k < K; k++) {
      const q = Math.max(-127, Math.min(127, rint(f(w[n * K + k]! * inv))));
      wq[n * K + k] = q;
      colsum[n] = colsum[n]! + q;
    }
  }
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(x[m * K + k]!));
    const inv = amax > 0 ? f(127 / amax) : 0;
    const sa = f(amax / 127);
    const u = Array.from({ length: K }, (_, k) => Math.max(-127, Math.min(127, rint(f(x[m * K + k]! * inv)))) + 128);
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += u[k]! * wq[n * K + k]!;
      y[m * N + n] = f(f(f(f(acc - 128 * colsum[n]!) * sa) * sw[n]!) + bias[n]!);
    }
  }
  return y;
}

function q8Case(seed: number, M: number, N: number, K: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(M * K);
  const w = new Float32Array(N * K);
  const bias = new Float32Array(N);
  rng.fillNormal(x, 0, 1);
  rng.fillNormal(w, 0, 0.05);
  rng.fillNormal(bias, 0, 0.1);
  x.fill(0, 0, K); // an all-zero row quantises with scale 0
  return { x, w, bias };
}

function q8Run(be: Backend, M: number, N: number, K: number, c: ReturnType<typeof q8Case>): Float32Array {
  const k = inferKernels(be);
  const packed = new Int32Array(q8PackedLength(N, K));
  const scales = new Float32Array(N);
  const colsum = new Int32Array(N);
  k.q8Pack!(N, K, c.w, packed, scales, colsum);
  const y = new Float32Array(M * N);
  k.q8Gemm!(M, N, K, c.x, packed, scales, colsum, c.bias, y);
  return y;
}

/** max |a - b| / (1 + |b|). */
function maxRel(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

for (const [name, be] of int8Backends) {
  test(`[${name}] q8Gemm equals a plain-JS reference of the same quantisation (odd sizes, every tile edge)`, () => {
    for (const [M, N, K] of [[1, 1, 1], [7, 33, 13], [13, 64, 96], [97, 70, 130]] as const) {
      const c = q8Case(M * 1000 + N, M, N, K);
      const d = maxRel(q8Run(be, M, N, K, c), q8Reference(M, N, K, c.x, c.w, c.bias));
      assert.ok(d < 1e-5, `${M}x${N}x${K}: max rel diff ${d}`);
    }
  });

  test(`[${name}] q8Quantize + q8PackCodes give q8Pack's packed weight, scales and column sums`, () => {
    const k = inferKernels(be);
    const N = 45, K = 70;
    const c = q8Case(11, 1, N, K);
    const packed = new Int32Array(q8PackedLength(N, K)), scales = new Float32Array(N), colsum = new Int32Array(N);
    k.q8Pack!(N, K, c.w, packed, scales, colsum);
    const codes = new Int8Array(N * K), s2 = new Float32Array(N), p2 = new Int32Array(q8PackedLength(N, K)), cs2 = new Int32Array(N);
    k.q8Quantize!(N, K, c.w, codes, s2);
    k.q8PackCodes!(N, K, codes, p2, cs2);
    assert.deepEqual(s2, scales);
    assert.deepEqual(p2, packed);
    assert.deepEqual(cs2, colsum);
    assert.ok(codes.some((q) => q === 127 || q === -127), 'the largest weight of a channel maps to +-127');
  });

  test(`[${name}] the int8 path stays close to fp32 and names its kernel`, () => {
    setBackend(be);
    const model = randomModel(6);
    const fp32 = FastBert.prepare(model, { backend: be });
    const int8 = FastBert.prepare(model, { backend: be, quantize: 'int8' });
    assert.match(int8.int8Kernel() ?? '', /^(avx512-vnni|avx2|portable|wasm-simd128)$/);
    const b = batchOf(SEQS);
    const d = maxAbsDiff(fp32.lastHidden(b).data, int8.lastHidden(b).data);
    // LayerNorm outputs are O(1); int8 with per-row/per-channel scales moves them by a few hundredths
    assert.ok(d > 0 && d < 0.15, `int8 vs fp32 max |diff| ${d}`);
  });
}

test('native and wasm agree: int8 quantisation bit for bit, int8 GEMM and the int8 forward to 1e-5', { skip: native?.infer?.q8Gemm && wasm ? false : 'needs both backends built' }, () => {
  const kn = inferKernels(native!), kw = inferKernels(wasm!);
  const [M, N, K] = [37, 96, 200];
  const c = q8Case(21, M, N, K);
  const qn = new Int8Array(N * K), sn = new Float32Array(N), qw = new Int8Array(N * K), sw = new Float32Array(N);
  kn.q8Quantize!(N, K, c.w, qn, sn);
  kw.q8Quantize!(N, K, c.w, qw, sw);
  assert.deepEqual(qw, qn);
  assert.deepEqual(sw, sn);
  // a weight packed by one backend runs on the other (one packed layout)
  const packed = new Int32Array(q8PackedLength(N, K)), colsum = new Int32Array(N);
  kn.q8PackCodes!(N, K, qn, packed, colsum);
  const yn = new Float32Array(M * N), yw = new Float32Array(M * N);
  kn.q8Gemm!(M, N, K, c.x, packed, sn, colsum, c.bias, yn);
  kw.q8Gemm!(M, N, K, c.x, packed, sn, colsum, c.bias, yw);
  assert.ok(maxRel(yw, yn) < 1e-6, `q8Gemm native vs wasm ${maxRel(yw, yn)}`);
  const model = randomModel(8);
  const b = batchOf(SEQS, true);
  const hn = FastBert.prepare(model, { backend: native!, quantize: 'int8' }).lastHidden(b).data;
  const hw = FastBert.prepare(model, { backend: wasm!, quantize: 'int8' }).lastHidden(b).data;
  assert.ok(maxAbsDiff(hn, hw) < 1e-5, `int8 forward native vs wasm ${maxAbsDiff(hn, hw)}`);
});

test('[native] the portable and AVX2 int8 kernels give the VNNI kernel\'s results; the packed fp32 kernels agree', { skip: nativeSkip }, () => {
  const script = `
    const { loadBackend, inferKernels, q8PackedLength, Rng } = await import(${JSON.stringify(join(repoRoot, 'dist/src/engine/index.js'))});
    const be = loadBackend('native'); const k = inferKernels(be);
    const M = 31, N = 75, K = 200; const rng = new Rng(9);
    const x = new Float32Array(M * K), w = new Float32Array(N * K); rng.fillNormal(x, 0, 1); rng.fillNormal(w, 0, 0.05);
    const p = new Int32Array(q8PackedLength(N, K)), s = new Float32Array(N), cs = new Int32Array(N), y = new Float32Array(M * N);
    k.q8Pack(N, K, w, p, s, cs); k.q8Gemm(M, N, K, x, p, s, cs, null, y);
    const pf = new Float32Array(Math.ceil(N / 32) * 32 * K), yf = new Float32Array(M * N), b = new Float32Array(N).fill(0.5);
    k.f32Pack(N, K, w, pf); k.f32GemmPacked(M, N, K, x, pf, b, yf);
    console.log(JSON.stringify({ kernel: k.q8Kernel(), y: Array.from(y), f32: Array.from(yf) }));`;
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { kernel: string; y: number[]; f32: number[] };
  };
  const portable = run({ SLIMTEXT_NO_VNNI: '1', SLIMTEXT_NO_AVX2: '1', SLIMTEXT_NO_AVX512: '1' });
  const noVnni = run({ SLIMTEXT_NO_VNNI: '1' });
  const best = run({});
  assert.equal(portable.kernel, 'portable');
  assert.deepEqual(best.y, portable.y, `${best.kernel} and portable kernels differ`);
  assert.deepEqual(noVnni.y, portable.y, `${noVnni.kernel} and portable kernels differ`);
  // the packed fp32 kernels, AVX-512 and portable (both checked against the taped forward above)
  const d = maxRel(Float32Array.from(best.f32), Float32Array.from(portable.f32));
  assert.ok(d < 1e-5, `packed fp32 kernels differ by ${d}`);
});
