/**
 * A multi-task model (CentraBert-style): one frozen BERT trunk run once per input, plus one small
 * branch per task (its own top encoder layers, optional pooler and classifier) attached at the
 * depth where that task's fine-tuning started. Written by `slimtext merge` (train/multitask/), read
 * here; everything that loads a model loads one (models/anyModel.ts).
 *
 *   slimtext.json               task 'multitask', architecture {kind 'multi-task', version, encoder
 *                               (trunk depth), max_length, trunk (identity), tasks: [{name, labels,
 *                               start_layer, layers, pooling, use_pooler, dropout, weights}]}
 *   model-<hash>.safetensors    the trunk: bert.embeddings.*, bert.encoder.layer.0..D-1.*
 *   branch-<task>-<hash>.safetensors
 *                               one file per task, under the standalone branch model's own names
 *                               (bert.encoder.layer.K.* for K >= start_layer, bert.pooler.*,
 *                               classifier.*), so a task changes without touching the others' bytes
 *
 * In memory each task is a SequenceClassifier whose embeddings and bottom layers ARE the trunk's
 * modules (shared, not copied): a task view is exactly the standalone branch model, and the
 * all-tasks pass runs the trunk once and each branch from the trunk's state at its depth.
 */
import { join } from 'node:path';
import { noGrad, type Parameter } from '../engine/index.js';
import { FastBert, type PackedHidden, type Quantize } from './bert/fastForward.js';
import { InputError } from '../errors.js';
import { readBundle, type BundleManifest } from '../io/bundle.js';
import { bertConfigToJson, parseBertConfig, type BertConfig } from '../io/hfCheckpoint.js';
import type { SafeTensor } from '../io/safetensors.js';
import { loadTokenizer, type WordPieceTokenizer } from '../text/tokenizer.js';
import { BertModel } from './bert/model.js';
import { SequenceClassifier } from './classifier.js';
import { POOLINGS, type Pooling } from './heads/pooling.js';
import { softmaxRows } from './inference.js';
import type { ClassifierTaskModel } from './taskModel.js';
import { lengthSortedBatches, padRows, tokenizeAll, type TokenizedSet } from './textBatch.js';

export const MULTITASK_TASK = 'multitask';
export const MULTITASK_KIND = 'multi-task';
export const MULTITASK_VERSION = 1;

/** One task's entry in the manifest. */
export interface BranchSpec {
  name: string;
  labels: string[];
  /** Trunk depth the branch starts from (its layers are start_layer .. start_layer + layers - 1). */
  start_layer: number;
  layers: number;
  pooling: Pooling;
  use_pooler: boolean;
  dropout: number;
  /** Key of the branch's weight file in the manifest's weight_files. */
  weights: string;
  /** Where the branch came from, its recipe and dev metrics (informative). */
  source?: Record<string, unknown>;
}

export interface MultiTaskArchitecture {
  kind: typeof MULTITASK_KIND;
  version: number;
  /** The trunk's encoder config (num_hidden_layers = trunk depth). */
  encoder: { config: Record<string, unknown> };
  max_length: number;
  /** The trunk identity (train/trunk.ts) at its full depth. */
  trunk: Record<string, unknown>;
  tasks: BranchSpec[];
}

export interface TaskBranch {
  spec: BranchSpec;
  /** The standalone model: trunk modules below start_layer, the branch's own above. */
  model: SequenceClassifier;
}

/** A name a task may have: it becomes part of a file name. */
export const TASK_NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;

/** Tensor names of a branch (what its weight file holds) for a standalone classifier's names. */
export function isBranchTensor(name: string, startLayer: number): boolean {
  const m = /^bert\.encoder\.layer\.(\d+)\./.exec(name);
  if (m) return Number(m[1]) >= startLayer;
  return !name.startsWith('bert.embeddings.');
}

export class MultiTaskModel {
  readonly task = MULTITASK_TASK;
  private readonly byName = new Map<string, TaskBranch>();

  constructor(
    readonly dir: string,
    readonly trunk: BertModel,
    readonly branches: readonly TaskBranch[],
    readonly tokenizer: WordPieceTokenizer,
    readonly maxLength: number,
    readonly manifest?: BundleManifest,
  ) {
    for (const b of branches) this.byName.set(b.spec.name, b);
  }

  get taskNames(): string[] {
    return this.branches.map((b) => b.spec.name);
  }

  /** The branch of one task, or an error naming the model folder and the tasks it has. */
  branch(name: string): TaskBranch {
    const b = this.byName.get(name);
    if (!b) throw new InputError(this.dir, undefined, 'task', `no task '${name}' in this multi-task model (tasks: ${this.taskNames.join(', ')})`);
    return b;
  }

  /** One task as an ordinary classifier model (shares the trunk's modules). */
  view(name: string): ClassifierTaskModel {
    const b = this.branch(name);
    return { task: 'classify', model: b.model, labels: b.spec.labels, tokenizer: this.tokenizer, maxLength: this.maxLength };
  }

