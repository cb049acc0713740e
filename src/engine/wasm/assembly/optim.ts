// AdamW and counter-based dropout. The JS arena rounds buffers up to 64 bytes, so whole vectors
// past n are scratch.

// Multipliers of the dropout hash (see hashUniform in backend.ts), read from memory because V8
// rebuilds v128 literals inside loops (see simdmath.ts).
const HASH_K = memory.data<i32>([0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 4]);

/**
 * AdamW over ceil(n/4) vectors: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr * ((m / bc1) / (sqrt(v / bc2) + eps) + wd * p), with bc = 1 - beta^t computed by the caller.
 */
export function adam(n: i32, p: usize, g: usize, m: usize, v: usize, lr: f32, b1: f32, b2: f32, eps: f32, wd: f32, bc1: f32, bc2: f32): void {
  const count = (n + 3) >> 2;
  const vb1 = f32x4.splat(b1), vc1 = f32x4.splat(1 - b1);
  const vb2 = f32x4.splat(b2), vc2 = f32x4.splat(1 - b2);
  const vlr = f32x4.splat(lr), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
  const ibc1 = f32x4.splat(<f32>1 / bc1), ibc2 = f32x4.splat(<f32>1 / bc2);
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 4;
    const gv = v128.load(g + o);
    const mv = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vc1, gv));
    const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vc2, f32x4.mul(gv, gv)));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    const pv = v128.load(p + o);
    const upd = f32x4.div(f32x4.mul(mv, ibc1), f32x4.add(f32x4.sqrt(f32x4.mul(vv, ibc2)), veps));
    v128.store(p + o, f32x4.sub(pv, f32x4.mul(vlr, f32x4.add(upd, f32x4.mul(vwd, pv)))));
  }
}

/**
 * Inverted dropout for elements i0 .. i0+n (buffers start at element i0): keep iff
 * (hash(seed, i) >>> 8) >= threshold, where threshold = ceil(p * 2^24) makes this exactly
 * `hashUniform(seed, i) >= p`. mask = keep ? scale : 0; y = x * mask.
 */
export function dropout(n: i32, i0: i32, threshold: i32, seed: i32, scale: f32, x: usize, y: usize, mask: usize): void {
  const count = (n + 3) >> 2;
  const vseed = i32x4.splat(seed);
  const vthr = i32x4.splat(threshold);
  const vscale = f32x4.splat(scale);
  let idx = i32x4.add(i32x4.splat(i0), i32x4(0, 1, 2, 3));
  for (let k = 0; k < count; k++) {
    let h = v128.xor(vseed, i32x4.mul(idx, v128.load32_splat(HASH_K)));
    h = v128.xor(h, i32x4.shr_u(h, 16));
    h = i32x4.mul(h, v128.load32_splat(HASH_K, 4));
    h = v128.xor(h, i32x4.shr_u(h, 13));
    h = i32x4.mul(h, v128.load32_splat(HASH_K, 8));
    h = v128.xor(h, i32x4.shr_u(h, 16));
    const keep = i32x4.ge_s(i32x4.shr_u(h, 8), vthr);
    const mv = v128.and(vscale, keep);
    const o = <usize>k << 4;
    v128.store(mask + o, mv);
    v128.store(y + o, f32x4.mul(v128.load(x + o), mv));
    idx = i32x4.add(idx, v128.load32_splat(HASH_K, 12));
  }
}
