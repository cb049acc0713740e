/**
 * One model interface for every kind of saved model, so `eval` and `predict` work the same on a
 * fine-tuned transformer (classify, pair, reply) and on a distilled n-gram DAN student.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../io/bundle.js';
import { loadDan, type Dan } from './dan.js';
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

/** Loads any slimtext model folder, dispatching on the manifest's architecture kind. */
export async function loadAnyModel(dir: string): Promise<AnyTaskModel> {
  if ((await manifestKind(dir)) === 'dan') {
    const dan = await loadDan(dir);
    return { task: 'classify', kind: 'dan', dan, labels: dan.labels };
  }
  return (await loadTaskModel(dir)).model;
}

/** The manifest's architecture kind, or undefined when it cannot be read (the bundle reader then says why). */
async function manifestKind(dir: string): Promise<unknown> {
  try {
    return (JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as { architecture?: { kind?: unknown } }).architecture?.kind;
  } catch {
    return undefined;
  }
}
