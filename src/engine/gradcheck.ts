/**
 * Finite-difference gradient check for float32 ops. The function's output is projected on fixed
 * random weights R (loss = sum(out * R), summed in double precision) so every output element's
 * gradient is exercised. For each checked input element the numerical derivative is taken twice,
 * by central differences at steps eps and eps/2:
 *   - if the two disagree, the point is not smooth enough to judge (a relu kink, a dropout edge)
 *     and is skipped (too many skips fail the check);
 *   - otherwise the Richardson extrapolation (4 d(eps/2) - d(eps)) / 3 is compared with the
 *     analytic gradient: |a - n| <= atol + rtol * max(|a|, |n|).
 * Sparse gradients are scattered to dense for the comparison.
 */
import { Tensor } from './tensor.js';
import { backward, noGrad } from './autograd.js';
import { getBackend } from './backends.js';
import { mul } from './ops/elementwise.js';
import { sum } from './ops/reduce.js';
import { Rng } from './random.js';
import { fmt } from './shapes.js';

export interface GradcheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Check at most this many elements per input (a random sample); default 64. */
  maxPerInput?: number;
  /** Largest fraction of checked elements that may be skipped as non-smooth (default 0.1). */
  maxSkipFraction?: number;
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  checked: number;
  skipped: number;
  /** Largest |analytic - numeric| / (atol + rtol * scale) seen (<= 1 passes). */
  worst: number;
  failures: string[];
}

export function gradcheck(f: () => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 2e-3;
  const atol = opts.atol ?? 2e-4;
  const maxPer = opts.maxPerInput ?? 64;
  const rng = new Rng(opts.seed ?? 1234);
  const be = getBackend();

  for (const x of inputs) {
    x.grad = undefined;
    x.sparseGrad = undefined;
  }
  const out = f();
  const R = new Tensor(new Float32Array(out.size), out.shape);
  rng.fillUniform(R.data, -1, 1);
  backward(sum(mul(out, R)));
  const analytic = inputs.map((x) => x.denseGrad() ?? new Float32Array(x.size));

  const lossAt = (): number => noGrad(() => {
    const o = f();
    return be.dot(o.size, o.data, R.data);
  });

  const failures: string[] = [];
  let checked = 0;
  let skipped = 0;
  let worst = 0;
  inputs.forEach((x, k) => {
    const idxs = sampleIndices(x.size, maxPer, rng);
    for (const i of idxs) {
      const orig = x.data[i]!;
      const at = (d: number): number => {
        x.data[i] = orig + d;
        const v = lossAt();
        x.data[i] = orig;
        return v;
      };
      // Steps as actually representable in float32, so the divisor matches the perturbation.
      const h1 = Math.fround(orig + eps) - orig;
      const h2 = Math.fround(orig + eps / 2) - orig;
      const d1 = (at(h1) - at(-h1)) / (2 * h1);
      const d2 = (at(h2) - at(-h2)) / (2 * h2);
      checked++;
      const a = analytic[k]![i]!;
      if (Math.abs(d1 - d2) > atol + rtol * Math.max(Math.abs(d1), Math.abs(d2))) {
        skipped++;
        continue;
      }
      const n = (4 * d2 - d1) / 3;
      const err = Math.abs(a - n) / (atol + rtol * Math.max(Math.abs(a), Math.abs(n)));
      worst = Math.max(worst, err);
      if (err > 1 && failures.length < 10) {
        failures.push(`input ${k} ${fmt(x.shape)} element ${i}: analytic ${a.toPrecision(6)} vs numeric ${n.toPrecision(6)}`);
      }
    }
  });
  const maxSkip = opts.maxSkipFraction ?? 0.1;
  if (skipped > maxSkip * checked) failures.push(`${skipped} of ${checked} points were not smooth enough to check`);
  return { ok: failures.length === 0 && worst <= 1, checked, skipped, worst, failures };
}

function sampleIndices(n: number, max: number, rng: Rng): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  rng.shuffle(all);
  return Array.from(all.subarray(0, max));
}
