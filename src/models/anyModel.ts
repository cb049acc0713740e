/**
 * One model interface for every kind of saved model, so `eval` and `predict` work the same on a
 * fine-tuned transformer (classify, pair, reply) and on a distilled n-gram DAN student.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
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
  const file = join(dir, MANIFEST_FILE);
  let kind: unknown;
  try {
    kind = (JSON.parse(await readFile(file, 'utf8')) as { architecture?: { kind?: unknown } }).architecture?.kind;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(file, undefined, undefined, err.code === 'ENOENT' ? 'not found: is this a model folder written by slimtext?' : `unreadable: ${err.message}`);
  }
  if (kind === 'dan') {
    const dan = await loadDan(dir);
    return { task: 'classify', kind: 'dan', dan, labels: dan.labels };
  }
  return (await loadTaskModel(dir)).model;
}
