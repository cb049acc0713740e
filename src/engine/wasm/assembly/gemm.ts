// Blocked, packed SGEMM (Goto/BLIS layout) with a 4x8 f32x4 register micro-kernel.
// No library: there is no maintained SIMD BLAS in AssemblyScript, and the kernel is small.
//
// Loop nest for one matrix (C is M x N, op(A) is M x K, op(B) is K x N):
//   jc over N in NC columns -> pc over K in KC -> pack B(kc x nc) into NR-wide panels (L2)
//     -> ic over M in MC rows -> pack A(mc x kc) into MR-tall panels (L2)
//       -> jr over NR panels -> ir over MR panels -> 4x8 micro-kernel (accumulators in registers)
// Why 4x8: V8 gives wasm 15 xmm registers and, without FMA, needs a temporary per multiply-add;
// 4x8 (8 accumulators) never spills, while 6x8 and 5x8 spill accumulators every iteration and
// measured 25 vs 37 GFLOP/s at 512^3 (best of 8 runs). Unrolling k by 2 was slower (28).
// Block sizes barely matter here (KC 128..512, MC 64..192, NC 512..2048 all within 3%).
// The first K block writes alpha*AB (+ beta*C when beta != 0); later K blocks add alpha*AB.
// Summation order depends only on K blocking, never on how M/N/batches are split across threads,
// so results do not change with the thread count.

export const MR: i32 = 4;
export const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 96; // multiple of MR
const NC: i32 = 1024; // multiple of NR

/** Bytes of scratch one thread needs for gemm (packed A block, packed B block, one edge tile). */
export function gemmScratchBytes(): usize {
  return <usize>(MC * KC + KC * NC + MR * NR) * 4 + 64;
}

/**
 * C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b] for batches [b0, b1), restricted to rows
 * [m0, m1) and columns [n0, n1) of C (so threads can split the work). Pointers are byte
 * addresses; leading dimensions and strides are in elements.
 */
export function gemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, lda: i32, strideA: i32,
  b: usize, ldb: i32, strideB: i32,
  beta: f32, c: usize, ldc: i32, strideC: i32,
  b0: i32, b1: i32, m0: i32, m1: i32, n0: i32, n1: i32, scratch: usize,
): void {
  const packA = (scratch + 63) & ~(<usize>63);
  const packB = packA + <usize>(MC * KC) * 4;
  const tile = packB + <usize>(KC * NC) * 4;
  for (let bi = b0; bi < b1; bi++) {
    const ab = a + <usize>bi * <usize>strideA * 4;
    const bb = b + <usize>bi * <usize>strideB * 4;
    const cb = c + <usize>bi * <usize>strideC * 4;
    if (K == 0) {
      scaleC(cb, ldc, m0, m1, n0, n1, beta);
      continue;
    }
    for (let jc = n0; jc < n1; jc += NC) {
      const nc = min(NC, n1 - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = min(KC, K - pc);
        packBlockB(transB, bb, ldb, pc, kc, jc, nc, packB);
        const first = pc == 0;
        for (let ic = m0; ic < m1; ic += MC) {
          const mc = min(MC, m1 - ic);
          packBlockA(transA, ab, lda, ic, mc, pc, kc, packA);
          macroKernel(mc, nc, kc, alpha, beta, first, packA, packB, cb + (<usize>ic * <usize>ldc + <usize>jc) * 4, ldc, tile);
        }
      }
    }
  }
}

function scaleC(c: usize, ldc: i32, m0: i32, m1: i32, n0: i32, n1: i32, beta: f32): void {
  for (let i = m0; i < m1; i++) {
    const row = c + <usize>i * <usize>ldc * 4;
    for (let j = n0; j < n1; j++) {
      const p = row + <usize>j * 4;
      store<f32>(p, beta == 0 ? <f32>0 : beta * load<f32>(p));
    }
  }
}

// Packs rows [i0, i0+mc) x cols [k0, k0+kc) of op(A) into MR-tall panels, k-major inside a panel;
// rows past mc are zero so the micro-kernel always runs full tiles.
function packBlockA(transA: i32, a: usize, lda: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let p = 0; p < mc; p += MR) {
    const rows = min(MR, mc - p);
    const panel = dst + <usize>(p * kc) * 4;
    if (transA == 0) {
      // A stored (M, K): row i of op(A) is contiguous.
      for (let r = 0; r < MR; r++) {
        if (r < rows) {
          let src = a + (<usize>(i0 + p + r) * <usize>lda + <usize>k0) * 4;
          let d = panel + <usize>r * 4;
          for (let k = 0; k < kc; k++) {
            store<f32>(d, load<f32>(src));
            src += 4;
            d += <usize>MR * 4;
          }
        } else {
          let d = panel + <usize>r * 4;
          for (let k = 0; k < kc; k++) {
            store<f32>(d, 0);
            d += <usize>MR * 4;
          }
        }
      }
    } else {
      // A stored (K, M): the MR values of one k are contiguous.
      let src = a + (<usize>k0 * <usize>lda + <usize>(i0 + p)) * 4;
      let d = panel;
      const ldaBytes = <usize>lda * 4;
      if (rows == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(src));
          for (let r = 4; r < MR; r++) store<f32>(d + <usize>r * 4, load<f32>(src + <usize>r * 4));
          src += ldaBytes;
          d += <usize>MR * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(d + <usize>r * 4, r < rows ? load<f32>(src + <usize>r * 4) : <f32>0);
          }
          src += ldaBytes;
          d += <usize>MR * 4;
        }
      }
    }
  }
}

