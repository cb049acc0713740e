/**
 * Every op's forward result (and its input gradients) agrees between each real backend and the
 * reference to relative error 1e-4, on the same inputs and seeds (dropout included: its RNG is
 * counter-based, so both backends drop the same elements).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, backward, mul, sum, uniform } from '../../src/engine/index.js';
import type { Backend } from '../../src/engine/backend.js';
import { refBackend } from './refBackend.js';
import { realBackends, unavailable, withBackend } from './backendsUnderTest.js';
import { cases } from './opCases.js';

interface Run {
  out: Float32Array;
  grads: Float32Array[];
}

function run(b: Backend, c: (typeof cases)[number]): Run {
  return withBackend(b, () => {
    const xs = c.inputs(new Rng(42));
    const out = c.f(xs);
    const R = uniform(out.shape as number[], new Rng(7), -1, 1);
    backward(sum(mul(out, R)));
    return { out: out.data.slice(), grads: xs.map((x) => x.denseGrad() ?? new Float32Array(x.size)) };
  });
}

/** max |a - b| / (|b| + 1e-3 * max|b|) : relative error with a floor for entries near zero. */
function relErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (Math.abs(b[i]!) + 1e-3 * scale + 1e-30));
  return worst;
}

const skip = realBackends.length === 0 ? `no real backend loads here (${unavailable.join('; ')})` : false;

describe('forward and backward agree with the reference', { skip }, () => {
  for (const { name, backend } of realBackends) {
    for (const c of cases) {
      test(`${name}: ${c.name}`, () => {
        const want = run(refBackend, c);
        const got = run(backend, c);
        assert.ok(relErr(got.out, want.out) < 1e-4, `forward rel. error ${relErr(got.out, want.out)}`);
        got.grads.forEach((g, i) => assert.ok(relErr(g, want.grads[i]!) < 1e-4, `grad ${i} rel. error ${relErr(g, want.grads[i]!)}`));
      });
    }
  }
});

test('relErr notices a difference of 1e-3', () => {
  const a = new Float32Array([1, 2, 3]);
  assert.ok(relErr(a, a) === 0);
  assert.ok(relErr(new Float32Array([1, 2, 3.003]), a) > 1e-4);
});