  /** Checks a --tasks list (default: every task). */
  select(names?: readonly string[]): TaskBranch[] {
    return (names && names.length ? names : this.taskNames).map((n) => this.branch(n));
  }

  /**
   * Logits of every row of `set` for each chosen task, (N, C_task) row-major: the trunk runs once
   * per batch, each branch from the trunk's hidden state at its start layer, on the same inference
   * path as a standalone model (so the two are compared like for like).
   */
  logits(set: TokenizedSet, tasks: readonly TaskBranch[], batchSize = 64, quantize: Quantize = 'none'): Float32Array[] {
    const N = set.lengths.length;
    const out = tasks.map((t) => new Float32Array(N * t.spec.labels.length));
    const starts = [...new Set(tasks.map((t) => t.spec.start_layer))].sort((a, b) => a - b);
    const depth = starts.length ? starts[starts.length - 1]! : 0;
    const padId = this.tokenizer.padId >= 0 ? this.tokenizer.padId : 0;
    const trunk = this.fastOf(this.trunk, quantize);
    const branches = tasks.map((t) => this.fastOf(t.model.bert, quantize));
    const modules = tasks.map((t) => t.model);
    const modes = modules.map((m) => m.training);
    modules.forEach((m) => m.train(false));
    try {
      for (const rows of lengthSortedBatches(set.lengths, batchSize)) {
        noGrad(() => {
          const batch = padRows(set, rows, padId);
          const T = batch.ids.shape[1]!;
          const at = new Map<number, PackedHidden>();
          let h = trunk.embed(batch);
          for (let i = 0; ; i++) {
            if (starts.includes(i)) at.set(i, h);
            if (i >= depth) break;
            h = trunk.encode(h, i, i + 1); // a new array: the state kept at i stays as it was
          }
          tasks.forEach((t, k) => {
            const C = t.spec.labels.length;
            const f = branches[k]!;
            const last = f.unpack(f.encode(at.get(t.spec.start_layer)!, t.spec.start_layer, f.numLayers), T);
            const logits = t.model.head(last, batch.attentionMask).data;
            rows.forEach((r, j) => out[k]!.set(logits.subarray(j * C, (j + 1) * C), r * C));
          });
        });
      }
    } finally {
      modules.forEach((m, i) => m.train(modes[i]));
    }
    return out;
  }

  /**
   * The tape-free inference path (bert/fastForward.ts) of the trunk or of a branch's encoder, the
   * path a standalone model serves on, prepared once (a loaded model's weights do not change).
   * A branch's copy packs the trunk's layers too, unused: the trunk runs once, on its own copy.
   */
  private readonly fast = { none: new WeakMap<BertModel, FastBert>(), int8: new WeakMap<BertModel, FastBert>() };

  private fastOf(m: BertModel, quantize: Quantize): FastBert {
    let f = this.fast[quantize].get(m);
    if (!f) {
      f = FastBert.prepare(m, { quantize });
      this.fast[quantize].set(m, f);
    }
    return f;
  }

  /** Texts -> for each chosen task, its softmax probabilities (N, C). */
  probabilities(texts: readonly string[], tasks: readonly TaskBranch[], batchSize = 64, quantize: Quantize = 'none'): Float32Array[] {
    const set = tokenizeAll(this.tokenizer, texts, undefined, this.maxLength);
    return this.logits(set, tasks, batchSize, quantize).map((l, k) => softmaxRows(l, tasks[k]!.spec.labels.length));
  }
}

/**
 * Builds a task's standalone classifier on a trunk: a BERT of depth start + layers whose embeddings
 * and bottom `start` layers are the trunk's own modules.
 */
export function branchOnTrunk(trunk: BertModel, spec: Pick<BranchSpec, 'start_layer' | 'layers' | 'pooling' | 'use_pooler' | 'dropout' | 'labels'>): SequenceClassifier {
  const config: BertConfig = { ...trunk.config, numLayers: spec.start_layer + spec.layers };
  const bert = new BertModel(config, { pooler: spec.use_pooler, skipInit: true });
  // Shared, not copied: the same module objects, so the trunk's bytes exist once in memory.
  (bert as { embeddings: BertModel['embeddings'] }).embeddings = trunk.embeddings;
  bert.encoder.layer.splice(0, spec.start_layer, ...trunk.encoder.layer.slice(0, spec.start_layer));
  return new SequenceClassifier(bert, { numLabels: spec.labels.length, usePooler: spec.use_pooler, pooling: spec.pooling, dropout: spec.dropout });
}

