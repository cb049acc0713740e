/**
 * `slimtext merge` as library calls: branch models (classifiers fine-tuned on a frozen trunk, or
 * distilled from one) become one multi-task model folder (models/multiTask.ts), and one task is
 * later added, replaced or removed without touching any other task's bytes.
 *
 * Every branch proves its trunk: the identity recorded at fine-tuning (train/trunk.ts) must match
 * both the branch's own frozen tensors (recomputed here) and every other branch's on the layers
 * they share. Writing goes through the bundle writer: branch files are content-named and an
 * unchanged one is not rewritten, the manifest is the commit point, so a crash leaves the old
 * model as it was.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError, SlimtextError } from '../../errors.js';
import { bundleFile, readBundle, writeBundle, type BundleManifest } from '../../io/bundle.js';
import { bertConfigToJson, type BertConfig } from '../../io/hfCheckpoint.js';
import type { SafeTensor, TensorToWrite } from '../../io/safetensors.js';
import {
  MULTITASK_KIND, MULTITASK_TASK, MULTITASK_VERSION, TASK_NAME, isBranchTensor, parseMultiTaskArchitecture,
  type BranchSpec, type MultiTaskArchitecture,
} from '../../models/multiTask.js';
import { loadTaskModel } from '../../models/taskModel.js';
import { parseTrunkIdentity, trunkIdentity, trunkMismatch, type HostTensor, type TrunkIdentity } from '../trunk.js';
import { checkOutputPath } from '../../io/outputPath.js';

export interface BranchSource {
  dir: string;
  /** Task name (default: the folder's name). */
  name?: string;
}

export interface MergeResult {
  out: string;
  tasks: { name: string; start_layer: number; layers: number; labels: number; weights: string }[];
  trunkLayers: number;
  trunkId: string;
  /** Weight files written by this call (an unchanged branch's file is not among them). */
  written: string[];
}

export interface ChangeOps {
  add?: readonly BranchSource[];
  update?: readonly BranchSource[];
  remove?: readonly string[];
}

/** Merges branch folders into a new multi-task model in `out`. */
export async function mergeBranches(out: string, sources: readonly BranchSource[], opts: { overwrite?: boolean } = {}): Promise<MergeResult> {
  if (sources.length === 0) throw new SlimtextError('merge: give at least one branch folder');
  checkOutputPath(out, { kind: 'folder', overwrite: opts.overwrite });
  const branches: Branch[] = [];
  for (const s of sources) branches.push(await readBranch(s));
  return write(out, branches, undefined, []);
}

/** Adds, replaces or removes tasks of the multi-task model in `dir`; other tasks keep their bytes. */
export async function changeBranches(dir: string, ops: ChangeOps): Promise<MergeResult> {
  const current = await readMultiTask(dir);
  let branches = [...current.branches];
  const names = () => branches.map((b) => b.name).join(', ');
  for (const name of ops.remove ?? []) {
    if (!branches.some((b) => b.name === name)) throw new InputError(dir, undefined, 'task', `no task '${name}' to remove (tasks: ${names()})`);
    branches = branches.filter((b) => b.name !== name);
  }
  for (const s of ops.update ?? []) {
    const b = await readBranch(s);
    const i = branches.findIndex((x) => x.name === b.name);
    if (i < 0) throw new InputError(dir, undefined, 'task', `no task '${b.name}' to update (tasks: ${names()}); add it with --add`);
    branches[i] = b;
  }
  for (const s of ops.add ?? []) {
    const b = await readBranch(s);
    if (branches.some((x) => x.name === b.name)) throw new InputError(dir, undefined, 'task', `task '${b.name}' is already in the model (from ${s.dir}): replace it with --update, or name it with NAME=DIR`);
    branches.push(b);
  }
  if (branches.length === 0) throw new InputError(dir, undefined, 'task', 'removing every task would leave an empty model');
  return write(dir, branches, current, current.tokenizerFiles);
}

// ------------------------------------------------------------------------------------------------

/** A branch as merge needs it: identity, config, spec and tensors (trunk part and own part). */
interface Branch {
  name: string;
  /** Where it came from (a branch folder, or the multi-task model it already sits in). */
  origin: string;
  trunk: TrunkIdentity;
  config: BertConfig;
  maxLength: number;
  spec: Omit<BranchSpec, 'weights' | 'name'>;
  /** bert.embeddings.* and bert.encoder.layer.K.* for K < start (empty for a branch read from a merged model). */
  trunkTensors: Map<string, HostTensor>;
  own: Map<string, HostTensor>;
  tokenizerFiles: string[];
}

interface CurrentModel {
  branches: Branch[];
  trunkTensors: Map<string, HostTensor>;
  trunk: TrunkIdentity;
  config: BertConfig;
  tokenizerFiles: string[];
}

