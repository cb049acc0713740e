// Sparse embedding kernels. Tables never enter wasm memory whole: the JS side copies only the rows
// a call touches into a compact buffer (one row per id occurrence, or per unique id), and these
// kernels work on that buffer.

/** Index of the first id outside [0, rows), or -1. */
export function checkIds(ids: usize, n: i32, rows: i32): i32 {
  for (let i = 0; i < n; i++) {
    if (<u32>load<i32>(ids + (<usize>i << 2)) >= <u32>rows) return i;
  }
  return -1;
}

/** Largest of n ints (or -1 when n is 0). */
export function maxI32(p: usize, n: i32): i32 {
  let m: i32 = -1;
  for (let i = 0; i < n; i++) m = max(m, load<i32>(p + (<usize>i << 2)));
  return m;
}

/** First bag whose offsets are not non-decreasing within [0, nIds], or -1 (offsets has nBags+1). */
export function checkOffsets(nBags: i32, offsets: usize, nIds: i32): i32 {
  let prev = load<i32>(offsets);
  if (prev < 0 || prev > nIds) return 0;
  for (let b = 0; b < nBags; b++) {
    const next = load<i32>(offsets + (<usize>(b + 1) << 2));
    if (next < prev || next > nIds) return b;
    prev = next;
  }
  return -1;
}

// dst += alpha * src over dim floats.
@inline
function addRow(dim: i32, src: usize, alpha: f32, dst: usize): void {
  const va = f32x4.splat(alpha);
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    const o = <usize>j << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(va, v128.load(src + o))));
  }
  for (; j < dim; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(dst + o) + alpha * load<f32>(src + o));
  }
}

/**
 * out[b] = mean of the rows of bag b, where `rows` holds one copied table row per id occurrence
 * (occurrence j of the ids array at row j - offsets[0]).
 */
export function embeddingBagMean(nBags: i32, dim: i32, rows: usize, offsets: usize, out: usize): void {
  const rowBytes = <usize>dim << 2;
  const base = load<i32>(offsets);
  for (let b = 0; b < nBags; b++) {
    const lo = load<i32>(offsets + (<usize>b << 2));
    const hi = load<i32>(offsets + (<usize>(b + 1) << 2));
    const o = out + <usize>b * rowBytes;
    memory.fill(o, 0, rowBytes);
    if (hi <= lo) continue;
    let j = 0;
    let acc = f32x4.splat(0);
    // Sum in registers column block by column block (rows of a bag are adjacent in `rows`).
    for (; j + 4 <= dim; j += 4) {
      acc = f32x4.splat(0);
      let p = rows + <usize>(lo - base) * rowBytes + (<usize>j << 2);
      for (let k = lo; k < hi; k++) {
        acc = f32x4.add(acc, v128.load(p));
        p += rowBytes;
      }
      v128.store(o + (<usize>j << 2), f32x4.div(acc, f32x4.splat(<f32>(hi - lo))));
    }
    for (; j < dim; j++) {
      let s: f32 = 0;
      let p = rows + <usize>(lo - base) * rowBytes + (<usize>j << 2);
      for (let k = lo; k < hi; k++) {
        s += load<f32>(p);
        p += rowBytes;
      }
      store<f32>(o + (<usize>j << 2), s / <f32>(hi - lo));
    }
  }
}

/** gradRows[slot[j]] += dy[b] / count_b for every j in bag b (slot indexed from offsets[0]). */
export function embeddingBagMeanBackward(nBags: i32, dim: i32, offsets: usize, slot: usize, dy: usize, gradRows: usize): void {
  const rowBytes = <usize>dim << 2;
  const base = load<i32>(offsets);
  for (let b = 0; b < nBags; b++) {
    const lo = load<i32>(offsets + (<usize>b << 2));
    const hi = load<i32>(offsets + (<usize>(b + 1) << 2));
    if (hi <= lo) continue;
    const scale: f32 = <f32>1 / <f32>(hi - lo);
    const src = dy + <usize>b * rowBytes;
    for (let k = lo; k < hi; k++) {
      const s = load<i32>(slot + (<usize>(k - base) << 2));
      addRow(dim, src, scale, gradRows + <usize>s * rowBytes);
    }
  }
}

/** dst[slot[i]] += alpha * src[i] for i < n (rows of dim floats). */
export function indexAdd(n: i32, dim: i32, src: usize, slot: usize, alpha: f32, dst: usize): void {
  const rowBytes = <usize>dim << 2;
  for (let i = 0; i < n; i++) {
    const s = load<i32>(slot + (<usize>i << 2));
    addRow(dim, src + <usize>i * rowBytes, alpha, dst + <usize>s * rowBytes);
  }
}

/**
 * Coalesces ids: slot[i] = position of ids[i] in uniq, uniq = distinct ids in first-seen order.
 * `table` is scratch for an open-addressing hash of `cap` (a power of two >= 2n) i32 entries.
 * Returns the number of distinct ids.
 */
