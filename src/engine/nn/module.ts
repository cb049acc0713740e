/**
 * Parameters and the Module base (micrograd style: Module -> Linear -> MLP). A module's parameters
 * and sub-modules are found from its own fields, so the field names make the parameter names
 * (`attention.self.query.weight`, `layer.0.output.dense.bias`), which is how checkpoints are
 * mapped and how AdamW excludes biases and LayerNorm weights from weight decay.
 */
import { Tensor } from '../tensor.js';
import { Rng } from '../random.js';
import { OpError } from '../../errors.js';
import { fmt, type Shape } from '../shapes.js';
import { isSharedWeight } from '../sharedWeights.js';

/** A trainable tensor with a (local) name; `frozen` parameters get no gradient and no backward work. */
export class Parameter extends Tensor {
  /** Local name ('weight', 'bias'); the full dotted name comes from Module.namedParameters(). */
  readonly name: string;

  constructor(data: Float32Array, shape: Shape, name: string) {
    super(data, shape, true);
    this.name = name;
  }

  get frozen(): boolean {
    return !this.requiresGrad;
  }

  /**
   * Loads `src` into this parameter: a copy, or inside a weight-sharing scope, when `src` is a
   * shared weight (engine/sharedWeights.ts), `src` itself becomes the storage (read-only: the
   * server's workers use one copy of a model's weights between them).
   */
  load(src: Float32Array): void {
    if (src.length !== this.data.length) throw new OpError('Parameter.load', `${this.name}: ${src.length} values for ${fmt(this.shape)}`);
    if (isSharedWeight(src)) (this as { data: Float32Array }).data = src;
    else this.data.set(src);
  }

  set frozen(f: boolean) {
    this.requiresGrad = !f;
    if (f) {
      this.grad = undefined;
      this.sparseGrad = undefined;
    }
  }
}

export abstract class Module {
  /** Training mode switches dropout on; eval() switches it off. */
  training = true;

  /** Every parameter under this module with its dotted name, each parameter once. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    const walk = (m: Module, pre: string) => {
      for (const [key, v] of entriesOf(m)) {
        if (v instanceof Parameter) {
          if (!seen.has(v)) {
            seen.add(v);
            out.push([pre + key, v]);
          }
        } else if (v instanceof Module) {
          walk(v, `${pre}${key}.`);
        }
      }
    };
    walk(this, prefix ? `${prefix}.` : '');
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Direct sub-modules with their names. */
  children(): [string, Module][] {
    return entriesOf(this).filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  train(on = true): this {
    this.training = on;
    for (const [, c] of this.children()) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Freezes (or unfreezes) every parameter under this module. */
  freeze(frozen = true): this {
    for (const p of this.parameters()) p.frozen = frozen;
    return this;
  }

  /**
   * Replaces every random generator held by this module and its sub-modules (dropout seeds) with
   * one derived from `seed` and the generator's path, so the next forward passes draw the same
   * masks again (gradient checks, resuming a run).
   */
  reseed(seed: number): this {
    const walk = (m: Module, path: string) => {
      for (const [key, v] of Object.entries(m)) {
        if (v instanceof Rng) (m as unknown as Record<string, unknown>)[key] = Rng.derive(seed, path + key);
      }
      for (const [name, c] of m.children()) walk(c, `${path}${name}.`);
    };
    walk(this, '');
    return this;
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Number of parameter values (all, or only trainable ones). */
  parameterCount(trainableOnly = false): number {
    return this.parameters().reduce((n, p) => n + (trainableOnly && p.frozen ? 0 : p.size), 0);
  }

  /**
   * Copies values into parameters by full name (e.g. from a checkpoint). Every parameter must be
   * found unless `allowMissing`; returns the names that were not found.
   */
  loadParameters(get: (name: string) => Float32Array | undefined, opts: { allowMissing?: boolean } = {}): string[] {
    const missing: string[] = [];
    for (const [name, p] of this.namedParameters()) {
      const v = get(name);
      if (!v) {
        missing.push(name);
        continue;
      }
      if (v.length !== p.size) throw new OpError('loadParameters', `${name}: ${v.length} values given, parameter ${fmt(p.shape)} holds ${p.size}`);
      p.data.set(v);
    }
    if (missing.length && !opts.allowMissing) throw new OpError('loadParameters', `missing parameters: ${missing.join(', ')}`);
    return missing;
  }
}

// Own fields holding a Parameter or a Module, with arrays of them named by index.
function entriesOf(m: Module): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [key, v] of Object.entries(m)) {
    if (Array.isArray(v)) v.forEach((x, i) => out.push([`${key}.${i}`, x]));
    else out.push([key, v]);
  }
  return out;
}
