/**
 * The engine benchmark's pieces on a tiny layer: the timed training step runs on every backend,
 * and the per-kernel profile accounts for the GEMMs of forward and backward and leaves the
 * backend as it found it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend } from '../../src/engine/index.js';
import { layerStepMs } from '../../src/bench/layerStep.js';
import { profileLayerStep } from '../../src/bench/profile.js';
import { backendsUnderTest, withBackend } from '../engine/backendsUnderTest.js';

const tiny = { batch: 2, seq: 8, hidden: 16, heads: 2, intermediate: 32 };

for (const { name, backend } of backendsUnderTest) {
  test(`layer step and its profile on ${name}`, () => withBackend(backend, () => {
    const ms = layerStepMs(tiny, 2);
    assert.ok(ms > 0 && Number.isFinite(ms));
    const p = profileLayerStep(tiny, 2);
    assert.equal(getBackend(), backend, 'the timing wrapper is removed afterwards');
    const calls = (prefix: string) => p.kernels.filter((k) => k.kernel.startsWith(prefix)).reduce((n, k) => n + k.calls, 0);
    // six Linear layers: 6 forward GEMMs, 6 weight gradients, 3 input gradients (ctx, attention
    // output, intermediate; the layer input needs none), plus 2 forward and 4 backward per head
    assert.equal(calls('gemm '), 6 + 6 + 3 + 2 * tiny.heads + 4 * tiny.heads);
    assert.equal(calls('adam'), 16, 'one AdamW update per parameter');
    assert.ok(p.kernels.some((k) => k.kernel === 'unary gelu n=512'));
    assert.ok(p.kernel_ms > 0 && p.step_ms > 0 && p.kernels.every((k) => k.ms >= 0 && k.calls > 0));
  }));
}