async function readBranch(src: BranchSource): Promise<Branch> {
  const dir = src.dir;
  const name = src.name ?? basename(dir.replace(/[/\\]+$/, ''));
  if (!TASK_NAME.test(name)) throw new InputError(dir, undefined, 'name', `'${name}' is not a usable task name (letters, digits, _ . -; name it with NAME=DIR)`);
  const bundle = await readBundle(dir);
  const m = bundle.manifest;
  const file = join(dir, 'slimtext.json');
  if (m.task !== 'classify' || m.architecture.kind !== 'sequence-classifier') {
    throw new InputError(file, undefined, 'task', `task '${name}': only single-text classifiers can be branches (this model: task '${m.task}', ${String(m.architecture.kind)})`);
  }
  const recorded = parseTrunkIdentity(m.architecture.trunk);
  if (!recorded) {
    throw new InputError(file, undefined, 'architecture.trunk', `task '${name}': not a branch (no trunk identity): fine-tune it with --freeze-embeddings [--freeze-layers K] so that its trunk stays frozen`);
  }
  // Names, shapes and every tensor the architecture needs: the model loader's checks.
  const { model: tm } = await loadTaskModel(dir);
  if (tm.task !== 'classify') throw new InputError(file, undefined, 'task', `task '${name}': not a classifier`);
  const tokenizerFiles = m.tokenizer.files.map((f) => bundleFile(dir, m, f) ?? join(dir, f));
  const tensors = hostTensors(bundle.tensors);
  const actual = trunkIdentity(tensors, recorded.start_layer, tokenizerFiles);
  if (actual.id !== recorded.id) {
    throw new InputError(join(dir, m.weights), undefined, 'architecture.trunk', `task '${name}': the frozen tensors or tokenizer do not match the trunk identity recorded in slimtext.json (${trunkMismatch(actual, recorded) ?? 'hash differs'})`);
  }
  const config = tm.model.bert.currentConfig();
  if (recorded.start_layer > config.numLayers) throw new InputError(file, undefined, 'architecture.trunk.start_layer', `task '${name}': ${recorded.start_layer} is deeper than the model's ${config.numLayers} layers`);
  const trunkTensors = new Map<string, HostTensor>();
  const own = new Map<string, HostTensor>();
  for (const n of [...tensors.keys()].sort()) (isBranchTensor(n, recorded.start_layer) ? own : trunkTensors).set(n, tensors.get(n)!);
  return {
    name, origin: dir, trunk: recorded, config, maxLength: tm.maxLength, tokenizerFiles, trunkTensors, own,
    spec: {
      labels: [...tm.labels], start_layer: recorded.start_layer, layers: config.numLayers - recorded.start_layer,
      pooling: tm.model.pooling, use_pooler: tm.model.usePooler, dropout: tm.model.dropout.p,
      source: { dir, recipe: m.recipe, metrics: m.metrics },
    },
  };
}

async function readMultiTask(dir: string): Promise<CurrentModel> {
  const bundle = await readBundle(dir);
  const m = bundle.manifest;
  const file = join(dir, 'slimtext.json');
  if (m.task !== MULTITASK_TASK) throw new InputError(file, undefined, 'task', `not a multi-task model (task '${m.task}'); make one with slimtext merge --out DIR BRANCH_DIR...`);
  const { arch, config } = parseMultiTaskArchitecture(m.architecture, file);
  const trunk = parseTrunkIdentity(arch.trunk);
  if (!trunk) throw new InputError(file, undefined, 'architecture.trunk', 'missing or malformed trunk identity');
  const tokenizerFiles = m.tokenizer.files.map((f) => bundleFile(dir, m, f) ?? join(dir, f));
  const trunkTensors = hostTensors(bundle.tensors);
  const branches: Branch[] = [];
  for (const spec of arch.tasks) {
    const t = await bundle.weightsOf(spec.weights);
    if (!t) throw new InputError(file, undefined, `architecture.tasks.${spec.name}.weights`, `task '${spec.name}': no weight file '${spec.weights}'`);
    const { name, weights: _w, ...rest } = spec;
    branches.push({ name, origin: dir, trunk, config, maxLength: arch.max_length, spec: rest, trunkTensors: new Map(), own: hostTensors(t), tokenizerFiles });
  }
  return { branches, trunkTensors, trunk, config, tokenizerFiles };
}

