// The runtime's WebAssembly kernel (AssemblyScript, SIMD): the DAN's per-text arithmetic, i.e.
// summing product-quantised (norm-quantised ones too) and int8 / int4 table rows, and the two
// dense layers. Profiling the plain-JS runtime on the CLINC150 student (BENCHMARKS.md "Shipping")
// put ~75% of a prediction in the dense layers (200x200 + 150x200 multiply-adds in JS number
// loops); f32x4 does them several times faster.
// Compiled by scripts/build-wasm.mjs and inlined into the runtime (src/runtime/kernelBytes.ts),
// so the runtime stays one file with no fetch. The module owns its memory; the JS side lays out
// the model's tensors in it once at load and grows it as needed. All pointers are byte offsets.

/** y[r] = b[r] + sum_j w[r * cols + j] * x[j] for r < rows (w row-major f32). */
export function matvec(w: usize, b: usize, x: usize, y: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  const c8 = cols & ~7;
  for (let r = 0; r < rows; r++) {
    const row = w + <usize>r * <usize>cols * 4;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let j = 0;
    for (; j < c8; j += 8) {
      const o = <usize>j * 4;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(row + o), v128.load(x + o)));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(row + o, 16), v128.load(x + o, 16)));
    }
    if (j < c4) {
      const o = <usize>j * 4;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(row + o), v128.load(x + o)));
      j += 4;
    }
    const a = f32x4.add(a0, a1);
    let s: f32 = f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
    for (; j < cols; j++) s += load<f32>(row + <usize>j * 4) * load<f32>(x + <usize>j * 4);
    store<f32>(y + <usize>r * 4, s + load<f32>(b + <usize>r * 4));
  }
}

/**
 * acc[0..M*sub) += the product-quantised rows of ids[0..n): row id is, for each book m, codeword
 * codes[id * M + m] of book m (books: M x K x sub f32, codes: u8, or i32 when `wide`), times
 * nbook[ncodes[id]] when ncodes is not 0 (norm-quantised PQ: u8 norm codes into nbook, f32).
 */
export function pqAdd(codes: usize, wide: i32, books: usize, ids: usize, n: i32, M: i32, K: i32, sub: i32, ncodes: usize, nbook: usize, acc: usize): void {
  const s4 = sub & ~3;
  const bookBytes = <usize>K * <usize>sub * 4;
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + <usize>i * 4);
    const row = id * <usize>M;
    const s: f32 = ncodes ? load<f32>(nbook + <usize>load<u8>(ncodes + id) * 4) : 1;
    const vs = f32x4.splat(s);
    for (let m = 0; m < M; m++) {
      const code = wide ? <usize>load<i32>(codes + (row + <usize>m) * 4) : <usize>load<u8>(codes + row + <usize>m);
      const src = books + <usize>m * bookBytes + code * <usize>sub * 4;
      const dst = acc + <usize>m * <usize>sub * 4;
      let j = 0;
      // Norm-quantised rows take a loop of their own: folding plain rows into it (factor 1) saves
      // 113 bytes of kernel but ran a plain PQ student slower: p50 per text +0.7-5%, back to back
      // +4-7% (bench/runtimeLatency.ts, both kernels side by side, three runs, 2026-12-03).
      if (ncodes) {
        for (; j < s4; j += 4) {
          const o = <usize>j * 4;
          v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(vs, v128.load(src + o))));
        }
        for (; j < sub; j++) {
          const o = <usize>j * 4;
          store<f32>(dst + o, load<f32>(dst + o) + s * load<f32>(src + o));
        }
        continue;
      }
      for (; j < s4; j += 4) {
        const o = <usize>j * 4;
        v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
      }
      for (; j < sub; j++) {
        const o = <usize>j * 4;
        store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
      }
    }
  }
}

/**
 * acc[0..dim) += the int8 / int4 rows of ids[0..n): element j of row id is s * code + b, with s, b =
 * sb[2 id], sb[2 id + 1] (f32) and the codes packed dim * bits / 8 bytes a row (int4: element j in
 * the low nibble of byte j >> 1 when j is even, else the high one). dim is a multiple of 4. Each
 * value is dequantised, then added (summing s * code and the offsets apart cancels badly on long texts).
 */
export function quantAdd(q: usize, bits: i32, sb: usize, ids: usize, n: i32, dim: i32, acc: usize): void {
  const rowBytes = <usize>((dim * bits) >> 3);
  const nibble = i8x16.splat(15);
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + <usize>i * 4);
    const row = q + id * rowBytes;
    const vs = f32x4.splat(load<f32>(sb + id * 8));
    const vb = f32x4.splat(load<f32>(sb + id * 8, 4));
    for (let j = 0; j < dim; j += 4) {
      let v: v128;
      if (bits == 8) v = v128.load32_zero(row + <usize>j);
      else {
        const p = v128.load16_splat(row + <usize>(j >> 1));
        v = i8x16.shuffle(v128.and(p, nibble), i8x16.shr_u(p, 4), 0, 16, 1, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
      }
      const x = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v)));
      const dst = acc + <usize>j * 4;
      v128.store(dst, f32x4.add(v128.load(dst), f32x4.add(f32x4.mul(vs, x), vb)));
    }
  }
}

/**
 * CRC-32 (IEEE) of len bytes at data, continuing `crc` (pass the running value, pre-inverted as
 * zlib does internally), slicing-by-8 over the 8 x 256 u32 tables at `tables`. The JS loop does
 * the same but pays a bounds check per byte; a bundle is checked whole at every load.
 */
export function crc32(tables: usize, data: usize, len: i32, crc: u32): u32 {
  let c = crc;
  let i = 0;
  const end8 = len & ~7;
  for (; i < end8; i += 8) {
    const p = data + <usize>i;
    const lo = c ^ load<u32>(p);
    const hi = load<u32>(p, 4);
    c = load<u32>(tables + (7 * 256 + (lo & 0xff)) * 4) ^
      load<u32>(tables + (6 * 256 + ((lo >>> 8) & 0xff)) * 4) ^
      load<u32>(tables + (5 * 256 + ((lo >>> 16) & 0xff)) * 4) ^
      load<u32>(tables + (4 * 256 + (lo >>> 24)) * 4) ^
      load<u32>(tables + (3 * 256 + (hi & 0xff)) * 4) ^
      load<u32>(tables + (2 * 256 + ((hi >>> 8) & 0xff)) * 4) ^
      load<u32>(tables + (256 + ((hi >>> 16) & 0xff)) * 4) ^
      load<u32>(tables + (hi >>> 24) * 4);
  }
  for (; i < len; i++) c = load<u32>(tables + ((c ^ <u32>load<u8>(data + <usize>i)) & 0xff) * 4) ^ (c >>> 8);
  return c;
}
