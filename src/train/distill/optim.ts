/**
 * Adam for the DAN student with its state outside the optimiser object: the moments of every
 * parameter and a step clock live in buffers that can be SharedArrayBuffers, so several Hogwild
 * worker threads step one shared set of parameters and moments. The update is the engine's AdamW
 * (backend.adam for dense gradients, backend.adamRows, lazy Adam, for the table's sparse ones);
 * what differs from engine/optim/adamw.ts is only where the state lives and that the step count
 * (bias correction, learning-rate schedule) is one clock shared by all threads.
 */
import { Optimizer, getBackend, type Tensor } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import type { DanModel, ParamStorage } from '../../models/dan.js';

/** Parameter storage in SharedArrayBuffers (for a model that Hogwild workers train together). */
export function sharedParamStorage(): ParamStorage {
  return (_, size) => new Float32Array(new SharedArrayBuffer(size * 4));
}

/** What a worker needs to attach to the same moments and clock (posted as is: shared memory is shared). */
export interface AdamStateMessage {
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
  clock: Int32Array;
}

export class AdamState {
  private constructor(
    readonly m: Map<string, Float32Array>,
    readonly v: Map<string, Float32Array>,
    /** clock[0]: steps taken in this phase, by all threads together. */
    readonly clock: Int32Array,
  ) {}

  /** Zeroed moments for every parameter of `model`; shared requires the parameters to be shared too. */
  static forModel(model: DanModel, shared: boolean): AdamState {
    const alloc = (n: number) => (shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n));
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const [name, p] of model.namedParameters()) {
      if (shared && !(p.data.buffer instanceof SharedArrayBuffer)) {
        throw new OpError('AdamState', `parameter ${name} is not in shared memory: build the model with sharedParamStorage() for workers > 1`);
      }
      m.set(name, alloc(p.size));
      v.set(name, alloc(p.size));
    }
    return new AdamState(m, v, new Int32Array(shared ? new SharedArrayBuffer(4) : new ArrayBuffer(4)));
  }

  static fromMessage(s: AdamStateMessage): AdamState {
    return new AdamState(new Map(Object.entries(s.m)), new Map(Object.entries(s.v)), s.clock);
  }

  toMessage(): AdamStateMessage {
    return { m: Object.fromEntries(this.m), v: Object.fromEntries(this.v), clock: this.clock };
  }

  /**
   * Fresh moments and clock (a new phase starts its own Adam run, as a new optimiser would). Moments
   * no step has written are still the zeros they were allocated as, and are left untouched: a 1M x
   * 1000 table's moments are 8 GB allocated, of which the OS backs only the pages of rows that
   * steps update (lazy Adam), as long as nothing writes the rest.
   */
  reset(): void {
    if (Atomics.load(this.clock, 0) === 0) return;
    const be = getBackend();
    for (const x of [...this.m.values(), ...this.v.values()]) be.fill(x.length, 0, x);
    Atomics.store(this.clock, 0, 0);
  }
}

export interface PhaseSchedule {
  /** Learning rate at step 0, decaying linearly to 0 at step `total`. */
  peak: number;
  total: number;
}

export class SharedAdamW extends Optimizer {
  private readonly b1 = 0.9;
  private readonly b2 = 0.999;
  private readonly eps = 1e-8;
  private t = 0;

  constructor(model: DanModel, private readonly state: AdamState, private readonly phase: PhaseSchedule, private readonly weightDecay: number) {
    super(model, phase.peak, {});
  }

  override step(): void {
    this.t = Atomics.add(this.state.clock, 0, 1) + 1;
    this.lr = this.phase.peak * Math.max(0, 1 - (this.t - 1) / this.phase.total);
    super.step();
  }

  protected updateDense(np: { name: string; p: Tensor }, g: Float32Array): void {
    const { m, v } = this.moments(np.name);
    getBackend().adam(np.p.size, np.p.data, g, m, v, this.lr, this.b1, this.b2, this.eps, this.decayOf(np.name), this.t);
  }

  protected updateRows(np: { name: string; p: Tensor }, ids: Int32Array, rows: Float32Array): void {
    const { m, v } = this.moments(np.name);
    const dim = np.p.shape[np.p.ndim - 1]!;
    getBackend().adamRows(ids.length, dim, ids, rows, np.p.data, m, v, this.lr, this.b1, this.b2, this.eps, this.decayOf(np.name), this.t);
  }

  // The table and the biases get no weight decay (BERT/fastText practice).
  private decayOf(name: string): number {
    return name.startsWith('embeddings.') || name.endsWith('.bias') ? 0 : this.weightDecay;
  }

  private moments(name: string): { m: Float32Array; v: Float32Array } {
    const m = this.state.m.get(name);
    const v = this.state.v.get(name);
    if (!m || !v) throw new OpError('SharedAdamW', `no optimiser state for parameter ${name}`);
    return { m, v };
  }
}
