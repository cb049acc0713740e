/**
 * The wasm backend's fused inference kernels (InferKernels, src/engine/backend.ts), over the
 * assembly/infer.ts exports: each call copies its inputs into the arena, runs one fused pass and
 * copies the result out, instead of the several generic kernel calls (and temporaries) of the
 * composed set in engine/infer/kernels.ts. int8 uses the native kernels' packed layout, so a
 * weight packed by either backend runs on both. Browser-safe (no node: imports).
 */
import { q8PackedLength, type F32, type I32, type InferKernels } from '../backend.js';
import { OpError } from '../../errors.js';
import type { Arena } from './arena.js';
import type { KernelExports } from './exports.js';
import type { Job } from './pool.js';
import { counts, floats, ints, splitRange } from './kernels.js';

/** Below this many multiply-adds a kernel stays on the calling thread. */
const PAR_WORK = 1 << 20;

export interface WasmInferHost {
  x: KernelExports;
  arena: Arena;
  /** Runs jobs, the first on this thread (WasmBackend.runJobs). */
  run(jobs: Job[]): void;
  /** Threads usable now (WasmBackend.usableThreads). */
  threads(): number;
}

export function wasmInferKernels(h: WasmInferHost): InferKernels {
  const { x, arena: ar } = h;
  const parts = (work: number, n: number): number => (work >= PAR_WORK ? Math.max(1, Math.min(h.threads(), n)) : 1);
  const bytes = (k: string, name: string, a: unknown, need: number): void => {
    if (!(a instanceof Int8Array)) throw new OpError(k, `${name} must be an Int8Array`);
    if (a.length < need) throw new OpError(k, `${name} has ${a.length} elements, needs at least ${need}`);
  };
  const putI8 = (p: number, a: Int8Array, n: number): void => {
    new Int8Array(ar.memory.buffer, p, n).set(a.subarray(0, n));
  };

  return {
    biasGelu(rows, cols, bias, xs) {
      const k = 'biasGelu';
      counts(k, { rows, cols });
      floats(k, 'x', xs, rows * cols);
      if (bias) floats(k, 'bias', bias, cols);
      if (rows * cols === 0) return;
      ar.reset();
      const pb = bias ? ar.alloc(cols) : 0, px = ar.alloc(rows * cols);
      ar.commit(k);
      if (bias) ar.put(pb, bias, cols);
      ar.put(px, xs, rows * cols);
      const t = parts(rows * cols * 8, rows);
      h.run(splitRange(rows, t, 1).map(([lo, hi]) => ({ fn: 'biasGelu', args: [hi - lo, cols, pb, px + lo * cols * 4] })));
      ar.get(px, xs, rows * cols);
    },

    addBias(rows, cols, bias, xs) {
      const k = 'addBias';
      counts(k, { rows, cols });
      floats(k, 'x', xs, rows * cols);
      floats(k, 'bias', bias, cols);
      if (rows * cols === 0) return;
      ar.reset();
      const pb = ar.alloc(cols), px = ar.alloc(rows * cols);
      ar.commit(k);
      ar.put(pb, bias, cols);
      ar.put(px, xs, rows * cols);
      x.addBias(rows, cols, pb, px);
      ar.get(px, xs, rows * cols);
    },

    residualLayerNorm(rows, cols, xs, bias, residual, gamma, beta, eps, out) {
      const k = 'residualLayerNorm';
      counts(k, { rows, cols });
      const n = rows * cols;
      floats(k, 'x', xs, n);
      floats(k, 'residual', residual, n);
      floats(k, 'out', out, n);
      floats(k, 'gamma', gamma, cols);
      floats(k, 'beta', beta, cols);
      if (bias) floats(k, 'bias', bias, cols);
      if (n === 0) return;
      ar.reset();
      const px = ar.alloc(n), pr = ar.alloc(n), pg = ar.alloc(cols), pbeta = ar.alloc(cols), pb = bias ? ar.alloc(cols) : 0;
      ar.commit(k);
      ar.put(px, xs, n);
      ar.put(pr, residual, n);
      ar.put(pg, gamma, cols);
      ar.put(pbeta, beta, cols);
      if (bias) ar.put(pb, bias, cols);
      x.residualLayerNorm(rows, cols, px, pb, pr, pg, pbeta, eps, px);
      ar.get(px, out, n);
    },

    embedLayerNorm(n, dim, word, ids, position, positionIds, tokenType, tokenTypeIds, gamma, beta, eps, out) {
      const k = 'embedLayerNorm';
      counts(k, { n, dim });
      ints(k, 'ids', ids, n);
      ints(k, 'positionIds', positionIds, n);
      ints(k, 'tokenTypeIds', tokenTypeIds, n);
      floats(k, 'out', out, n * dim);
      floats(k, 'gamma', gamma, dim);
      floats(k, 'beta', beta, dim);
      if (n === 0 || dim === 0) return;
      ar.reset();
      const pw = ar.alloc(n * dim), pp = ar.alloc(n * dim), pt = ar.alloc(n * dim), pg = ar.alloc(dim), pbeta = ar.alloc(dim);
      ar.commit(k);
      // Only the rows this batch reads are copied in (a word table can be ~100 MB).
      const rowsOf = (name: string, table: F32, sel: I32, p: number): void => {
        const rows = Math.floor(table.length / dim);
        const f = ar.f32, o = p >>> 2;
        for (let i = 0; i < n; i++) {
          const id = sel[i]!;
          if (!(id >= 0 && id < rows)) throw new OpError(k, `${name}[${i}] = ${id} is outside [0, ${rows})`);
          f.set(table.subarray(id * dim, (id + 1) * dim), o + i * dim);
        }
      };
      rowsOf('ids', word, ids, pw);
      rowsOf('positionIds', position, positionIds, pp);
      rowsOf('tokenTypeIds', tokenType, tokenTypeIds, pt);
      ar.put(pg, gamma, dim);
      ar.put(pbeta, beta, dim);
      x.sumLayerNorm(n, dim, pw, pp, pt, pg, pbeta, eps, pw);
      ar.get(pw, out, n * dim);
    },

    attentionPacked(nSeq, offsets, heads, d, qkv, ctx) {
      const k = 'attentionPacked';
      counts(k, { nSeq, heads, d });
      ints(k, 'offsets', offsets, nSeq + 1);
      const rows = offsets[nSeq]! - offsets[0]!;
      const H = heads * d;
      if (offsets[0] !== 0) throw new OpError(k, `offsets must start at 0, got ${offsets[0]}`);
      floats(k, 'qkv', qkv, rows * 3 * H);
      floats(k, 'ctx', ctx, rows * H);
      if (rows === 0 || H === 0) return;
      let maxL = 0, work = 0;
      for (let s = 0; s < nSeq; s++) {
        const L = offsets[s + 1]! - offsets[s]!;
        if (L < 0) throw new OpError(k, `offsets decrease at sequence ${s}`);
        maxL = Math.max(maxL, L);
        work += 2 * L * L * H;
      }
      const ranges = splitRange(nSeq, parts(work, nSeq), 1);
      ar.reset();
      const po = ar.alloc(nSeq + 1), pq = ar.alloc(rows * 3 * H), pc = ar.alloc(rows * H);
      const scratch = ranges.map(() => ar.alloc(maxL));
      ar.commit(k);
      ar.putI32(po, offsets, nSeq + 1);
      ar.put(pq, qkv, rows * 3 * H);
      h.run(ranges.map(([s0, s1], i) => ({ fn: 'attentionPacked', args: [s0, s1, po, heads, d, pq, pc, scratch[i]!] })));
      ar.get(pc, ctx, rows * H);
    },

    q8Quantize(N, K, weight, codes, scales) {
      const k = 'q8Quantize';
      counts(k, { N, K });
      floats(k, 'weight', weight, N * K);
      bytes(k, 'codes', codes, N * K);
      floats(k, 'scales', scales, N);
      if (N * K === 0) {
        scales.fill(0, 0, N);
        return;
      }
      ar.reset();
      const pw = ar.alloc(N * K), pc = ar.alloc(Math.ceil((N * K) / 4)), ps = ar.alloc(N);
      ar.commit(k);
      ar.put(pw, weight, N * K);
      x.q8Quantize(N, K, pw, pc, ps);
      codes.set(new Int8Array(ar.memory.buffer, pc, N * K));
      ar.get(ps, scales, N);
    },

    q8PackCodes(N, K, codes, packed, colsum) {
      const k = 'q8PackCodes';
      counts(k, { N, K });
      bytes(k, 'codes', codes, N * K);
      const len = q8PackedLength(N, K);
      ints(k, 'packed (q8PackedLength)', packed, len);
      ints(k, 'colsum', colsum, N);
      ar.reset();
      const pc = ar.alloc(Math.ceil((N * K) / 4)), pp = ar.alloc(len), ps = ar.alloc(N);
      ar.commit(k);
      if (N * K > 0) putI8(pc, codes, N * K);
      x.q8PackCodes(N, K, pc, pp, ps);
      packed.set(ar.i32.subarray(pp >>> 2, (pp >>> 2) + len));
      colsum.set(ar.i32.subarray(ps >>> 2, (ps >>> 2) + N));
    },

    q8Pack(N, K, weight, packed, scales, colsum) {
      const codes = new Int8Array(N * K);
      this.q8Quantize!(N, K, weight, codes, scales);
      this.q8PackCodes!(N, K, codes, packed, colsum);
    },

    q8Gemm(M, N, K, xs, packed, scales, _colsum, bias, y) {
      const k = 'q8Gemm';
      counts(k, { M, N, K });
      floats(k, 'x', xs, M * K);
      const len = q8PackedLength(N, K);
      ints(k, 'packed (q8PackedLength)', packed, len);
      floats(k, 'scales', scales, N);
      if (bias) floats(k, 'bias', bias, N);
      floats(k, 'y', y, M * N);
      if (M === 0 || N === 0) return;
      const K4 = Math.ceil(K / 4), Kp = K4 * 4, panels = Math.ceil(N / 32), Np = panels * 32;
      ar.reset();
      const px = ar.alloc(M * K), pqa = ar.alloc(Math.ceil((M * Kp) / 2)), psa = ar.alloc(M);
      const pp = ar.alloc(len), ps = ar.alloc(Np), pb = bias ? ar.alloc(Np) : 0, py = ar.alloc(M * N);
      ar.commit(k);
      ar.put(px, xs, M * K);
      ar.putI32(pp, packed, len);
      ar.put(ps, scales, N);
      if (bias) ar.put(pb, bias, N);
      x.q8QuantizeRows(0, M, K, Kp, px, pqa, psa);
      const ranges = splitRange(panels, parts(M * N * K, panels), 1);
      h.run(ranges.map(([p0, p1]) => ({ fn: 'q8Gemm', args: [M, N, K, Kp, pqa, psa, pp, ps, pb, py, p0, p1] })));
      ar.get(py, y, M * N);
    },

    q8Kernel: () => 'wasm-simd128',
  };
}