/** Parses and checks a multi-task architecture; errors name the manifest and field. */
export function parseMultiTaskArchitecture(a: Record<string, unknown>, file: string): { arch: MultiTaskArchitecture; config: BertConfig } {
  const bad = (field: string, why: string): never => {
    throw new InputError(file, undefined, field, why);
  };
  if (a.kind !== MULTITASK_KIND) bad('architecture.kind', `expected '${MULTITASK_KIND}', got ${JSON.stringify(a.kind)}`);
  if (typeof a.version !== 'number' || a.version < 1) bad('architecture.version', 'missing');
  if ((a.version as number) > MULTITASK_VERSION) bad('architecture.version', `version ${String(a.version)} was written by a newer slimtext; this one reads up to ${MULTITASK_VERSION}`);
  const enc = a.encoder as { config?: Record<string, unknown> } | undefined;
  if (!enc || typeof enc.config !== 'object' || enc.config === null) bad('architecture.encoder', 'missing the encoder config');
  const config = parseBertConfig(enc!.config!, `${file} (architecture.encoder.config)`);
  if (!(typeof a.max_length === 'number' && a.max_length > 2)) bad('architecture.max_length', 'missing or too small');
  if (!Array.isArray(a.tasks) || a.tasks.length === 0) bad('architecture.tasks', 'expected a non-empty list of tasks');
  const seen = new Set<string>();
  for (const [i, t] of (a.tasks as BranchSpec[]).entries()) {
    const f = `architecture.tasks[${i}]`;
    if (typeof t?.name !== 'string' || !TASK_NAME.test(t.name)) bad(`${f}.name`, 'missing or not a usable task name');
    if (seen.has(t.name)) bad(`${f}.name`, `task '${t.name}' appears twice`);
    seen.add(t.name);
    if (!Array.isArray(t.labels) || t.labels.length === 0 || t.labels.some((l) => typeof l !== 'string')) bad(`${f}.labels`, `task '${t.name}': expected a list of labels`);
    if (!Number.isInteger(t.start_layer) || t.start_layer < 0 || t.start_layer > config.numLayers) bad(`${f}.start_layer`, `task '${t.name}': must be in 0..${config.numLayers} (the trunk's depth)`);
    if (!Number.isInteger(t.layers) || t.layers < 0) bad(`${f}.layers`, `task '${t.name}': must be a whole number`);
    if (!POOLINGS.includes(t.pooling)) bad(`${f}.pooling`, `task '${t.name}': expected one of ${POOLINGS.join(', ')}`);
    if (typeof t.weights !== 'string') bad(`${f}.weights`, `task '${t.name}': missing`);
  }
  return { arch: a as unknown as MultiTaskArchitecture, config };
}

/** Loads a multi-task model folder; every tensor is checked against the architecture. */
export async function loadMultiTask(dir: string): Promise<MultiTaskModel> {
  const bundle = await readBundle(dir);
  const m = bundle.manifest;
  const file = join(dir, 'slimtext.json');
  const { arch, config } = parseMultiTaskArchitecture(m.architecture, file);
  const tokenizer = loadTokenizer(dir, { maxLength: arch.max_length });
  const trunk = new BertModel(config, { pooler: false, skipInit: true });
  fill(trunk.namedParameters('bert'), bundle.tensors, join(dir, m.weights));
  const branches: TaskBranch[] = [];
  for (const spec of arch.tasks) {
    const tensors = await bundle.weightsOf(spec.weights);
    if (!tensors) throw new InputError(file, undefined, `architecture.tasks.${spec.name}.weights`, `task '${spec.name}': weight file '${spec.weights}' is not in weight_files`);
    const model = branchOnTrunk(trunk, spec);
    const own = model.namedParameters().filter(([name]) => isBranchTensor(name, spec.start_layer));
    fill(own, tensors, join(dir, m.weight_files![spec.weights]!), spec.name);
    model.eval();
    branches.push({ spec, model });
  }
  trunk.eval();
  return new MultiTaskModel(dir, trunk, branches, tokenizer, arch.max_length, m);
}

/** The trunk's architecture entry for a config and depth. */
export function encoderJson(config: BertConfig): { config: Record<string, unknown> } {
  return { config: bertConfigToJson(config) };
}

/** Copies tensors into parameters, checking names and shapes both ways; errors name the file, task and tensor. */
function fill(params: [string, Parameter][], tensors: Map<string, SafeTensor>, file: string, task?: string): void {
  const names = new Set<string>();
  const who = task ? `task '${task}': ` : '';
  for (const [name, p] of params) {
    names.add(name);
    const t = tensors.get(name);
    if (!t) throw new InputError(file, undefined, name, `${who}missing tensor, which the architecture needs`);
    if (!(t.data instanceof Float32Array) || t.shape.join(',') !== p.shape.join(',')) {
      throw new InputError(file, undefined, name, `${who}shape [${t.shape.join(', ')}] (${t.dtype}) but the architecture needs [${p.shape.join(', ')}] float`);
    }
    p.load(t.data);
  }
  const extra = [...tensors.keys()].filter((n) => !names.has(n));
  if (extra.length) throw new InputError(file, undefined, undefined, `${who}tensors the architecture does not use: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
}
