/**
 * `--method int8-linear`: the encoder's linear layers of a transformer classifier stored as int8
 * (the `--quantize int8` scheme, models/bert/int8.ts), combinable with one table method
 * (`--method pq,int8-linear`). It runs last, after any retraining, on the weights being saved: the
 * int8 path quantises activations at run time, so training never sees it (post-training
 * quantisation, as --quantize int8 is).
 */
import { InputError } from '../../errors.js';
import { isDan, type AnyTaskModel } from '../../models/anyModel.js';
import { hasInt8, quantizeEncoder } from '../../models/bert/int8.js';
import type { Method } from './methods.js';

export const INT8_LINEAR = 'int8-linear';

/** Refuses int8-linear where it cannot apply, and training around an encoder that is already int8. */
export function checkInt8Linear(tm: AnyTaskModel, dir: string, methods: readonly Method[], mode: string, source: Record<string, unknown>): void {
  const wanted = methods.includes(INT8_LINEAR);
  if (isDan(tm)) {
    if (wanted) throw new InputError('--method', undefined, undefined, `int8-linear stores a transformer encoder's linear layers as int8; ${dir} is a DAN student, which has none (its n-gram table takes int8)`);
    return;
  }
  if (tm.task === 'reply' || !hasInt8(tm.model.bert)) return;
  const from = (source.compression as { source?: unknown } | undefined)?.source;
  const fp32 = typeof from === 'string' ? ` (its fp32 source: ${from})` : '';
  if (wanted) throw new InputError('--method', undefined, undefined, `${dir}'s encoder linear layers are already int8 (int8-linear): compress the fp32 model${fp32} instead`);
  if (mode !== 'posthoc') throw new InputError('--mode', undefined, undefined, `${mode} trains the model, but ${dir}'s encoder is stored as int8 (int8-linear): train from the fp32 model${fp32}`);
}

/** Quantises the encoder of a transformer classifier in place; returns the number of layers made int8. */
export function applyInt8Linear(tm: AnyTaskModel): number {
  if (isDan(tm) || tm.task === 'reply') throw new InputError('--method', undefined, undefined, 'int8-linear applies to transformer classifiers');
  return quantizeEncoder(tm.model.bert);
}
