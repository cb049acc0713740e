/**
 * One model interface for every kind of saved model, so `eval` and `predict` work the same on a
 * fine-tuned transformer (classify, pair, reply) and on a distilled n-gram DAN student.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { MANIFEST_FILE } from '../io/bundle.js';
import { loadDan, type Dan } from './dan.js';
import { loadMultiTask, MULTITASK_KIND, type MultiTaskModel } from './multiTask.js';
import { loadTaskModel, type TaskModel } from './taskModel.js';

/** A distilled DAN student: raw text to logits through n-gram features, no tokenizer. */
export interface DanTaskModel {
  task: 'classify';
  kind: 'dan';
  dan: Dan;
  labels: readonly string[];
}

export type AnyTaskModel = TaskModel | DanTaskModel;

export function isDan(tm: AnyTaskModel): tm is DanTaskModel {
  return 'kind' in tm && tm.kind === 'dan';
}

export interface LoadModelOptions {
  /** For a multi-task model: the task to load (its standalone view). */
  task?: string;
}

/**
 * Loads any slimtext model folder, dispatching on the manifest's architecture kind. A multi-task
 * model loads as the one task `opts.task` names; without one it is an error listing its tasks.
 */
export async function loadAnyModel(dir: string, opts: LoadModelOptions = {}): Promise<AnyTaskModel> {
  const kind = await manifestKind(dir);
  if (kind === MULTITASK_KIND) {
    const mt = await loadMultiTask(dir);
    if (opts.task === undefined) throw new InputError(dir, undefined, 'task', `a multi-task model (tasks: ${mt.taskNames.join(', ')}): choose one with --task NAME`);
    return mt.view(opts.task);
  }
  if (opts.task !== undefined) throw new InputError(dir, undefined, 'task', `--task ${opts.task} is for multi-task models; this is a single-task model`);
  if (kind === 'dan') {
    const dan = await loadDan(dir);
    return { task: 'classify', kind: 'dan', dan, labels: dan.labels };
  }
  return (await loadTaskModel(dir)).model;
}

/** A single-task model, or a multi-task one as a whole (what `predict` answers every task of). */
export async function loadModelOrMultiTask(dir: string): Promise<{ single: AnyTaskModel } | { multi: MultiTaskModel }> {
  if ((await manifestKind(dir)) === MULTITASK_KIND) return { multi: await loadMultiTask(dir) };
  return { single: await loadAnyModel(dir) };
}

/** The manifest's architecture kind, or undefined when it cannot be read (the bundle reader then says why). */
async function manifestKind(dir: string): Promise<unknown> {
  try {
    return (JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as { architecture?: { kind?: unknown } }).architecture?.kind;
  } catch {
    return undefined;
  }
}
