/**
 * k-means (Lloyd) for product quantisation and additive codes. The assignment step (distances
 * and their argmin, O(n K d)) is the backend's nearestCentroids kernel; like fastText's
 * productquantizer.cc the centroids are fitted on a seeded sample of at most `sample` points and
 * then every point is assigned once. The update step sums each cluster's (weighted) points with
 * the backend's indexAdd kernel and scales the sums by the clusters' weights with axpby.
 */
import { Rng, getBackend } from '../../engine/index.js';

export interface KmeansOptions {
  /**
   * Weight of each point in the fit (task-aware compression: how often the task's data uses the
   * row). Points of weight 0 are left out of the fit and only assigned at the end.
   */
  weights?: Float32Array;
  iters?: number;
  /** Fit on at most this many points (default 65536). */
  sample?: number;
  seed?: number;
}

/** Fits K centroids [K, d] to the n points [n, d] (row stride `stride`, column offset `col`). */
export function kmeans(points: Float32Array, n: number, d: number, K: number, opts: KmeansOptions & { stride?: number; col?: number } = {}): { centroids: Float32Array; codes: Int32Array } {
  const stride = opts.stride ?? d, col = opts.col ?? 0;
  const rng = Rng.derive(opts.seed ?? 0, 'kmeans');
  const w = opts.weights;
  let order = Int32Array.from({ length: n }, (_, i) => i);
  if (w) order = order.filter((i) => w[i]! > 0);
  const pool = order.length;
  const take = Math.min(pool, opts.sample ?? 65536);
  if (take < pool) rng.shuffle(order);
  if (take < K) throw new Error(`k-means: ${take} points to fit ${K} centroids`);
  const xw = new Float32Array(take);
  for (let i = 0; i < take; i++) xw[i] = w ? w[order[i]!]! : 1;
  const x = new Float32Array(take * d);
  for (let i = 0; i < take; i++) {
    const o = order[i]! * stride + col;
    x.set(points.subarray(o, o + d), i * d);
  }
  // Start from K distinct sample points (k-means++ costs a pass per centroid; Lloyd's steps fix the rest).
  const c = new Float32Array(K * d);
  for (let k = 0; k < K; k++) c.set(x.subarray((k % take) * d, (k % take) * d + d), k * d);
  const be = getBackend();
  // The points times their weights, once: each step's cluster sums are then one indexAdd.
  let xs = x;
  if (w) {
    xs = new Float32Array(take * d);
    for (let i = 0; i < take; i++) be.axpby(d, xw[i]!, x.subarray(i * d, i * d + d), 0, xs.subarray(i * d, i * d + d));
  }
  const assign = new Int32Array(take);
  const sums = new Float32Array(K * d), counts = new Float64Array(K);
  for (let it = 0; it < (opts.iters ?? 15); it++) {
    nearest(x, take, d, c, K, assign);
    sums.fill(0);
    counts.fill(0);
    be.indexAdd(take, d, xs, assign, 1, sums);
    for (let i = 0; i < take; i++) counts[assign[i]!]! += xw[i]!;
    for (let k = 0; k < K; k++) {
      const ck = c.subarray(k * d, k * d + d);
      if (counts[k] === 0) {
        // An empty cluster takes a random point (fastText splits the largest; either keeps K in use).
        const i = rng.int(take);
        ck.set(x.subarray(i * d, i * d + d));
      } else be.axpby(d, 1 / counts[k]!, sums.subarray(k * d, k * d + d), 0, ck);
    }
  }
  // Assign every point, in chunks.
  const codes = new Int32Array(n);
  const CH = 8192;
  const buf = new Float32Array(CH * d);
  for (let i0 = 0; i0 < n; i0 += CH) {
    const m = Math.min(CH, n - i0);
    for (let i = 0; i < m; i++) {
      const o = (i0 + i) * stride + col;
      buf.set(points.subarray(o, o + d), i * d);
    }
    nearest(buf, m, d, c, K, codes.subarray(i0, i0 + m));
  }
  return { centroids: c, codes };
}

/** out[i] = argmin_k |x_i - c_k|^2 for n points. */
function nearest(x: Float32Array, n: number, d: number, c: Float32Array, K: number, out: Int32Array): void {
  getBackend().nearestCentroids(n, d, K, x, c, out);
}