/** Checks that the branches share one trunk, then writes the model (trunk to the deepest start). */
async function write(out: string, branches: Branch[], current: CurrentModel | undefined, keptTokenizer: string[]): Promise<MergeResult> {
  // The reference every branch is checked against: the existing model, else the first branch.
  const ref = current
    ? { origin: out, trunk: current.trunk, config: current.config, maxLength: current.branches[0]?.maxLength ?? branches[0]!.maxLength }
    : branches[0]!;
  const seen = new Map<string, string>();
  for (const b of branches) {
    const other = seen.get(b.name);
    if (other !== undefined) throw new InputError(b.origin, undefined, 'name', `task '${b.name}' is also the name of ${other}: give one another name with NAME=DIR`);
    seen.set(b.name, b.origin);
  }
  for (const b of branches) {
    for (const o of [ref, ...branches]) {
      if (o === b) continue;
      const why = configMismatch(o.config, b.config) ?? trunkMismatch(o.trunk, b.trunk) ?? (o.maxLength !== b.maxLength ? `their maximum lengths differ (${o.maxLength} and ${b.maxLength})` : undefined);
      if (why) throw new SlimtextError(`${o.origin} and ${b.origin} do not share a trunk: ${why}`);
    }
  }
  // Trunk tensors up to the deepest start, from whichever source holds those layers.
  const depth = Math.max(...branches.map((b) => b.spec.start_layer));
  const sources = [...(current ? [{ tensors: current.trunkTensors, depth: current.trunk.start_layer }] : []), ...branches.map((b) => ({ tensors: b.trunkTensors, depth: b.trunk.start_layer }))];
  const deepest = sources.filter((s) => s.tensors.size > 0).sort((a, b) => b.depth - a.depth)[0]!;
  const trunk = new Map<string, TensorToWrite>();
  for (const n of [...deepest.tensors.keys()].sort()) if (!isBranchTensor(n, depth)) trunk.set(n, deepest.tensors.get(n)!);
  const tokenizerFiles = keptTokenizer.length ? keptTokenizer : branches[0]!.tokenizerFiles;
  const identity = trunkIdentity(trunk as Map<string, HostTensor>, depth, tokenizerFiles);
  const config: BertConfig = { ...ref.config, numLayers: depth };
  const tasks: BranchSpec[] = branches.map((b) => ({ name: b.name, ...b.spec, weights: `branch-${b.name}` }));
  const architecture: MultiTaskArchitecture = {
    kind: MULTITASK_KIND, version: MULTITASK_VERSION, encoder: { config: bertConfigToJson(config) }, max_length: ref.maxLength,
    trunk: identity as unknown as Record<string, unknown>, tasks,
  };
  const before = existsSync(join(out, 'slimtext.json')) ? safeManifest(out) : undefined;
  const m = await writeBundle(out, {
    task: MULTITASK_TASK,
    architecture: architecture as unknown as Record<string, unknown>,
    tensors: trunk,
    weightFiles: Object.fromEntries(branches.map((b) => [`branch-${b.name}`, b.own as Map<string, TensorToWrite>])),
    tokenizerFiles,
    notes: [`one trunk of ${depth} layers (trunk ${identity.id.slice(0, 12)}) shared by ${branches.length} task${branches.length > 1 ? 's' : ''}: ${tasks.map((t) => `${t.name} (+${t.layers} layer${t.layers === 1 ? '' : 's'} from layer ${t.start_layer})`).join(', ')}`],
  });
  const files = [m.weights, ...Object.values(m.weight_files ?? {})];
  return {
    out, trunkLayers: depth, trunkId: identity.id, written: files.filter((f) => before?.files[f]?.sha256 !== m.files[f]!.sha256),
    tasks: tasks.map((t) => ({ name: t.name, start_layer: t.start_layer, layers: t.layers, labels: t.labels.length, weights: m.weight_files![t.weights]! })),
  };
}

/** Why two encoder configs cannot share a trunk (depth aside). */
function configMismatch(a: BertConfig, b: BertConfig): string | undefined {
  const ja = bertConfigToJson({ ...a, numLayers: 0 });
  const jb = bertConfigToJson({ ...b, numLayers: 0 });
  const diff = Object.keys({ ...ja, ...jb }).filter((k) => JSON.stringify(ja[k]) !== JSON.stringify(jb[k]));
  return diff.length ? `their encoder configs differ (${diff.map((k) => `${k}: ${JSON.stringify(ja[k])} vs ${JSON.stringify(jb[k])}`).join(', ')})` : undefined;
}

function hostTensors(t: Map<string, SafeTensor>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [n, v] of t) {
    if (!(v.data instanceof Float32Array)) throw new SlimtextError(`tensor ${n} is ${v.dtype}, expected float32`);
    out.set(n, { shape: v.shape, data: v.data });
  }
  return out;
}

function safeManifest(dir: string): BundleManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'slimtext.json'), 'utf8')) as BundleManifest;
  } catch {
    return undefined;
  }
}
