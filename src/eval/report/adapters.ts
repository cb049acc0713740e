/**
 * The one thing a report needs from a model: labels, batched logits, and one-text logits for the
 * latency measurement. One adapter per architecture kind of the manifest, in ADAPTERS; a new model
 * kind plugs in by adding an entry there, and the rest of the report is unchanged. A compressed DAN
 * is a 'dan' (its table kind is read by loadDan); a multi-task model is scored on the task whose
 * labels fit the evaluation set.
 */
import { InputError } from '../../errors.js';
import type { BundleManifest } from '../../io/bundle.js';
import { loadDan } from '../../models/dan.js';
import { MULTITASK_KIND, MULTITASK_TASK, isBranchTensor, loadMultiTask } from '../../models/multiTask.js';
import { classifierLogits, plainEncode } from '../../models/inference.js';
import { loadTaskModel } from '../../models/taskModel.js';
import { tokenizeAll } from '../../models/textBatch.js';

export interface ReportModel {
  /** Colour group in the charts ('transformer', 'dan', ...). */
  kind: string;
  labels: readonly string[];
  parameters: number;
  /** Logits of each text, (n x C) row-major, in a new array. */
  logits(texts: readonly string[]): Float32Array;
  /** A multi-task model: the task scored (the one whose labels fit the evaluation set). */
  task?: string;
  /** One request: the model's serving path for a single text (result may be a reused view). */
  logitsOne(text: string): Float32Array;
}

/** Evaluation context an adapter may use to choose among several heads (multi-task models). */
export interface AdapterContext {
  /** Labels of the evaluation set. */
  evalLabels: readonly string[];
}

export type Adapter = (dir: string, manifest: BundleManifest, ctx: AdapterContext) => Promise<ReportModel>;

const BATCH = 64;

/** Architecture kind (manifest `architecture.kind`) -> adapter. */
export const ADAPTERS: Record<string, Adapter> = {
  'sequence-classifier': async (dir) => {
    const { model: tm } = await loadTaskModel(dir);
    if (tm.task !== 'classify') throw notSingleText(dir, tm.task);
    const encode = plainEncode(tm.tokenizer.padId >= 0 ? tm.tokenizer.padId : 0);
    const logits = (texts: readonly string[]) => classifierLogits(tm.model, tokenizeAll(tm.tokenizer, texts, undefined, tm.maxLength), BATCH, encode);
    return { kind: 'transformer', labels: tm.labels, parameters: tm.model.parameterCount(), logits, logitsOne: (t) => logits([t]) };
  },
  dan: async (dir) => {
    const dan = await loadDan(dir);
    const one = dan.predictor();
    return { kind: 'dan', labels: dan.labels, parameters: dan.parameterCount(), logits: (texts) => dan.predict(texts), logitsOne: (t) => one.logitsOne(t) };
  },
  // A multi-task model is scored on the task whose labels cover the evaluation set's (the first
  // such task): one report, one evaluation set, one head; its size is the whole folder (every task).
  [MULTITASK_KIND]: async (dir, _m, ctx) => {
    const mt = await loadMultiTask(dir);
    const fits = mt.branches.find((b) => ctx.evalLabels.every((l) => b.spec.labels.includes(l)));
    if (!fits) {
      throw new InputError(dir, undefined, 'task', `no task of this multi-task model has every label of the evaluation set (${ctx.evalLabels.join(', ')}); tasks: ${mt.branches.map((b) => `${b.spec.name} (${b.spec.labels.join(', ')})`).join('; ')}`);
    }
    const encode = plainEncode(mt.tokenizer.padId >= 0 ? mt.tokenizer.padId : 0);
    const logits = (texts: readonly string[]) => classifierLogits(fits.model, tokenizeAll(mt.tokenizer, texts, undefined, mt.maxLength), BATCH, encode);
    const parameters = mt.trunk.parameterCount() + mt.branches.reduce((n, b) => n + ownParameters(b.model, b.spec.start_layer), 0);
    return { kind: 'multi-task', labels: fits.spec.labels, parameters, task: fits.spec.name, logits, logitsOne: (t) => logits([t]) };
  },
};

/** Parameters of a branch that are not the trunk's (its layers above start, pooler, head). */
function ownParameters(model: { namedParameters(): [string, { data: { length: number } }][] }, start: number): number {
  return model.namedParameters().filter(([n]) => isBranchTensor(n, start)).reduce((k, [, p]) => k + p.data.length, 0);
}

/** The adapter for a manifest, or a clear error naming the kinds a report reads. */
export function adapterFor(dir: string, manifest: BundleManifest): Adapter {
  const kind = String(manifest.architecture.kind ?? '');
  if (manifest.task !== 'classify' && !(manifest.task === MULTITASK_TASK && kind === MULTITASK_KIND)) throw notSingleText(dir, manifest.task);
  const a = ADAPTERS[kind];
  if (!a) throw new InputError(`${dir}/slimtext.json`, undefined, 'architecture.kind', `'${kind}' is not a model kind a report can score (known: ${Object.keys(ADAPTERS).join(', ')})`);
  return a;
}

function notSingleText(dir: string, task: string): InputError {
  return new InputError(`${dir}/slimtext.json`, undefined, 'task', `a report compares single-text classifiers; this model's task is '${task}'`);
}
