/**
 * IEEE float16 conversion for the file formats that store halves (safetensors F16 tensors, f16
 * logits files). JavaScript has no Float16Array in Node 20, so it is done here, once.
 */

let HALF_TABLE: Float32Array | undefined;

/** Every float16 bit pattern decoded once (256 KB), so halves decode with one lookup each. */
export function halfTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    t[h] = exp === 0 ? sign * frac * 2 ** -24
      : exp === 31 ? (frac ? NaN : sign * Infinity)
      : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  HALF_TABLE = t;
  return t;
}

/** float32 bits -> float16 bits, round to nearest even, overflow to infinity, subnormals kept. */
export function f16FromF32Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // Rounding may carry into the exponent, which is the correct result (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** A number -> float16 bits (rounded to float32 first). */
export function f16Bits(x: number): number {
  F32[0] = x;
  return f16FromF32Bits(U32[0]!);
}
