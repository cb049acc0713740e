/**
 * Learning-rate schedules as functions of the update index (0 for the first update), matching
 * Hugging Face's get_linear_schedule_with_warmup / get_polynomial_decay_schedule_with_warmup:
 *   step < warmup:          peak * step / warmup
 *   warmup <= step < total: end + (peak - end) * (1 - (step - warmup) / (total - warmup))^power
 *   step >= total:          end
 */
import { OpError } from '../errors.js';

export type Schedule = (step: number) => number;

export interface WarmupDecayOptions {
  /** The learning rate reached at the end of warm-up. */
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final learning rate (default 0). */
  end?: number;
  /** 1 for linear decay (default), else polynomial. */
  power?: number;
}

export function warmupDecay(o: WarmupDecayOptions): Schedule {
  const end = o.end ?? 0;
  const power = o.power ?? 1;
  if (!(o.warmupSteps >= 0 && o.totalSteps >= o.warmupSteps && o.peak >= end && power > 0)) {
    throw new OpError('warmupDecay', `needs 0 <= warmupSteps (${o.warmupSteps}) <= totalSteps (${o.totalSteps}), peak (${o.peak}) >= end (${end}), power (${power}) > 0`);
  }
  return (step) => {
    if (step < o.warmupSteps) return (o.peak * step) / o.warmupSteps;
    if (step >= o.totalSteps) return end;
    const left = 1 - (step - o.warmupSteps) / (o.totalSteps - o.warmupSteps);
    return end + (o.peak - end) * left ** power;
  };
}

/** Linear warm-up to `peak`, then constant. */
export function warmupConstant(peak: number, warmupSteps: number): Schedule {
  return (step) => (step < warmupSteps ? (peak * step) / warmupSteps : peak);
}

export function constant(lr: number): Schedule {
  return () => lr;
}
