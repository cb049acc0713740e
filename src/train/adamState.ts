/**
 * AdamW's moments and step counts, out of and back into an optimiser, for exact resumption.
 *
 * The engine's AdamW keeps its per-parameter state private and has no state-dict API yet, so this
 * module reads and writes that private map (its shape: NamedParam -> {m, v, t, decay}). When the
 * engine grows `stateDict()` / `loadStateDict()`, this file should become two calls to them.
 */
import type { AdamW } from '../engine/index.js';
import { SlimtextError } from '../errors.js';

export interface AdamParamState {
  m: Float32Array;
  v: Float32Array;
  /** Updates applied to this parameter (for bias correction). */
  t: number;
}

interface NamedParamLike {
  readonly name: string;
  readonly p: { size: number };
}

interface AdamInternals {
  state: Map<NamedParamLike, AdamParamState & { decay: number }>;
  params: readonly NamedParamLike[];
}

function internals(opt: AdamW): AdamInternals {
  const o = opt as unknown as Partial<AdamInternals>;
  if (!(o.state instanceof Map) || !Array.isArray(o.params)) {
    throw new SlimtextError('AdamW no longer keeps its state where slimtext/train/adamState.ts expects it; update that module');
  }
  return o as AdamInternals;
}

/** Each parameter's state by full name (parameters never updated have none). */
export function exportAdamState(opt: AdamW): Map<string, AdamParamState> {
  const out = new Map<string, AdamParamState>();
  for (const [np, s] of internals(opt).state) out.set(np.name, { m: s.m, v: s.v, t: s.t });
  return out;
}

/** Restores state exported by exportAdamState into an optimiser over the same parameters. */
export function importAdamState(opt: AdamW, states: Map<string, AdamParamState>): void {
  const int = internals(opt);
  const byName = new Map(int.params.map((np) => [np.name, np]));
  int.state.clear();
  for (const [name, s] of states) {
    const np = byName.get(name);
    if (!np) throw new SlimtextError(`optimiser state for '${name}', which the model does not have`);
    if (s.m.length !== np.p.size || s.v.length !== np.p.size) throw new SlimtextError(`optimiser state for '${name}' has ${s.m.length} values, the parameter ${np.p.size}`);
    int.state.set(np, { m: s.m, v: s.v, t: s.t, decay: opt.decays(name) ? opt.weightDecay : 0 });
  }
}
