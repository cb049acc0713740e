/**
 * slimtext/runtime: run a one-file slimtext bundle (`slimtext export --format bundle`) in any
 * JavaScript runtime (Node, browsers, workers, edge functions). ESM, no dependencies, no Node
 * built-ins: it imports only its own files and, on purpose, two dependency-free pieces of
 * slimtext's text layer (the BERT normaliser and fastText's hash), so its predictions are
 * slimtext's.
 *
 *   const model = await loadBundle(bytes);     // Uint8Array | ArrayBuffer
 *   model.predict('book a table for two')      // [{ label, score }, ...] best first
 *   model.predictBatch(texts)                  // one list per text
 *   model.logits(text)                         // raw logits, label order
 *
 * A multi-task bundle (`slimtext export` of a `slimtext merge` model) loads as a
 * SlimMultiTaskModel (`model.multiTask === true`), whose `predict` answers per task:
 *
 *   model.predict('book a table', { tasks: ['intent'] })   // { intent: [{ label, score }, ...] }
 */
import { BundleError, parseContainer, toBytes, type SlimManifest } from './format.js';
import { DanRuntime, type LogitsModel, type RuntimeOptions } from './dan.js';
import { MultiTaskRuntime, TransformerRuntime } from './transformer.js';

export { BundleError, FORMAT_VERSION, type SlimManifest } from './format.js';
export type { RuntimeOptions } from './dan.js';

export interface Scored {
  label: string;
  score: number;
}

export interface PredictOptions {
  /** Labels to return, best first (default all). */
  topK?: number;
}

export interface MultiTaskPredictOptions extends PredictOptions {
  /** Tasks to answer (default all); the trunk runs once whatever the number. */
  tasks?: readonly string[];
}

/** What loadBundle gives: a single-task model, or a multi-task one (`multiTask` tells which). */
export type LoadedModel = SlimModel | SlimMultiTaskModel;

/** Softmax scores of logits, labels best first: the one ranking both model kinds use. */
class Ranker {
  private readonly bits: Uint32Array;
  private readonly keys: Float64Array;

  constructor(private readonly z: Float32Array, private readonly labels: readonly string[]) {
    this.bits = new Uint32Array(z.buffer, z.byteOffset, z.length);
    this.keys = new Float64Array(z.length);
  }

  /** Labels with softmax scores of the current logits, best first (equal scores: higher logit, then label order). */
  rank(topK: number | undefined): Scored[] {
    const z = this.z;
    const C = z.length;
    let max = -Infinity;
    for (let i = 0; i < C; i++) if (z[i]! > max) max = z[i]!;
    let sum = 0;
    for (let i = 0; i < C; i++) sum += Math.exp(z[i]! - max);
    const k = topK === undefined ? C : Math.max(0, Math.min(C, Math.trunc(topK)));
    const order = k === 1 ? [this.best()] : this.order();
    const out = new Array<Scored>(k);
    for (let r = 0; r < k; r++) {
      const i = order[r]!;
      out[r] = { label: this.labels[i]!, score: Math.exp(z[i]! - max) / sum };
    }
    return out;
  }

  private best(): number {
    const z = this.z;
    let b = 0;
    for (let i = 1; i < z.length; i++) if (z[i]! > z[b]!) b = i;
    return b;
  }

  /**
   * Label indices by logit, highest first, ties by index: one numeric sort (no comparator) of
   * keys packing the logit's order-preserving bits above the index, exact in a double.
   */
  private order(): Float64Array | Int32Array {
    const z = this.z, C = z.length;
    if (C > 65536) return Int32Array.from({ length: C }, (_, i) => i).sort((a, b) => z[b]! - z[a]! || a - b);
    const bits = this.bits, keys = this.keys;
    for (let i = 0; i < C; i++) {
      const u = bits[i]!;
      const up = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
      keys[i] = (0xffffffff - up) * 65536 + i;
    }
    keys.sort();
    for (let i = 0; i < C; i++) keys[i] = keys[i]! % 65536;
    return keys;
  }
}

export class SlimModel {
  readonly multiTask = false;
  readonly labels: readonly string[];
  readonly kind: string;
  private readonly out: Float32Array;
  private readonly ranker: Ranker;

  constructor(readonly manifest: SlimManifest, private readonly net: LogitsModel) {
    this.labels = manifest.labels;
    this.kind = manifest.kind;
    this.out = new Float32Array(net.numLabels);
    this.ranker = new Ranker(this.out, this.labels);
  }

  /** Logits of one text, in label order (a new array). */
  logits(text: string): Float32Array {
    this.net.logitsInto(checkText(text), this.out);
    return this.out.slice();
  }

