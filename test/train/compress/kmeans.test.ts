/**
 * k-means (product quantisation's fit): on points in well-separated groups, the centroids are the
 * groups' weighted means (the update step is the backend's indexAdd + axpby), every point gets its
 * group's centroid, points of weight 0 are assigned but do not move the centroids, and a strided
 * column window fits the sub-vector it names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/engine/index.js';
import { kmeans } from '../../../src/train/compress/kmeans.js';

test('k-means: weighted group means, assignments, weight-0 points, strided sub-vectors', () => {
  const rng = new Rng(3);
  const d = 4, K = 3, per = 200, n = K * per;
  const centres = [[10, 0, 0, 0], [0, 10, 0, 0], [0, 0, 10, -10]];
  const pts = new Float32Array(n * d), weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = i % K;
    for (let j = 0; j < d; j++) pts[i * d + j] = centres[g]![j]! + (rng.next() - 0.5);
    weights[i] = i < 3 * K ? 0 : 1 + (i % 5);
  }
  const { centroids, codes } = kmeans(pts, n, d, K, { weights, iters: 10, seed: 1 });
  for (let g = 0; g < K; g++) {
    // Which centroid took group g, and is it the weighted mean of the group's weighted points?
    const k = codes[g]!;
    const mean = new Float64Array(d);
    let wsum = 0;
    for (let i = g; i < n; i += K) {
      assert.equal(codes[i], k, `point ${i} of group ${g}`);
      wsum += weights[i]!;
      for (let j = 0; j < d; j++) mean[j]! += weights[i]! * pts[i * d + j]!;
    }
    for (let j = 0; j < d; j++) assert.ok(Math.abs(centroids[k * d + j]! - mean[j]! / wsum) < 1e-4, `group ${g} dim ${j}: ${centroids[k * d + j]} vs ${mean[j]! / wsum}`);
  }
  assert.equal(new Set(codes).size, K);
  // The same points as columns 2..5 of 7-wide rows.
  const wide = new Float32Array(n * 7);
  for (let i = 0; i < n; i++) wide.set(pts.subarray(i * d, i * d + d), i * 7 + 2);
  const w2 = kmeans(wide, n, d, K, { weights, iters: 10, seed: 1, stride: 7, col: 2 });
  assert.deepEqual(Array.from(w2.codes), Array.from(codes));
  for (let i = 0; i < K * d; i++) assert.ok(Math.abs(w2.centroids[i]! - centroids[i]!) < 1e-5);
});