export function uniqueIds(ids: usize, n: i32, slot: usize, uniq: usize, table: usize, cap: i32): i32 {
  memory.fill(table, 0xff, <usize>cap << 2); // -1 = empty
  const mask = cap - 1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const id = load<i32>(ids + (<usize>i << 2));
    let h = (<u32>id * 0x9e3779b1) >> 7;
    for (;;) {
      const e = table + (<usize>(h & mask) << 2);
      const u = load<i32>(e);
      if (u < 0) {
        store<i32>(e, count);
        store<i32>(uniq + (<usize>count << 2), id);
        store<i32>(slot + (<usize>i << 2), count);
        count++;
        break;
      }
      if (load<i32>(uniq + (<usize>u << 2)) == id) {
        store<i32>(slot + (<usize>i << 2), u);
        break;
      }
      h++;
    }
  }
  return count;
}

/**
 * out[i, c] = sb[2i] * code(i, c) + sb[2i + 1] over n copied rows of int8 / int4 codes (rows of
 * dim*bits/8 bytes, consecutive; int4 low nibble first): the JS side copies the touched code rows
 * and their scale/bias pairs in, as for the float kernels.
 */
export function dequantRows(n: i32, dim: i32, bits: i32, q: usize, sb: usize, out: usize): void {
  const rowBytes = <usize>((dim * bits) >> 3);
  for (let i = 0; i < n; i++) {
    const row = q + <usize>i * rowBytes;
    const s = load<f32>(sb + (<usize>i << 3));
    const b = load<f32>(sb + (<usize>i << 3) + 4);
    const o = out + ((<usize>i * <usize>dim) << 2);
    if (bits == 8) {
      for (let j = 0; j < dim; j++) store<f32>(o + (<usize>j << 2), s * <f32>load<u8>(row + <usize>j) + b);
    } else {
      for (let j = 0; j < dim; j += 2) {
        const v = load<u8>(row + (<usize>j >> 1));
        store<f32>(o + (<usize>j << 2), s * <f32>(v & 15) + b);
        store<f32>(o + (<usize>(j + 1) << 2), s * <f32>(v >> 4) + b);
      }
    }
  }
}

// Codes of one occurrence, 4 bytes (4 int8 codes, or 8 int4 codes as 4 low and 4 high nibbles), widened to f32x4.
@inline
function widen4(v: v128): v128 {
  return f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v)));
}

/**
 * out[b] = mean over occurrences k of bag b of s_k * code_k + b_k, without writing the rows out:
 * occurrence k's packed codes (rowBytes = dim*bits/8, a multiple of 4) sit at
 * q + (k - offsets[0]) * rowBytes, its scale and bias at sb + (k - offsets[0]) * 8. Each value
 * is dequantised and added at once (summing the b's apart cancels badly on long bags: native
 * embedding.c); int4 sums low and high nibbles apart into acc (dim floats of scratch) and
 * interleaves them once a bag.
 */
export function quantBagMean(nBags: i32, dim: i32, bits: i32, q: usize, sb: usize, offsets: usize, acc: usize, out: usize): void {
  const rowBytes = <usize>((dim * bits) >> 3);
  const half = dim >> 1;
  const base = load<i32>(offsets);
  const nibble = i8x16.splat(15);
  for (let b = 0; b < nBags; b++) {
    const lo = load<i32>(offsets + (<usize>b << 2));
    const hi = load<i32>(offsets + (<usize>(b + 1) << 2));
    const o = out + ((<usize>b * <usize>dim) << 2);
    const a = bits == 8 ? o : acc;
    memory.fill(a, 0, <usize>dim << 2);
    for (let k = lo; k < hi; k++) {
      const i = <usize>(k - base);
      const row = q + i * rowBytes;
      const vs = f32x4.splat(load<f32>(sb + (i << 3)));
      const vb = f32x4.splat(load<f32>(sb + (i << 3), 4));
      if (bits == 8) {
        for (let j = 0; j < dim; j += 4) {
          const p = o + (<usize>j << 2);
          v128.store(p, f32x4.add(v128.load(p), f32x4.add(f32x4.mul(vs, widen4(v128.load32_zero(row + <usize>j))), vb)));
        }
      } else {
        for (let j = 0; j < half; j += 4) {
          const v = v128.load32_zero(row + <usize>j);
          const pe = acc + (<usize>j << 2), po = acc + (<usize>(half + j) << 2);
          v128.store(pe, f32x4.add(v128.load(pe), f32x4.add(f32x4.mul(vs, widen4(v128.and(v, nibble))), vb)));
          v128.store(po, f32x4.add(v128.load(po), f32x4.add(f32x4.mul(vs, widen4(i8x16.shr_u(v, 4))), vb)));
        }
      }
    }
    const inv: f32 = hi > lo ? <f32>1 / <f32>(hi - lo) : 0;
    const vi = f32x4.splat(inv);
    if (bits == 8) {
      for (let j = 0; j < dim; j += 4) {
        const p = o + (<usize>j << 2);
        v128.store(p, f32x4.mul(v128.load(p), vi));
      }
    } else {
      for (let j = 0; j < half; j += 4) {
        const e = f32x4.mul(v128.load(acc + (<usize>j << 2)), vi);
        const d = f32x4.mul(v128.load(acc + (<usize>(half + j) << 2)), vi);
        const p = o + (<usize>(2 * j) << 2);
        v128.store(p, i32x4.shuffle(e, d, 0, 4, 1, 5));
        v128.store(p, i32x4.shuffle(e, d, 2, 6, 3, 7), 16);
      }
    }
  }
}