  /** Labels with softmax scores, best first (equal scores: higher logit, then label order). */
  predict(text: string, opts: PredictOptions = {}): Scored[] {
    this.net.logitsInto(checkText(text), this.out);
    return this.ranker.rank(opts.topK);
  }

  predictBatch(texts: readonly string[], opts: PredictOptions = {}): Scored[][] {
    if (!Array.isArray(texts)) throw new TypeError('predictBatch needs an array of strings');
    return texts.map((t) => this.predict(t, opts));
  }
}

export class SlimMultiTaskModel {
  readonly multiTask = true;
  readonly kind = 'multitask';
  /** Task names, in the bundle's order. */
  readonly tasks: readonly string[];
  /** Each task's labels, in logit order. */
  readonly labels: Readonly<Record<string, readonly string[]>>;
  private readonly outs: Float32Array[];
  private readonly rankers: Ranker[];
  private readonly index = new Map<string, number>();

  constructor(readonly manifest: SlimManifest, private readonly net: MultiTaskRuntime) {
    this.tasks = net.tasks.map((t) => t.name);
    this.labels = Object.fromEntries(net.tasks.map((t) => [t.name, t.labels]));
    this.outs = net.tasks.map((t) => new Float32Array(t.labels.length));
    this.rankers = net.tasks.map((t, k) => new Ranker(this.outs[k]!, t.labels));
    this.tasks.forEach((t, k) => this.index.set(t, k));
  }

  /** Raw logits per asked task (new arrays). */
  logits(text: string, opts: { tasks?: readonly string[] } = {}): Record<string, Float32Array> {
    const which = this.run(text, opts.tasks);
    return Object.fromEntries(which.map((k) => [this.tasks[k]!, this.outs[k]!.slice()]));
  }

  /** Per asked task, its labels with softmax scores, best first. */
  predict(text: string, opts: MultiTaskPredictOptions = {}): Record<string, Scored[]> {
    const which = this.run(text, opts.tasks);
    return Object.fromEntries(which.map((k) => [this.tasks[k]!, this.rankers[k]!.rank(opts.topK)]));
  }

  predictBatch(texts: readonly string[], opts: MultiTaskPredictOptions = {}): Record<string, Scored[]>[] {
    if (!Array.isArray(texts)) throw new TypeError('predictBatch needs an array of strings');
    return texts.map((t) => this.predict(t, opts));
  }

  private run(text: string, tasks: readonly string[] | undefined): number[] {
    const which = (tasks ?? this.tasks).map((t) => {
      const k = this.index.get(t);
      if (k === undefined) throw new RangeError(`no task ${JSON.stringify(t)} in this bundle (tasks: ${this.tasks.join(', ')})`);
      return k;
    });
    this.net.logitsInto(checkText(text), which, which.map((k) => this.outs[k]!));
    return which;
  }
}

/** Parses and checks a bundle; throws BundleError saying what is wrong with a bad one. */
export async function loadBundle(bytes: Uint8Array | ArrayBuffer, opts: RuntimeOptions = {}): Promise<LoadedModel> {
  return loadBundleSync(bytes, opts);
}

export function loadBundleSync(bytes: Uint8Array | ArrayBuffer, opts: RuntimeOptions = {}): LoadedModel {
  const c = parseContainer(toBytes(bytes));
  const m = c.manifest;
  if (m.kind === 'multitask' && m.transformer && Array.isArray(m.tasks) && m.tasks.length > 0) return new SlimMultiTaskModel(m, new MultiTaskRuntime(m.transformer, m.tasks, c));
  if (!Array.isArray(m.labels) || m.labels.length === 0 || m.labels.some((l) => typeof l !== 'string')) throw new BundleError('bundle is corrupted: no labels');
  if (m.kind === 'dan' && m.dan) return new SlimModel(m, new DanRuntime(m.dan, c, m.labels.length, opts));
  if (m.kind === 'transformer' && m.transformer) return new SlimModel(m, new TransformerRuntime(m.transformer, c, m.labels.length));
  throw new BundleError(`bundle holds a ${JSON.stringify(m.kind)} model, which this runtime does not know: update slimtext`);
}

/** The model of a single-task bundle; a BundleError naming the tasks for a multi-task one. */
export function singleTask(model: LoadedModel): SlimModel {
  if (model.multiTask) throw new BundleError(`this bundle holds a multi-task model (tasks: ${model.tasks.join(', ')}): its predict answers per task`);
  return model;
}

function checkText(text: string): string {
  if (typeof text !== 'string') throw new TypeError(`predict needs a string, got ${text === null ? 'null' : typeof text}`);
  return text;
}
