/**
 * What the server sees of a model: its tasks (name, kind, labels) and one call that answers chosen
 * tasks for a batch of inputs. This is the only file of src/serve/ that knows model kinds, and it
 * reaches them only through the one model interface (loadAnyModel + Predictor), so the HTTP layer,
 * the batcher and the workers never change when a kind is added: a model that answers several
 * tasks (multi-task) lists them in `tasks`, and `predict` answers each task asked for.
 *
 * A single-task model has one task named after its kind of work ('classify', 'pair', 'reply').
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../io/bundle.js';
import { loadModelOrMultiTask, type AnyTaskModel } from '../models/anyModel.js';
import type { MultiTaskModel } from '../models/multiTask.js';
import { MultiTaskPredictor, Predictor, type Ranked } from '../models/predictor.js';

export type TaskKind = 'classify' | 'pair' | 'reply';

export interface TaskInfo {
  name: string;
  kind: TaskKind;
  /** Class labels in id order (classify, pair). */
  labels?: readonly string[];
  /** Size of the reply set a reply task ranks. */
  replies?: number;
  /** Results per input when a request gives no top_k. */
  defaultTopK: number;
  /** The most a request may ask for (min of the server's limit and the labels or replies there are). */
  maxTopK: number;
}

export interface ModelInfo {
  /** The manifest's architecture kind ('sequence-classifier', 'dan', 'bi-encoder', ...). */
  kind: string;
  tasks: TaskInfo[];
  /** Bytes of the model folder's files (manifest included). */
  bytes: number;
  /** When the model was saved (manifest), and its weights file (content-named, so it tells versions apart). */
  created?: string;
  weights?: string;
}

/** A text, or [text, pair] for pair tasks. */
export type Input = string | readonly [string, string];

export interface Scored {
  label: string;
  score: number;
}
export interface LabelResult {
  label: string;
  score: number;
  top: Scored[];
}
export interface ReplyResult {
  replies: { text: string; score: number }[];
}
export type TaskResult = LabelResult | ReplyResult;

export interface ServedModel {
  info: ModelInfo;
  /** For each input, a result for each task named (each with its task's maxTopK entries, best first). */
  predict(inputs: readonly Input[], tasks: readonly string[]): Record<string, TaskResult>[];
}

export interface ServedModelOptions {
  /** Upper bound on top_k (default 10): what a worker computes and sends back per task. */
  maxTopK?: number;
}

export async function loadServedModel(dir: string, opts: ServedModelOptions = {}): Promise<ServedModel> {
  const limit = opts.maxTopK ?? 10;
  const loaded = await loadModelOrMultiTask(dir);
  const answers = 'multi' in loaded ? multiTask(loaded.multi, limit) : singleTask(loaded.single, limit);
  const manifest = await readManifest(dir);
  return {
    info: { kind: manifest.kind, tasks: answers.tasks, bytes: manifest.bytes, created: manifest.created, weights: manifest.weights },
    predict: answers.predict,
  };
}

/** A single-task model (transformer classify / pair / reply, DAN): one task named after its kind of work. */
function singleTask(tm: AnyTaskModel, limit: number): Pick<ModelInfo, 'tasks'> & Pick<ServedModel, 'predict'> {
  const choices = tm.task === 'reply' ? tm.responses.length : tm.labels.length;
  const maxTopK = Math.max(1, Math.min(limit, choices));
  const defaultTopK = Math.min(new Predictor(tm).topK, maxTopK);
  const predictor = new Predictor(tm, { topK: maxTopK });
  const task: TaskInfo =
    tm.task === 'reply'
      ? { name: tm.task, kind: tm.task, replies: choices, defaultTopK, maxTopK }
      : { name: tm.task, kind: tm.task, labels: tm.labels, defaultTopK, maxTopK };
  return {
    tasks: [task],
    predict(inputs, tasks) {
      if (tasks.length !== 1 || tasks[0] !== task.name) throw new Error(`model answers task '${task.name}', asked for ${tasks.join(', ')}`);
      const ranked = predictor.predict(task.kind === 'pair' ? inputs.map(asPair) : inputs.map(textOf));
      return ranked.map((r) => ({ [task.name]: task.kind === 'reply' ? replyResult(r) : labelResult(r) }));
    },
  };
}

/** A multi-task model (slimtext merge): one task per branch, every task asked for in one trunk pass. */
function multiTask(mt: MultiTaskModel, limit: number): Pick<ModelInfo, 'tasks'> & Pick<ServedModel, 'predict'> {
  const tasks: TaskInfo[] = mt.select().map((b) => {
    const maxTopK = Math.max(1, Math.min(limit, b.spec.labels.length));
    return { name: b.spec.name, kind: 'classify', labels: b.spec.labels, defaultTopK: 1, maxTopK };
  });
  const maxTopK = Math.max(...tasks.map((t) => t.maxTopK));
  return {
    tasks,
    predict(inputs, asked) {
      const ranked = new MultiTaskPredictor(mt, asked, { topK: maxTopK }).predict(inputs.map(textOf));
      return ranked.map((byTask) => Object.fromEntries(Object.entries(byTask).map(([t, r]) => [t, labelResult(r)])));
    },
  };
}

function textOf(x: Input): string {
  return typeof x === 'string' ? x : x[0];
}

function asPair(x: Input): readonly [string, string] {
  return typeof x === 'string' ? [x, ''] : x;
}

function labelResult(r: Ranked[]): LabelResult {
  const top = r.map((x) => ({ label: x.text, score: x.score }));
  return { label: top[0]!.label, score: top[0]!.score, top };
}

function replyResult(r: Ranked[]): ReplyResult {
  return { replies: r.map((x) => ({ text: x.text, score: x.score })) };
}

/** The manifest facts /v1/models shows. The loader above has already checked the folder. */
async function readManifest(dir: string): Promise<{ kind: string; bytes: number; created?: string; weights?: string }> {
  const text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  const m = JSON.parse(text) as { architecture?: { kind?: unknown }; files?: Record<string, { bytes?: number }>; created?: string; weights?: string };
  const bytes = Object.values(m.files ?? {}).reduce((n, f) => n + (f.bytes ?? 0), Buffer.byteLength(text));
  return { kind: String(m.architecture?.kind ?? 'unknown'), bytes, created: m.created, weights: m.weights };
}

/**
 * Answers one made-up input per task, so that what a model prepares on first use (the transformer's
 * packed inference weights) is made now: inside the worker's load (and its weight-sharing scope),
 * not in the first request.
 */
export function warmUp(model: ServedModel): void {
  for (const t of model.info.tasks) model.predict([t.kind === 'pair' ? ['warm up', 'warm up'] : 'warm up'], [t.name]);
}

/** Cuts a task result to k entries (the worker computed maxTopK). */
export function topK(r: TaskResult, k: number): TaskResult {
  if ('replies' in r) return r.replies.length <= k ? r : { replies: r.replies.slice(0, k) };
  return r.top.length <= k ? r : { label: r.label, score: r.score, top: r.top.slice(0, k) };
}
