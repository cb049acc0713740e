/**
 * The teacher side of distillation: anything that turns texts into class logits. A fine-tuned
 * slimtext bundle (models/taskModel.ts, a BERT sequence classifier) or a DAN bundle loads as one;
 * tests and the demo can pass any object with this shape.
 */
import { InputError } from '../../errors.js';
import { modelIdentity, readBundle, type BundleManifest } from '../../io/bundle.js';
import { loadTaskModel, type ClassifierTaskModel } from '../../models/taskModel.js';
import { loadAnyModel } from '../../models/anyModel.js';
import { MULTITASK_TASK } from '../../models/multiTask.js';
import { classifierLogits, plainEncode } from '../../models/inference.js';
import { tokenizeAll } from '../../models/textBatch.js';
import { loadDan } from '../../models/dan.js';
import type { Quantize } from '../../models/bert/fastForward.js';

export interface Teacher {
  readonly labels: readonly string[];
  /** Logits of each text, (texts.length x labels.length) row-major. */
  logits(texts: readonly string[]): Float32Array;
  /**
   * What the teacher is (recorded in logits files): folder, architecture, size, and `identity`
   * (io/bundle.ts modelIdentity) for teachers loaded from a model folder.
   */
  readonly info: Record<string, unknown>;
}

/** Evaluation batch size for transformer teachers (rows are length-sorted inside a call). */
export const TEACHER_BATCH = 64;

/** Loads a teacher from a slimtext model folder (a fine-tuned classifier, a DAN, or one task of a multi-task model). */
export async function loadTeacher(dir: string, opts: { task?: string; quantize?: Quantize } = {}): Promise<Teacher> {
  const quantize = opts.quantize ?? 'none';
  const task = opts.task;
  const { manifest } = await readBundle(dir);
  if (manifest.task === MULTITASK_TASK || task !== undefined) {
    const tm = await loadAnyModel(dir, { task });
    if (tm.task !== 'classify' || 'kind' in tm) throw new InputError(dir, undefined, 'task', 'a teacher must be a single-text classifier');
    return transformerTeacher(dir, tm, manifest, { task, quantize });
  }
  if (manifest.task !== 'classify') throw new InputError(dir, undefined, 'task', `a teacher must be a single-text classifier, this model's task is '${manifest.task}'`);
  if (manifest.architecture.kind === 'dan') {
    if (quantize !== 'none') throw new InputError(dir, undefined, 'architecture', `--quantize ${quantize} applies to BERT teachers; this is a DAN`);
    const dan = await loadDan(dir);
    return { labels: dan.labels, logits: (texts) => dan.predict(texts).slice(), info: { dir, architecture: 'dan', parameters: dan.parameterCount(), identity: modelIdentity(manifest) } };
  }
  const { model: tm } = await loadTaskModel(dir);
  if (tm.task !== 'classify') throw new InputError(dir, undefined, 'task', `a teacher must be a single-text classifier, this model's task is '${tm.task}'`);
  return transformerTeacher(dir, tm, manifest, { quantize });
}

function transformerTeacher(dir: string, tm: ClassifierTaskModel, manifest: BundleManifest, extra: { task?: string; quantize: Quantize }): Teacher {
  const quantize = extra.quantize;
  const padId = tm.tokenizer.padId >= 0 ? tm.tokenizer.padId : 0;
  const encode = plainEncode(padId, { quantize });
  return {
    labels: tm.labels,
    logits(texts) {
      const set = tokenizeAll(tm.tokenizer, texts, undefined, tm.maxLength);
      return classifierLogits(tm.model, set, TEACHER_BATCH, encode);
    },
    info: {
      dir,
      ...(extra.task !== undefined ? { task: extra.task } : {}),
      architecture: String(manifest.architecture.kind ?? 'unknown'),
      parameters: tm.model.parameterCount(),
      max_length: tm.maxLength,
      identity: modelIdentity(manifest),
      ...(quantize !== 'none' ? { quantize } : {}),
      ...(manifest.metrics && Object.keys(manifest.metrics).length ? { metrics: manifest.metrics } : {}),
    },
  };
}
