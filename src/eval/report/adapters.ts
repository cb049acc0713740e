/**
 * The one thing a report needs from a model: labels, batched logits, and one-text logits for the
 * latency measurement. One adapter per architecture kind of the manifest, in ADAPTERS; a new model
 * kind (a compressed DAN, a one-file bundle, a multi-task model choosing the head whose labels fit
 * the evaluation set) plugs in by adding an entry there, and the rest of the report is unchanged.
 */
import { InputError } from '../../errors.js';
import type { BundleManifest } from '../../io/bundle.js';
import { loadDan } from '../../models/dan.js';
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
};

/** The adapter for a manifest, or a clear error naming the kinds a report reads. */
export function adapterFor(dir: string, manifest: BundleManifest): Adapter {
  const kind = String(manifest.architecture.kind ?? '');
  if (manifest.task !== 'classify') throw notSingleText(dir, manifest.task);
  const a = ADAPTERS[kind];
  if (!a) throw new InputError(`${dir}/slimtext.json`, undefined, 'architecture.kind', `'${kind}' is not a model kind a report can score (known: ${Object.keys(ADAPTERS).join(', ')})`);
  return a;
}

function notSingleText(dir: string, task: string): InputError {
  return new InputError(`${dir}/slimtext.json`, undefined, 'task', `a report compares single-text classifiers; this model's task is '${task}'`);
}
