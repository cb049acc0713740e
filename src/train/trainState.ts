/**
 * The resumable state of a run, saved atomically as a slimtext bundle of task 'training-state' (the
 * bundle's commit-point write and verified read are exactly what a checkpoint needs): every
 * parameter (`param/NAME`), AdamW's moments (`adam.m/NAME`, `adam.v/NAME`), and `trainer.json`
 * with the position (epoch, next batch, step), each parameter's Adam step count, the best epoch so
 * far and the per-epoch history. Dropout seeds and data order are functions of (seed, step) and
 * (seed, epoch), so they need no saving.
 */
import { rm } from 'node:fs/promises';
import { SlimtextError } from '../errors.js';
import { isBundle, readBundle, writeBundle } from '../io/bundle.js';
import type { TensorToWrite } from '../io/safetensors.js';
import type { AdamParamState } from './adamState.js';

export const STATE_TASK = 'training-state';
const STATE_FILE = 'trainer.json';

export interface EpochRecord {
  epoch: number;
  steps: number;
  train_loss: number;
  train_seconds: number;
  eval_seconds: number;
  examples_per_s: number;
  dev: Record<string, number>;
}

export interface Position {
  /** The epoch in progress (0-based). */
  epoch: number;
  /** The next batch of that epoch. */
  batch: number;
  /** Optimiser steps taken so far. */
  step: number;
  /** Sum and count of batch losses in the epoch in progress (for its mean). */
  lossSum: number;
  lossCount: number;
  /** Training seconds spent in the epoch in progress before the checkpoint. */
  epochSeconds: number;
}

export interface SavedState {
  /** The recipe that made the state; a resume must use the same one. */
  recipe: Record<string, unknown>;
  position: Position;
  best: { epoch: number; metrics: Record<string, number> } | null;
  history: EpochRecord[];
  params: Map<string, Float32Array>;
  adam: Map<string, AdamParamState>;
}

export async function saveState(dir: string, s: SavedState): Promise<void> {
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, data] of s.params) tensors.set(`param/${name}`, { shape: [data.length], data });
  const steps: Record<string, number> = {};
  for (const [name, a] of s.adam) {
    tensors.set(`adam.m/${name}`, { shape: [a.m.length], data: a.m });
    tensors.set(`adam.v/${name}`, { shape: [a.v.length], data: a.v });
    steps[name] = a.t;
  }
  await writeBundle(dir, {
    task: STATE_TASK,
    architecture: {},
    tensors,
    tokenizerFiles: [],
    data: { [STATE_FILE]: { recipe: s.recipe, position: s.position, best: s.best, history: s.history, adam_steps: steps } },
  });
}

export function hasState(dir: string): boolean {
  return isBundle(dir);
}

export async function loadState(dir: string): Promise<SavedState> {
  const b = await readBundle(dir);
  if (b.manifest.task !== STATE_TASK) throw new SlimtextError(`${dir} is not a training checkpoint (task '${b.manifest.task}')`);
  const j = b.data(STATE_FILE) as Omit<SavedState, 'params' | 'adam'> & { adam_steps: Record<string, number> };
  const params = new Map<string, Float32Array>();
  const adam = new Map<string, AdamParamState>();
  for (const [key, t] of b.tensors) {
    const slash = key.indexOf('/');
    const kind = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const data = t.data as Float32Array;
    if (kind === 'param') params.set(name, data);
    else if (kind === 'adam.m' || kind === 'adam.v') {
      const e = adam.get(name) ?? { m: new Float32Array(0), v: new Float32Array(0), t: j.adam_steps[name] ?? 0 };
      if (kind === 'adam.m') e.m = data;
      else e.v = data;
      adam.set(name, e);
    }
  }
  return { recipe: j.recipe, position: j.position, best: j.best, history: j.history, params, adam };
}

export async function removeState(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