// Packs rows [k0, k0+kc) x cols [j0, j0+nc) of op(B) into NR-wide panels, k-major inside a panel.
function packBlockB(transB: i32, b: usize, ldb: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let q = 0; q < nc; q += NR) {
    const cols = min(NR, nc - q);
    const panel = dst + <usize>(q * kc) * 4;
    if (transB == 0) {
      // B stored (K, N): the NR values of one k are contiguous.
      let src = b + (<usize>k0 * <usize>ldb + <usize>(j0 + q)) * 4;
      let d = panel;
      const ldbBytes = <usize>ldb * 4;
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          src += ldbBytes;
          d += <usize>NR * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let cc = 0; cc < NR; cc++) {
            store<f32>(d + <usize>cc * 4, cc < cols ? load<f32>(src + <usize>cc * 4) : <f32>0);
          }
          src += ldbBytes;
          d += <usize>NR * 4;
        }
      }
    } else {
      // B stored (N, K): column j of op(B) is contiguous.
      for (let cc = 0; cc < NR; cc++) {
        let d = panel + <usize>cc * 4;
        if (cc < cols) {
          let src = b + (<usize>(j0 + q + cc) * <usize>ldb + <usize>k0) * 4;
          for (let k = 0; k < kc; k++) {
            store<f32>(d, load<f32>(src));
            src += 4;
            d += <usize>NR * 4;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<f32>(d, 0);
            d += <usize>NR * 4;
          }
        }
      }
    }
  }
}

function macroKernel(
  mc: i32, nc: i32, kc: i32, alpha: f32, beta: f32, first: bool,
  packA: usize, packB: usize, c: usize, ldc: i32, tile: usize,
): void {
  // mode 0: C = alpha*AB; 1: C = alpha*AB + beta*C; 2: C += alpha*AB
  const mode: i32 = first ? (beta == 0 ? 0 : 1) : 2;
  const vb: f32 = first ? beta : 1;
  const ldcBytes = <usize>ldc * 4;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const bp = packB + <usize>(jr * kc) * 4;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const ap = packA + <usize>(ir * kc) * 4;
      const cp = c + <usize>ir * ldcBytes + <usize>jr * 4;
      if (mr == MR && nr == NR) {
        micro4x8(kc, ap, bp, cp, ldcBytes, alpha, vb, mode);
      } else {
        micro4x8(kc, ap, bp, tile, <usize>NR * 4, 1, 0, 0);
        for (let i = 0; i < mr; i++) {
          for (let j = 0; j < nr; j++) {
            const p = cp + <usize>i * ldcBytes + <usize>j * 4;
            const v = alpha * load<f32>(tile + <usize>(i * NR + j) * 4);
            store<f32>(p, mode == 0 ? v : v + vb * load<f32>(p));
          }
        }
      }
    }
  }
}

// @inline so each call site gets its own copy with constant mode folded where possible.
@inline
function storeRow(p: usize, x0: v128, x1: v128, va: v128, vb: v128, mode: i32): void {
  if (mode == 0) {
    v128.store(p, f32x4.mul(x0, va));
    v128.store(p, f32x4.mul(x1, va), 16);
  } else {
    v128.store(p, f32x4.add(f32x4.mul(x0, va), f32x4.mul(v128.load(p), vb)));
    v128.store(p, f32x4.add(f32x4.mul(x1, va), f32x4.mul(v128.load(p, 16), vb)), 16);
  }
}

function micro4x8(kc: i32, a: usize, b: usize, c: usize, ldcBytes: usize, alpha: f32, beta: f32, mode: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    {
      const b0 = v128.load(b, 0);
      const b1 = v128.load(b, 16);
      let av = v128.load32_splat(a, 0);
      c00 = f32x4.add(c00, f32x4.mul(av, b0));
      c01 = f32x4.add(c01, f32x4.mul(av, b1));
      av = v128.load32_splat(a, 4);
      c10 = f32x4.add(c10, f32x4.mul(av, b0));
      c11 = f32x4.add(c11, f32x4.mul(av, b1));
      av = v128.load32_splat(a, 8);
      c20 = f32x4.add(c20, f32x4.mul(av, b0));
      c21 = f32x4.add(c21, f32x4.mul(av, b1));
      av = v128.load32_splat(a, 12);
      c30 = f32x4.add(c30, f32x4.mul(av, b0));
      c31 = f32x4.add(c31, f32x4.mul(av, b1));
    }
    a += 16;
    b += 32;
  }
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  storeRow(c, c00, c01, va, vb, mode);
  storeRow(c + ldcBytes, c10, c11, va, vb, mode);
  storeRow(c + 2 * ldcBytes, c20, c21, va, vb, mode);
  storeRow(c + 3 * ldcBytes, c30, c31, va, vb, mode);
}
