/**
 * Every kernel of the Backend interface, on every backend that loads here, against the plain-JS
 * oracle (refBackend.ts) on random inputs: several shapes, transposes, batched gemm with shared
 * operands, broadcasting, non-contiguous strides, ragged and empty embedding bags, duplicate ids,
 * accumulate flags, null gradient outputs; dropout against hashUniform bit for bit; and bad
 * arguments (ids out of range, short arrays, wrong types) that must throw, not crash.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryOp, UnaryOp, hashUniform, type Backend, type F32, type I32 } from '../../src/engine/backend.js';
import { availableBackends, loadBackend, type BackendName } from '../../src/engine/backends.js';
import { refBackend } from './refBackend.js';

const RTOL = 1e-4;

// ------------------------------------------------------------------ helpers

/** Deterministic generator (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randn(n: number, r: () => number, scale = 1): F32 {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

function randInts(n: number, hi: number, r: () => number): I32 {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.floor(r() * hi);
  return a;
}

/**
 * Element-wise |a - b| <= RTOL * max(|b|, rms(b)): relative where values are of normal size, and
 * judged at the array's own scale where a value is near zero only because of cancellation.
 */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let ss = 0;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) ss += expected[i] * expected[i];
  const floor = Math.sqrt(ss / Math.max(1, expected.length));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      assert.ok(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const tol = RTOL * Math.max(Math.abs(e), floor) + 1e-30;
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (tolerance ${tol.toExponential(2)})`);
  }
}

function assertScalarClose(a: number, e: number, what: string): void {
  assert.ok(Math.abs(a - e) <= RTOL * Math.max(Math.abs(e), 1e-6), `${what}: got ${a}, expected ${e}`);
}

type Bufs = Record<string, F32 | I32>;

function clone(b: Bufs): Bufs {
  const out: Bufs = {};
  for (const [k, v] of Object.entries(b)) out[k] = v.slice();
  return out;
}

/** Runs `run` on the backend and on the oracle with equal copies of `inputs`; compares `outputs`. */
function same(be: Backend, what: string, inputs: Bufs, outputs: string[], run: (k: Backend, t: Bufs) => unknown): void {
  const mine = clone(inputs), ref = clone(inputs);
  const a = run(be, mine), e = run(refBackend, ref);
  if (typeof e === 'number') assertScalarClose(a as number, e, what);
  if (typeof e === 'boolean') assert.equal(a, e, what);
  for (const k of outputs) assertClose(mine[k], ref[k], `${what} ${k}`);
}

const f = (t: Bufs, k: string) => t[k] as F32;
const i32 = (t: Bufs, k: string) => t[k] as I32;

/** Row-major strides of a shape. */
function contiguous(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = step;
    step *= shape[d];
  }
  return s;
}

function backendOrSkip(name: BackendName): { backend?: Backend; skip?: string } {
  try {
    return { backend: loadBackend(name) };
  } catch (e) {
    return { skip: `${name} backend does not load here: ${(e as Error).message}` };
  }
}

// ------------------------------------------------------------------ the oracle itself

describe('refBackend (the oracle) agrees with finite differences', () => {
  // Central differences in float64 over float32 kernels: loose tolerance, but catches formula slips.
  function fdCheck(what: string, n: number, x: F32, forward: (x: F32) => F32, backward: (dy: F32) => F32): void {
    const r = rng(99);
    const dy = randn(forward(x).length, r);
    const analytic = backward(dy);
    for (let i = 0; i < n; i++) {
      const h = 1e-2 * Math.max(1, Math.abs(x[i]));
      const xp = x.slice(), xm = x.slice();
      xp[i] += h;
      xm[i] -= h;
      const yp = forward(xp), ym = forward(xm);
      let num = 0;
      for (let j = 0; j < dy.length; j++) num += (dy[j] * (yp[j] - ym[j])) / (xp[i] - xm[i]);
      assert.ok(Math.abs(num - analytic[i]) <= 2e-2 * Math.max(1, Math.abs(num)), `${what}[${i}]: fd ${num} vs ${analytic[i]}`);
    }
  }

  test('unary ops', () => {
    for (const [name, op] of Object.entries(UnaryOp)) {
      const r = rng(op + 1);
      const x = randn(9, r, 2);
      if (op === UnaryOp.Log || op === UnaryOp.Sqrt) for (let i = 0; i < x.length; i++) x[i] = Math.abs(x[i]) + 0.5;
      if (op === UnaryOp.Relu || op === UnaryOp.Abs) for (let i = 0; i < x.length; i++) x[i] += x[i] > 0 ? 0.1 : -0.1;
      const fwd = (v: F32) => {
        const y = new Float32Array(v.length);
        refBackend.unary(op, v.length, v, y);
        return y;
      };
      fdCheck(name, x.length, x, fwd, (dy) => {
        const dx = new Float32Array(x.length);
        refBackend.unaryBackward(op, x.length, x, fwd(x), dy, dx);
        return dx;
      });
    }
  });

  test('softmax, logSoftmax, layerNorm', () => {
    const r = rng(5);
    const rows = 3, cols = 5;
    const x = randn(rows * cols, r, 2);
    for (const [name, fw, bw] of [
      ['softmax', refBackend.softmax, refBackend.softmaxBackward],
      ['logSoftmax', refBackend.logSoftmax, refBackend.logSoftmaxBackward],
    ] as const) {
      const fwd = (v: F32) => {
        const y = new Float32Array(v.length);
        fw(rows, cols, v, y);
        return y;
      };
      fdCheck(name, x.length, x, fwd, (dy) => {
        const dx = new Float32Array(x.length);
        bw(rows, cols, fwd(x), dy, dx);
        return dx;
      });
    }
    const gamma = randn(cols, r), beta = randn(cols, r);
    const ln = (v: F32) => {
      const y = new Float32Array(v.length);
      refBackend.layerNorm(rows, cols, v, gamma, beta, 1e-5, y, new Float32Array(rows), new Float32Array(rows));
      return y;
    };
    fdCheck('layerNorm dx', x.length, x, ln, (dy) => {
      const mean = new Float32Array(rows), rstd = new Float32Array(rows), dx = new Float32Array(x.length);
      refBackend.layerNorm(rows, cols, x, gamma, beta, 1e-5, new Float32Array(x.length), mean, rstd);
      refBackend.layerNormBackward(rows, cols, x, gamma, mean, rstd, dy, dx, null, null);
      return dx;
    });
    fdCheck('layerNorm dgamma', cols, gamma, (g) => {
      const y = new Float32Array(x.length);
      refBackend.layerNorm(rows, cols, x, g, beta, 1e-5, y, new Float32Array(rows), new Float32Array(rows));
      return y;
    }, (dy) => {
      const mean = new Float32Array(rows), rstd = new Float32Array(rows), dg = new Float32Array(cols);
      refBackend.layerNorm(rows, cols, x, gamma, beta, 1e-5, new Float32Array(x.length), mean, rstd);
      refBackend.layerNormBackward(rows, cols, x, gamma, mean, rstd, dy, null, dg, null);
      return dg;
    });
  });

  test('gelu matches the erf definition at known points', () => {
    // 0.5*x*(1+erf(x/sqrt2)) from a float64 libm (Python math.erf).
    const x = new Float32Array([-5, -3, -1, -0.1, 0, 0.5, 1, 2, 4]);
    const want = [-1.4332578593401202e-6, -0.00404969409489031, -0.15865525393145707, -0.0460172162722971, 0,
      0.34573123063700656, 0.8413447460685429, 1.9544997361036416, 3.9998733150326675];
    const y = new Float32Array(x.length);
    refBackend.unary(UnaryOp.Gelu, x.length, x, y);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(y[i] - want[i]) <= 1e-6 * Math.abs(want[i]) + 1e-12, `gelu(${x[i]}) = ${y[i]}`);
  });
});

// ------------------------------------------------------------------ every backend vs the oracle

for (const name of availableBackends()) {
  const { backend: be, skip } = backendOrSkip(name);
  describe(`${name} backend kernels match the reference`, { skip }, () => {
    if (!be) return;

    test('gemm: shapes, transposes, padded ld, alpha/beta', () => {
      const r = rng(1);
      const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [17, 33, 9], [64, 48, 40], [130, 70, 90]];
      for (const [M, N, K] of shapes) {
        for (const tA of [false, true]) {
          for (const tB of [false, true]) {
            const lda = (tA ? M : K) + 3, ldb = (tB ? K : N) + 1, ldc = N + 2;
            const inputs = {
              a: randn((tA ? K : M) * lda, r), b: randn((tB ? N : K) * ldb, r), c: randn(M * ldc, r),
            };
            for (const [alpha, beta] of [[1, 0], [0.5, 1], [-2, 0.25]]) {
              same(be, `gemm ${M}x${N}x${K} tA=${tA} tB=${tB} a=${alpha} b=${beta}`, inputs, ['c'], (k, t) =>
                k.gemm(tA, tB, M, N, K, alpha, f(t, 'a'), lda, 0, f(t, 'b'), ldb, 0, beta, f(t, 'c'), ldc, 0, 1));
            }
          }
        }
      }
    });

    test('gemm: batched, stride 0 (shared operand), many small products, accumulate over a batch', () => {
      const r = rng(2);
      for (const [M, N, K, batch] of [[4, 3, 5, 3], [32, 32, 16, 24], [50, 20, 64, 6]]) {
        for (const [shareA, shareB] of [[false, false], [false, true], [true, false]]) {
          for (const tB of [false, true]) {
            const sA = shareA ? 0 : M * K, sB = shareB ? 0 : K * N, sC = M * N;
            const inputs = {
              a: randn(M * K * (shareA ? 1 : batch), r), b: randn(K * N * (shareB ? 1 : batch), r), c: randn(M * N * batch, r),
            };
            same(be, `gemm batch ${batch} of ${M}x${N}x${K} shareA=${shareA} shareB=${shareB} tB=${tB}`, inputs, ['c'], (k, t) =>
              k.gemm(false, tB, M, N, K, 1, f(t, 'a'), K, sA, f(t, 'b'), tB ? K : N, sB, 0.5, f(t, 'c'), N, sC, batch));
          }
        }
      }
      // strideC = 0 with beta = 1: every batch adds into the same C, in order.
      const M = 6, N = 5, K = 4, batch = 7;
      same(be, 'gemm strideC=0 accumulate', { a: randn(M * K * batch, r), b: randn(K * N * batch, r), c: randn(M * N, r) }, ['c'],
        (k, t) => k.gemm(false, false, M, N, K, 1, f(t, 'a'), K, M * K, f(t, 'b'), N, K * N, 1, f(t, 'c'), N, 0, batch));
    });

    test('gemm: beta = 0 ignores NaN in C; K = 0 scales C; empty shapes do nothing', () => {
      const r = rng(3);
      const a = randn(12, r), b = randn(12, r);
      const c = new Float32Array(9).fill(NaN);
      be.gemm(false, false, 3, 3, 4, 1, a, 4, 0, b, 3, 0, 0, c, 3, 0, 1);
      assert.ok(c.every(Number.isFinite), `C has NaN after beta=0: ${Array.from(c)}`);
      const c2 = new Float32Array([1, 2, 3, 4]);
      be.gemm(false, false, 2, 2, 0, 1, new Float32Array(0), 1, 0, new Float32Array(0), 2, 0, 3, c2, 2, 0, 1);
      assert.deepEqual(Array.from(c2), [3, 6, 9, 12]);
      const c3 = new Float32Array([7]);
      be.gemm(false, false, 0, 1, 5, 1, new Float32Array(0), 5, 0, new Float32Array(5), 1, 0, 0, c3, 1, 0, 1);
      assert.equal(c3[0], 7);
    });

    test('binary: same shape, broadcasting, permuted strides, accumulate, all ops', () => {
      const r = rng(4);
      const cases: { shape: number[]; as: number[]; bs: number[]; la: number; lb: number }[] = [
        { shape: [37], as: [1], bs: [1], la: 37, lb: 37 },
        { shape: [8, 16], as: [16, 1], bs: [0, 1], la: 128, lb: 16 }, // row bias
        { shape: [8, 16], as: [16, 1], bs: [1, 0], la: 128, lb: 8 }, // column broadcast
        { shape: [5, 7], as: [0, 0], bs: [7, 1], la: 1, lb: 35 }, // scalar a
        { shape: [3, 4, 5, 6], as: [1, 3, 12, 60], bs: [0, 5, 1, 0], la: 360, lb: 20 }, // permuted a
        { shape: [2, 1, 3, 1, 4, 2], as: [24, 0, 8, 0, 2, 1], bs: [0, 0, 1, 0, 0, 0], la: 48, lb: 3 },
        { shape: [300, 257], as: [257, 1], bs: [0, 1], la: 300 * 257, lb: 257 }, // big: threads
        { shape: [257, 300], as: [1, 257], bs: [300, 1], la: 300 * 257, lb: 300 * 257 }, // big transposed
      ];
      for (const c of cases) {
        const n = c.shape.reduce((x, y) => x * y, 1);
        const bVals = randn(c.lb, r);
        for (let i = 0; i < bVals.length; i++) bVals[i] += bVals[i] >= 0 ? 0.5 : -0.5; // keep Div tame
        const inputs = { a: randn(c.la, r), b: bVals, out: randn(n, r) };
        for (const [opName, op] of Object.entries(BinaryOp)) {
          for (const acc of [false, true]) {
            same(be, `binary ${opName} ${c.shape} acc=${acc}`, inputs, ['out'], (k, t) =>
              k.binary(op, Int32Array.from(c.shape), f(t, 'a'), Int32Array.from(c.as), f(t, 'b'), Int32Array.from(c.bs), f(t, 'out'), acc));
          }
        }
      }
    });

    test('copyStrided: transpose, permute, slice, sum-reduction (broadcast backward), alpha', () => {
      const r = rng(5);
      const cases: { what: string; shape: number[]; ss: number[]; ds: number[]; ls: number; ld: number; off?: number }[] = [
        { what: 'transpose', shape: [7, 9], ss: [1, 7], ds: [9, 1], ls: 63, ld: 63 },
        { what: 'big transpose', shape: [300, 400], ss: [1, 300], ds: [400, 1], ls: 120000, ld: 120000 },
        { what: 'permute 4d', shape: [2, 3, 4, 5], ss: [60, 1, 15, 3], ds: contiguous([2, 3, 4, 5]), ls: 120, ld: 120 },
        { what: 'slice', shape: [4, 3], ss: [10, 1], ds: [3, 1], ls: 50, ld: 12, off: 12 },
        { what: 'concat half', shape: [5, 4], ss: [4, 1], ds: [8, 1], ls: 20, ld: 40 },
        { what: 'sum over rows', shape: [50, 16], ss: [16, 1], ds: [0, 1], ls: 800, ld: 16 },
        { what: 'sum over cols', shape: [16, 50], ss: [50, 1], ds: [1, 0], ls: 800, ld: 16 },
        { what: 'sum all', shape: [6, 7], ss: [7, 1], ds: [0, 0], ls: 42, ld: 1 },
        { what: 'big sum over rows', shape: [2000, 40], ss: [40, 1], ds: [0, 1], ls: 80000, ld: 40 },
        { what: 'big sum over cols', shape: [40, 2000], ss: [2000, 1], ds: [1, 0], ls: 80000, ld: 40 },
        { what: 'sum middle of 3d', shape: [4, 30, 300], ss: [9000, 300, 1], ds: [300, 0, 1], ls: 36000, ld: 1200 },
      ];
      for (const c of cases) {
        const off = c.off ?? 0;
        const inputs = { src: randn(c.ls, r), dst: randn(c.ld, r) };
        for (const [alpha, acc] of [[1, false], [1, true], [-0.5, true], [2, false]] as const) {
          // Overwriting through a stride-0 dimension is order-dependent; only test accumulation there.
          if (!acc && c.ds.some((s, d) => s === 0 && c.shape[d] > 1)) continue;
          same(be, `copyStrided ${c.what} alpha=${alpha} acc=${acc}`, inputs, ['dst'], (k, t) =>
            k.copyStrided(Int32Array.from(c.shape), f(t, 'src').subarray(off), Int32Array.from(c.ss), f(t, 'dst'),
              Int32Array.from(c.ds), alpha, acc));
        }
      }
    });

    test('unary and unaryBackward: every op, small and large n, views with byte offsets', () => {
      for (const [opName, op] of Object.entries(UnaryOp)) {
        for (const n of [1, 37, 100003]) {
          const r = rng(op * 7 + n);
          const x = randn(n + 3, r, 4);
          if (op === UnaryOp.Log || op === UnaryOp.Sqrt) for (let i = 0; i < x.length; i++) x[i] = Math.abs(x[i]) + 1e-3;
          const y0 = new Float32Array(n + 3);
          refBackend.unary(op, n + 3, x, y0);
          const inputs = { x, y: randn(n + 3, r), y0, dy: randn(n + 3, r), dx: randn(n + 3, r) };
          // Offsets by 3 elements: kernels must read each view from its own start.
          same(be, `unary ${opName} n=${n}`, inputs, ['y'], (k, t) => k.unary(op, n, f(t, 'x').subarray(3), f(t, 'y').subarray(3)));
          same(be, `unaryBackward ${opName} n=${n}`, inputs, ['dx'], (k, t) =>
            k.unaryBackward(op, n, f(t, 'x').subarray(3), f(t, 'y0').subarray(3), f(t, 'dy').subarray(3), f(t, 'dx').subarray(3)));
        }
      }
    });

    test('exp stays accurate across the float range; overflow gives Infinity, NaN stays NaN', () => {
      const n = 20001;
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = -86 + (174.7 * i) / (n - 1);
      const y = new Float32Array(n);
      be.unary(UnaryOp.Exp, n, x, y);
      const tol = name === 'native' ? 1e-6 : RTOL; // native's own expf promises libm-level accuracy
      for (let i = 0; i < n; i++) {
        const e = Math.exp(x[i]);
        assert.ok(Math.abs(y[i] - e) <= tol * e, `exp(${x[i]}): ${y[i]} vs ${e}`);
      }
      const edge = new Float32Array([-Infinity, -200, 89, 200, Infinity, NaN, 0]);
      const ye = new Float32Array(edge.length);
      be.unary(UnaryOp.Exp, edge.length, edge, ye);
      assert.ok(ye[0] === 0 && ye[1] === 0, `exp of very negative: ${ye[0]}, ${ye[1]}`);
      assert.ok(ye[2] === Infinity && ye[3] === Infinity && ye[4] === Infinity, `exp overflow: ${Array.from(ye.subarray(2, 5))}`);
      assert.ok(Number.isNaN(ye[5]), `exp(NaN) = ${ye[5]}`);
      assert.equal(ye[6], 1);
    });

    test('gelu stays accurate across its range, tails included', () => {
      const n = 4001;
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = -10 + (20 * i) / (n - 1);
      const y = new Float32Array(n), yr = new Float32Array(n), d = new Float32Array(n), dr = new Float32Array(n);
      be.unary(UnaryOp.Gelu, n, x, y);
      refBackend.unary(UnaryOp.Gelu, n, x, yr);
      const ones = new Float32Array(n).fill(1);
      be.unaryBackward(UnaryOp.Gelu, n, x, y, ones, d);
      refBackend.unaryBackward(UnaryOp.Gelu, n, x, yr, ones, dr);
      // The contract asks 1e-4; the native backend's own erf promises libm-level accuracy.
      const tol = name === 'native' ? 2e-6 : RTOL;
      for (let i = 0; i < n; i++) {
        // Relative to the value itself (no floor) wherever it is a normal float.
        if (Math.abs(yr[i]) > 1e-30) assert.ok(Math.abs(y[i] - yr[i]) <= tol * Math.abs(yr[i]), `gelu(${x[i]}): ${y[i]} vs ${yr[i]}`);
        if (Math.abs(dr[i]) > 1e-30) assert.ok(Math.abs(d[i] - dr[i]) <= Math.max(1e-5, tol) * Math.abs(dr[i]) + 1e-7, `gelu'(${x[i]}): ${d[i]} vs ${dr[i]}`);
      }
    });

    test('axpby (beta = 0 ignores NaN), fill', () => {
      const r = rng(6);
      for (const n of [5, 70001]) {
        const inputs = { x: randn(n, r), y: randn(n, r) };
        for (const [alpha, beta] of [[2, 0.5], [1, 1], [-1, 0]]) {
          same(be, `axpby n=${n} ${alpha} ${beta}`, inputs, ['y'], (k, t) => k.axpby(n, alpha, f(t, 'x'), beta, f(t, 'y')));
        }
        same(be, `fill n=${n}`, inputs, ['y'], (k, t) => k.fill(n - 1, 3.5, f(t, 'y')));
      }
      const y = new Float32Array(4).fill(NaN);
      be.axpby(4, 2, new Float32Array([1, 2, 3, 4]), 0, y);
      assert.deepEqual(Array.from(y), [2, 4, 6, 8]);
    });

    test('sum, dot, sumSquares, allFinite', () => {
      const r = rng(7);
      for (const n of [0, 1, 33, 200001]) {
        const inputs = { x: randn(n, r), y: randn(n, r) };
        same(be, `sum n=${n}`, inputs, [], (k, t) => k.sum(n, f(t, 'x')));
        same(be, `dot n=${n}`, inputs, [], (k, t) => k.dot(n, f(t, 'x'), f(t, 'y')));
        same(be, `sumSquares n=${n}`, inputs, [], (k, t) => k.sumSquares(n, f(t, 'x')));
        assert.equal(be.allFinite(n, inputs.x), true, `allFinite n=${n}`);
      }
      // Double accumulation: 1e6 copies of 0.1f plus one 1e7 must not lose the small terms.
      const big = new Float32Array(1_000_001).fill(0.1);
      big[0] = 1e7;
      assertScalarClose(be.sum(big.length, big), 1e7 + 1e6 * Math.fround(0.1), 'sum in double');
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, 17, 99999]) {
          const x = randn(100000, r);
          x[at] = bad;
          assert.equal(be.allFinite(x.length, x), false, `allFinite with ${bad} at ${at}`);
          assert.equal(be.allFinite(at, x), true, `allFinite before ${at}`);
        }
      }
    });

    test('softmax, logSoftmax and backwards: shapes, large values, masked entries', () => {
      const r = rng(8);
      for (const [rows, cols] of [[1, 1], [3, 7], [64, 128], [5, 3000]]) {
        for (const scale of [1, 30]) {
          const x = randn(rows * cols, r, scale);
          if (cols > 2) x[1] = -Infinity; // a masked position
          const y0 = new Float32Array(rows * cols), ly0 = new Float32Array(rows * cols);
          refBackend.softmax(rows, cols, x, y0);
          refBackend.logSoftmax(rows, cols, x, ly0);
          const inputs = { x, y: randn(rows * cols, r), y0, ly0, dy: randn(rows * cols, r), dx: randn(rows * cols, r) };
          const w = `${rows}x${cols} scale ${scale}`;
          same(be, `softmax ${w}`, inputs, ['y'], (k, t) => k.softmax(rows, cols, f(t, 'x'), f(t, 'y')));
          same(be, `logSoftmax ${w}`, inputs, ['y'], (k, t) => k.logSoftmax(rows, cols, f(t, 'x'), f(t, 'y')));
          same(be, `softmaxBackward ${w}`, inputs, ['dx'], (k, t) => k.softmaxBackward(rows, cols, f(t, 'y0'), f(t, 'dy'), f(t, 'dx')));
          same(be, `logSoftmaxBackward ${w}`, inputs, ['dx'], (k, t) =>
            k.logSoftmaxBackward(rows, cols, f(t, 'ly0'), f(t, 'dy'), f(t, 'dx')));
        }
      }
      // In place (x and y the same array) is allowed.
      const x = randn(40, r, 3), want = new Float32Array(40);
      refBackend.softmax(4, 10, x, want);
      be.softmax(4, 10, x, x);
      assertClose(x, want, 'softmax in place');
    });

    test('layerNorm and backward, with every combination of null gradient outputs', () => {
      const r = rng(9);
      for (const [rows, cols] of [[1, 1], [3, 5], [64, 768], [2, 2000]]) {
        const x = randn(rows * cols, r, 3);
        for (let i = 0; i < x.length; i++) x[i] += 2; // a non-zero mean
        const gamma = randn(cols, r), beta = randn(cols, r);
        const mean0 = new Float32Array(rows), rstd0 = new Float32Array(rows);
        refBackend.layerNorm(rows, cols, x, gamma, beta, 1e-5, new Float32Array(rows * cols), mean0, rstd0);
        const inputs = {
          x, gamma, beta, y: randn(rows * cols, r), mean: randn(rows, r), rstd: randn(rows, r), mean0, rstd0,
          dy: randn(rows * cols, r), dx: randn(rows * cols, r), dgamma: randn(cols, r), dbeta: randn(cols, r),
        };
        same(be, `layerNorm ${rows}x${cols}`, inputs, ['y', 'mean', 'rstd'], (k, t) =>
          k.layerNorm(rows, cols, f(t, 'x'), f(t, 'gamma'), f(t, 'beta'), 1e-5, f(t, 'y'), f(t, 'mean'), f(t, 'rstd')));
        for (let mask = 0; mask < 8; mask++) {
          const use = (bit: number, t: Bufs, k: string) => (mask & bit ? f(t, k) : null);
          same(be, `layerNormBackward ${rows}x${cols} mask ${mask}`, inputs, ['dx', 'dgamma', 'dbeta'], (k, t) =>
            k.layerNormBackward(rows, cols, f(t, 'x'), f(t, 'gamma'), f(t, 'mean0'), f(t, 'rstd0'), f(t, 'dy'),
              use(1, t, 'dx'), use(2, t, 'dgamma'), use(4, t, 'dbeta')));
        }
      }
    });

    test('gather and indexAdd, duplicate ids', () => {
      const r = rng(10);
      for (const [n, dim, rows] of [[1, 1, 1], [20, 7, 5], [3000, 64, 500]]) {
        const inputs = {
          table: randn(rows * dim, r), ids: randInts(n, rows, r), out: randn(n * dim, r), src: randn(n * dim, r), dst: randn(rows * dim, r),
        };
        same(be, `gather ${n}x${dim}`, inputs, ['out'], (k, t) => k.gather(n, dim, rows, f(t, 'table'), i32(t, 'ids'), f(t, 'out')));
        same(be, `indexAdd ${n}x${dim}`, inputs, ['dst'], (k, t) => k.indexAdd(n, dim, f(t, 'src'), i32(t, 'ids'), 0.5, f(t, 'dst')));
      }
    });

    test('embeddingBagMean and backward: ragged, empty bags, duplicate ids, shared slots', () => {
      const r = rng(11);
      for (const [nBags, dim, rows] of [[1, 3, 4], [9, 5, 6], [400, 100, 1000]]) {
        // Ragged bag sizes 0..7, offsets not starting at 0 (a window into a bigger ids array).
        const sizes = Array.from({ length: nBags }, (_, b) => (b % 4 === 1 ? 0 : Math.floor(r() * 8)));
        const offsets = new Int32Array(nBags + 1);
        offsets[0] = 2;
        for (let b = 0; b < nBags; b++) offsets[b + 1] = offsets[b] + sizes[b];
        const total = offsets[nBags] + 1;
        const ids = randInts(total, Math.min(rows, 4 + nBags), r); // small id range: many duplicates
        const nSlots = 7;
        const slot = randInts(total, nSlots, r);
        const inputs = {
          table: randn(rows * dim, r), ids, offsets, slot, out: randn(nBags * dim, r), dy: randn(nBags * dim, r), grad: randn(nSlots * dim, r),
        };
        same(be, `embeddingBagMean ${nBags}x${dim}`, inputs, ['out'], (k, t) =>
          k.embeddingBagMean(nBags, dim, rows, f(t, 'table'), i32(t, 'ids'), i32(t, 'offsets'), f(t, 'out')));
        same(be, `embeddingBagMeanBackward ${nBags}x${dim}`, inputs, ['grad'], (k, t) =>
          k.embeddingBagMeanBackward(nBags, dim, i32(t, 'offsets'), i32(t, 'slot'), f(t, 'dy'), f(t, 'grad')));
      }
      const out = new Float32Array(4).fill(9);
      be.embeddingBagMean(2, 2, 1, new Float32Array([1, 2]), new Int32Array(0), new Int32Array([0, 0, 0]), out);
      assert.deepEqual(Array.from(out), [0, 0, 0, 0], 'empty bags give zeros');
    });

    test('dropout: the mask is exactly hashUniform, for any thread count', () => {
      const r = rng(12);
      for (const [n, p, seed] of [[1000, 0.1, 1], [70001, 0.5, 0xdeadbeef], [333, 0.9, -7], [50, 0, 3]]) {
        const x = randn(n, r), y = new Float32Array(n), mask = new Float32Array(n);
        be.dropout(n, p, seed, x, y, mask);
        const scale = Math.fround(1 / (1 - p));
        let kept = 0;
        for (let i = 0; i < n; i++) {
          const keep = hashUniform(seed, i) >= p;
          if (keep) kept++;
          assert.equal(mask[i], keep ? scale : 0, `mask[${i}] p=${p} seed=${seed}`);
        }
        assert.ok(Math.abs(kept / n - (1 - p)) < 0.05 + 5 / Math.sqrt(n), `kept ${kept} of ${n} at p=${p}`);
        const yr = new Float32Array(n), mr = new Float32Array(n);
        refBackend.dropout(n, p, seed, x, yr, mr);
        assertClose(y, yr, `dropout y p=${p}`);
      }
      const t0 = be.threads();
      try {
        const n = 100000, x = randn(n, r);
        const m1 = new Float32Array(n), m2 = new Float32Array(n);
        be.setThreads(1);
        assert.equal(be.threads(), 1);
        be.dropout(n, 0.3, 42, x, new Float32Array(n), m1);
        be.setThreads(2);
        be.dropout(n, 0.3, 42, x, new Float32Array(n), m2);
        assert.deepEqual(m1, m2);
      } finally {
        be.setThreads(t0);
      }
    });

    test('adam and adamRows (lazy)', () => {
      const r = rng(13);
      for (const n of [7, 50001]) {
        const v = randn(n, r);
        for (let i = 0; i < n; i++) v[i] = Math.abs(v[i]) * 1e-3;
        const inputs = { p: randn(n, r), g: randn(n, r), m: randn(n, r, 0.1), v };
        for (const [t, wd] of [[1, 0], [10, 0.01]]) {
          same(be, `adam n=${n} t=${t}`, inputs, ['p', 'm', 'v'], (k, b) =>
            k.adam(n, f(b, 'p'), f(b, 'g'), f(b, 'm'), f(b, 'v'), 1e-3, 0.9, 0.999, 1e-8, wd, t));
        }
      }
      const rows = 100, dim = 16, nRows = 10;
      const rowIds = Int32Array.from({ length: nRows }, (_, i) => (i * 37) % rows);
      const v = randn(rows * dim, r);
      for (let i = 0; i < v.length; i++) v[i] = Math.abs(v[i]) * 1e-3;
      const inputs = { rowIds, grad: randn(nRows * dim, r), p: randn(rows * dim, r), m: randn(rows * dim, r, 0.1), v };
      same(be, 'adamRows', inputs, ['p', 'm', 'v'], (k, b) =>
        k.adamRows(nRows, dim, i32(b, 'rowIds'), f(b, 'grad'), f(b, 'p'), f(b, 'm'), f(b, 'v'), 1e-2, 0.9, 0.999, 1e-8, 0.01, 3));
    });

    test('results do not depend on the thread count (beyond summation order)', () => {
      const r = rng(14);
      const t0 = be.threads();
      const M = 96, N = 80, K = 64, batch = 12;
      const a = randn(M * K * batch, r), b = randn(K * N * batch, r);
      const run = (threads: number) => {
        be.setThreads(threads);
        const c = new Float32Array(M * N * batch);
        be.gemm(false, true, M, N, K, 1, a, K, M * K, b, K, K * N, 0, c, N, M * N, batch);
        const y = new Float32Array(70000);
        be.unary(UnaryOp.Gelu, y.length, a.subarray(0, y.length), y);
        return [c, y];
      };
      try {
        const [c1, y1] = run(1);
        const [c2, y2] = run(2);
        assertClose(c2, c1, 'gemm 1 vs 2 threads');
        assert.deepEqual(y2, y1, 'gelu 1 vs 2 threads');
      } finally {
        be.setThreads(t0);
      }
    });

    test('bad arguments throw errors naming the kernel, never crash', () => {
      const x = new Float32Array(8), ids = new Int32Array([0, 9, 1]);
      assert.throws(() => be.gather(3, 2, 4, x, ids, new Float32Array(6)), /gather.*\b9\b.*\b4\b/);
      assert.throws(() => be.gather(1, 2, 4, x, new Int32Array([-1]), new Float32Array(2)), /gather.*-1\b.*\b4\b/);
      assert.throws(() => be.embeddingBagMean(2, 2, 4, x, ids, new Int32Array([0, 1, 3]), new Float32Array(4)), /embeddingBagMean.*\b9\b.*\b4\b/);
      // An out-of-range id outside every bag's range is never read, so it is fine.
      be.embeddingBagMean(1, 2, 4, x, ids, new Int32Array([0, 1]), new Float32Array(2));
      assert.throws(() => be.unary(UnaryOp.Exp, 9, x, new Float32Array(9)), /unary.*x.*8.*9/);
      assert.throws(() => be.axpby(8, 1, x, 1, new Float32Array(7)), /axpby/);
      assert.throws(() => be.softmax(3, 3, x, new Float32Array(9)), /softmax/);
      assert.throws(() => be.gemm(false, false, 3, 3, 3, 1, x, 3, 0, new Float32Array(9), 3, 0, 0, new Float32Array(9), 3, 0, 1), /gemm.*\ba\b/);
      assert.throws(() => be.gemm(false, false, 2, 2, 2, 1, x, 2, 4, x, 2, 4, 0, new Float32Array(8), 2, 4, 3), /gemm/);
      assert.throws(() =>
        be.binary(BinaryOp.Add, Int32Array.from([4, 4]), x, Int32Array.from([4, 1]), x, Int32Array.from([0, 1]), new Float32Array(16), false), /binary/);
      assert.throws(() =>
        be.copyStrided(Int32Array.from([3, 3]), new Float32Array(9), Int32Array.from([3, 1]), x, Int32Array.from([1, 3]), 1, false), /copyStrided/);
      assert.throws(() => be.layerNorm(2, 4, x, new Float32Array(3), new Float32Array(4), 1e-5, x, new Float32Array(2), new Float32Array(2)), /layerNorm.*gamma/);
      assert.throws(() => be.indexAdd(2, 4, x, new Int32Array([0, 2]), 1, new Float32Array(8)), /indexAdd.*\b2\b/);
      assert.throws(() => be.adamRows(1, 4, new Int32Array([2]), x, x, x, x, 1e-3, 0.9, 0.999, 1e-8, 0, 1), /adamRows/);
      assert.throws(() => be.embeddingBagMeanBackward(1, 2, new Int32Array([0, 2]), new Int32Array([0, 5]), x, new Float32Array(4)), /embeddingBagMeanBackward/);
      // Still alive and working after all that.
      const y = new Float32Array(2);
      be.unary(UnaryOp.Neg, 2, new Float32Array([1, -2]), y);
      assert.deepEqual(Array.from(y), [-1, 2]);
    });

    // Beyond the contract: the C addon also checks what TypeScript types would (a JS caller can
    // pass anything to a native function, and a wrong pointer there is a crash, not an exception).
    test('native only: argument types, sizes and offsets are checked in C', { skip: name !== 'native' && 'native-specific' }, () => {
      const x = new Float32Array(8), ids = new Int32Array([0, 1, 2]);
      assert.throws(() => be.embeddingBagMean(2, 2, 4, x, ids, new Int32Array([0, 2, 1]), new Float32Array(4)), /embeddingBagMean.*offsets/);
      assert.throws(() => be.embeddingBagMean(1, 2, 4, x, ids, new Int32Array([-1, 1]), new Float32Array(2)), /embeddingBagMean.*offsets/);
      assert.throws(() => be.embeddingBagMean(1, 2, 4, x, ids, new Int32Array([0, 4]), new Float32Array(2)), /embeddingBagMean.*offsets/);
      assert.throws(() => be.unary(UnaryOp.Exp, 4, new Float64Array(4) as unknown as F32, x), /unary: x .*Float32Array/);
      assert.throws(() => be.gather(1, 2, 4, x, new Float32Array(1) as unknown as I32, x), /gather: ids .*Int32Array/);
      assert.throws(() => be.unary(UnaryOp.Exp, 2.5, x, x), /unary: n /);
      assert.throws(() => be.unary(UnaryOp.Exp, -1, x, x), /unary: n /);
      assert.throws(() => be.unary(11 as UnaryOp, 4, x, x), /unary: op /);
      assert.throws(() => be.dropout(4, 1.5, 0, x, x, x), /dropout: p /);
      assert.throws(() => be.adam(4, x, x, x, x, 1e-3, 0.9, 0.999, 1e-8, 0, 0), /adam: step t/);
      assert.throws(() => be.setThreads(0), /setThreads/);
      assert.throws(() => (be.sum as (n: number) => number)(4), /sum: expected 2 arguments/);
      assert.throws(() =>
        be.binary(BinaryOp.Add, new Int32Array(7), x, new Int32Array(7), x, new Int32Array(7), x, false), /binary: 7 dimensions/);
      assert.throws(() =>
        be.copyStrided(Int32Array.from([3]), x, Int32Array.from([-1]), x, Int32Array.from([1]), 1, false), /copyStrided: src strides reach/);
      assert.throws(() => be.gemm(false, false, 2, 2, 2, 1, x, 1, 0, x, 2, 0, 0, x, 2, 0, 1), /gemm: ld of a is 1, must be >= 2/);
      // A view's byte offset is respected: a view ending at its buffer's end is not over-read.
      const buf = new Float32Array(10);
      assert.throws(() => be.fill(5, 1, buf.subarray(6)), /fill: x has 4 elements, needs 5/);
      be.fill(4, 1, buf.subarray(6));
      assert.deepEqual(Array.from(buf), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    });
  });
}
